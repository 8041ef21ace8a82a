"""Lab changes are transactions: one lock, check before change, and a killed run is repaired.

Real `podwall lab …` processes (so that they can be killed -9 and run side by side), stopped at
known points by the test hook PODWALL_LAB_TEST_PAUSE (see podwall.lab.topology.checkpoint).
Every lab is named `t<pid>-<N>` and taken down in a fixture, passing or failing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.dataplane import Ruleset
from podwall.errors import DataplaneError
from podwall.lab import lab as lab_module
from podwall.lab import topology
from podwall.lab.lab import Lab
from podwall.model import PortQuery
from tests.lab.names import next_name
from tests.lab.test_lab import cluster_of, pods_yaml

pytestmark = pytest.mark.kernel
PORT = [PortQuery.parse("TCP/80")]
DENY_X = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
          "metadata: {name: deny, namespace: x}\nspec: {podSelector: {}}\n")
NEW_POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: x, labels: {pod: c}}\n"
           "spec:\n  containers:\n  - name: c\n    ports:\n    - {containerPort: 80}\n"
           "status: {podIP: 10.7.1.3}\n")


@pytest.fixture
def lab() -> Iterator[Lab]:
    the_lab = Lab(next_name())
    the_lab.down()
    try:
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {"v1": pods_yaml(), "v2": pods_yaml() + "---\n" + DENY_X + "---\n" + NEW_POD,
                       }.items():
        out[name] = tmp_path / f"{name}.yaml"
        out[name].write_text(text)
    return out


def podwall(*args: str, pause: str | None = None, resume: Path | None = None,
            ) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODWALL_LAB_TEST_")}
    if pause:
        env["PODWALL_LAB_TEST_PAUSE"] = pause
    if resume:
        env["PODWALL_LAB_TEST_RESUME"] = str(resume)
    return subprocess.Popen([sys.executable, "-m", "podwall", "lab", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_paused(proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until the process says it is paused (its first stderr line)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    line = proc.stderr.readline()
    assert "paused at" in line, line + proc.stderr.read()
    assert time.monotonic() < deadline


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def kill9(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def test_two_ups_of_one_name_one_wins_and_the_other_never_destroys_it(
        lab: Lab, files: dict[str, Path], tmp_path: Path) -> None:
    resume = tmp_path / "hold"
    resume.touch()
    first = podwall("up", str(files["v1"]), "--name", lab.name, "--pod-cidr", "10.7.0.0/16",
                    pause="up-locked", resume=resume)
    second = None
    try:
        wait_paused(first)  # it holds the lab's lock and has created nothing yet
        second = podwall("up", str(files["v1"]), "--name", lab.name, "--pod-cidr", "10.7.0.0/16")
        time.sleep(1.0)
        assert second.poll() is None, "the second up must wait for the lock"
        resume.unlink()
        code, _, err = finish(first)
        assert code == 0, err
        code, _, err = finish(second)
        assert code == 2 and "already up" in err, (code, err)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                kill9(proc)
    assert lab.is_up() and lab.verify(PORT).ok  # the winner's lab is whole
    # and without any pause: two at once, again one up, one refused, the lab whole
    lab.down()
    procs = [podwall("up", str(files["v1"]), "--name", lab.name, "--pod-cidr", "10.7.0.0/16")
             for _ in range(2)]
    codes = sorted(finish(p)[0] for p in procs)
    assert codes == [0, 2]
    # node, four pods and the implied CoreDNS pod
    assert len([n for n in topology.netns_list() if lab.owns(n)]) == 6
    assert lab.verify(PORT).ok


def test_an_apply_killed_half_way_is_repaired_by_the_next(lab: Lab, files: dict[str, Path]) -> None:
    lab.up(cluster_of(files["v1"].read_text()))
    proc = podwall("apply", str(files["v2"]), "--name", lab.name, pause="host-namespace-added")
    wait_paused(proc)  # the new pod's namespace exists, without eth0 or address
    kill9(proc)
    assert lab.verify(PORT).ok  # still the old ruleset and pods: nothing half-connected
    again = podwall("apply", str(files["v2"]), "--name", lab.name, "-o", "json")
    code, out, err = finish(again)
    assert code == 0, err
    done = json.loads(out)
    assert done["repaired"] == ["x/c"] and done["action"] == "apply"
    result = lab.verify(PORT)
    assert result.ok and "x/c" in result.kernel.matrix.endpoints
    # the pod that was half-built (a namespace without eth0) now has its address
    entry = lab.load_state()["pods"]["x/c"]
    addr = subprocess.run(["ip", "-n", entry["netns"], "-o", "addr", "show", "dev", "eth0"],
                          capture_output=True, text=True, check=True).stdout
    assert "10.7.1.3/32" in addr


def test_an_up_killed_before_its_ruleset_is_finished_by_apply(lab: Lab,
                                                             files: dict[str, Path]) -> None:
    proc = podwall("up", str(files["v1"]), "--name", lab.name, "--pod-cidr", "10.7.0.0/16",
                   pause="before-ruleset")
    wait_paused(proc)
    kill9(proc)
    code, _, err = finish(podwall("up", str(files["v1"]), "--name", lab.name))
    assert code == 2 and "already up" in err and "apply" in err
    with pytest.raises(DataplaneError, match="no snapshot"):
        lab.verify(PORT)
    code, _, err = finish(podwall("apply", str(files["v1"]), "--name", lab.name))
    assert code == 0, err
    assert lab.verify(PORT).ok


def test_a_ruleset_the_kernel_refuses_changes_nothing(lab: Lab, files: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    lab.up(cluster_of(files["v1"].read_text()))
    before = lab.load_state()
    real = lab_module.compile_ruleset  # type: ignore[attr-defined]

    def refused(*args: object, **kwargs: object) -> Ruleset:
        good = real(*args, **kwargs)  # type: ignore[arg-type]
        return Ruleset(good.template.replace("accept", "acept", 1), good.chains, good.rules,
                       good.sets, good.set_elements)

    monkeypatch.setattr(lab_module, "compile_ruleset", refused)
    smaller = cluster_of("---\n".join(pods_yaml().split("---\n")[:3]))  # x/a and x/b are gone
    with pytest.raises(DataplaneError, match="nft rejects"):
        lab.apply(smaller)
    monkeypatch.undo()
    assert lab.load_state()["pods"] == before["pods"]  # no pod was removed before the refusal
    assert lab.verify(PORT).ok  # not "out of step"


def test_every_lab_verb_speaks_json(lab: Lab, files: dict[str, Path]) -> None:
    code, out, err = finish(podwall("up", str(files["v1"]), "--name", lab.name, "--pod-cidr",
                                    "10.7.0.0/16", "--external", "192.0.2.10", "-o", "json"))
    assert code == 0, err
    up = json.loads(out)
    assert up["action"] == "up" and set(up["pods"]) == {"x/a", "x/b", "y/a", "y/b",
                                                        "kube-system/coredns"}
    assert up["externals"]["192.0.2.10"]["netns"].startswith(f"pw-{lab.name}-x")
    code, out, err = finish(podwall("apply", str(files["v2"]), "--name", lab.name, "-o", "json"))
    assert code == 0, err
    assert json.loads(out)["added"] == ["x/c"]
    code, out, err = finish(podwall("down", "--name", lab.name, "-o", "json"))
    assert code == 0, err
    down = json.loads(out)
    assert down["action"] == "down" and len(down["removed"]) == 8  # with CoreDNS
