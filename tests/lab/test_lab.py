"""Kernel == model: real namespaces, real nftables, real TCP/UDP probes (root only)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from podwall.lab.lab import Lab
from podwall.model import PortQuery
from tests.kernel import requires_kernel

pytestmark = [pytest.mark.kernel, requires_kernel]
ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count()


@pytest.fixture
def lab_name() -> Iterator[str]:
    name = f"t{next(_names)}"
    try:
        yield name
    finally:
        Lab(name).down()  # also when the test failed


def pods_yaml() -> str:
    docs = []
    for ns in ("x", "y"):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{ns: {ns}}}}}\n")
        for i, pod in enumerate(("a", "b")):
            ip = f"10.7.{1 if ns == 'x' else 2}.{i + 1}"
            docs.append(
                f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}, namespace: {ns}, "
                f"labels: {{pod: {pod}}}}}\nspec:\n  containers:\n  - name: c\n    ports:\n"
                "    - {name: web, containerPort: 80}\n    - {name: alt, containerPort: 81}\n"
                "    - {name: dns, containerPort: 53, protocol: UDP}\n"
                f"status: {{podIP: {ip}}}\n")
    return "---\n".join(docs)


def write(tmp_path: Path, policies: str, name: str = "in.yaml") -> str:
    path = tmp_path / name
    path.write_text(pods_yaml() + ("---\n" + policies if policies.strip() else ""))
    return str(path)


PORTS = [PortQuery.parse(p) for p in ("TCP/80", "TCP/81", "UDP/53", "TCP/82")]


def assert_kernel_equals_model(lab: Lab, ports: list[PortQuery] = PORTS) -> dict[str, np.ndarray]:
    kernel, _ = lab.probe(ports)
    _, model = lab.model(kernel.ports)
    tables = {}
    for port in kernel.ports:
        k, m = kernel.dense(port), model.dense(port)
        wrong = [(kernel.endpoints[i], kernel.endpoints[j], bool(k[i, j]))
                 for i, j in zip(*np.nonzero(k != m), strict=True)]
        assert not wrong, f"{port}: kernel differs from model at {wrong}"
        tables[str(port)] = k
    return tables


SCENARIOS = {
    "egress-and-ingress-both-needed": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: closed, namespace: y}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
""",
    "deny-all-and-udp-dns": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: lockdown, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]
    ports: [{protocol: UDP, port: 53}]
""",
    "named-ports-and-end-port": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named, namespace: y}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{port: alt}]
  - from: [{podSelector: {matchLabels: {pod: b}}}]
    ports: [{port: 79, endPort: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-named, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: web}]
""",
    "ip-block-with-except": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cidr, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{ipBlock: {cidr: 10.7.0.0/16, except: [10.7.2.2/32]}}]
  egress:
  - to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
""",
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenarios_kernel_equals_model(scenario: str, lab_name: str, tmp_path: Path) -> None:
    lab = Lab(lab_name)
    lab.up([write(tmp_path, SCENARIOS[scenario])], ["192.0.2.10", "192.0.2.200"], "10.7.0.0/16")
    tables = assert_kernel_equals_model(lab)
    assert not all(t.all() for t in tables.values()), "the scenario should deny something"


def test_three_tier_example_verifies_through_the_cli(lab_name: str) -> None:
    runner = CliRunner()
    up = runner.invoke(cli, ["lab", "up", str(ROOT / "examples/three-tier"), "--name", lab_name,
                             "--external", "192.0.2.10"])
    assert up.exit_code == 0, up.output
    verify = runner.invoke(cli, ["lab", "verify", "--name", lab_name, "-o", "json"])
    assert verify.exit_code == 0, verify.output
    report = json.loads(verify.output)
    assert report["disagreements"] == [] and report["pairsProbed"] > 50
    probe = runner.invoke(cli, ["lab", "probe", "--name", lab_name, "--port", "TCP/5432",
                                "-o", "json"])
    data = json.loads(probe.output)
    names = data["endpoints"]
    grid = data["allowed"]["TCP/5432"]
    assert grid[names.index("shop/api")][names.index("shop/db")] is True
    assert grid[names.index("shop/web")][names.index("shop/db")] is False


def test_apply_relabel_changes_the_kernel_verdict(lab_name: str, tmp_path: Path) -> None:
    policy = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-trusted, namespace: y}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {trusted: "yes"}}}]
"""
    lab = Lab(lab_name)
    lab.up([write(tmp_path, policy)], [], "10.7.0.0/16")
    port = [PortQuery.parse("TCP/80")]
    before = assert_kernel_equals_model(lab, port)["TCP/80"]
    relabelled = write(tmp_path, policy, "v2.yaml")
    text = Path(relabelled).read_text().replace(
        "metadata: {name: b, namespace: x, labels: {pod: b}}",
        "metadata: {name: b, namespace: x, labels: {pod: b, trusted: 'yes'}}")
    Path(relabelled).write_text(text)
    lab.apply([relabelled])
    after = assert_kernel_equals_model(lab, port)["TCP/80"]
    names = lab.probe(port)[0].endpoints
    i, j = names.index("x/b"), names.index("y/a")
    assert not before[i, j] and after[i, j]


def _probe_from(lab: Lab, src: str, dst_ip: str, proto: str, port: int) -> str:
    state = lab.load_state()
    out = subprocess.run(
        ["ip", "netns", "exec", state["pods"][src]["netns"], sys.executable, "-m",
         "podwall.lab.prober"], input=json.dumps({"targets": [[dst_ip, proto, port]],
                                                 "timeout": 0.5}),
        capture_output=True, text=True, check=True).stdout
    return str(json.loads(out)[0])


def test_replies_pass_but_do_not_open_the_reverse_direction(lab_name: str, tmp_path: Path) -> None:
    policy = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
"""
    lab = Lab(lab_name)
    lab.up([write(tmp_path, policy)], [], "10.7.0.0/16")
    # x/b -> x/a: the isolated server answers (TCP handshake and UDP echo come back).
    assert _probe_from(lab, "x/b", "10.7.1.1", "TCP", 80) == "connected"
    assert _probe_from(lab, "x/b", "10.7.1.1", "UDP", 53) == "answered"
    # x/a -> x/b is still denied: x/b's ingress is isolated with no rule.
    assert _probe_from(lab, "x/a", "10.7.1.2", "TCP", 80) == "dropped"


def test_atomic_swaps_never_let_an_always_denied_pair_through(lab_name: str, tmp_path: Path) -> None:
    allow = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: toggle, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
"""
    deny = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: toggle, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: []
"""
    always_denied = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: fortress, namespace: y}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
"""
    versions = [write(tmp_path, allow + always_denied, "allow.yaml"),
                write(tmp_path, deny + always_denied, "deny.yaml")]
    lab = Lab(lab_name)
    lab.up([versions[0]], [], "10.7.0.0/16")
    state = lab.load_state()
    leaks: list[str] = []
    stop = threading.Event()
    probes = [0]

    def hammer() -> None:
        job = json.dumps({"targets": [["10.7.2.2", "TCP", 80]] * 20, "timeout": 0.2})
        while not stop.is_set():
            out = subprocess.run(
                ["ip", "netns", "exec", state["pods"]["x/a"]["netns"], sys.executable, "-m",
                 "podwall.lab.prober"], input=job, capture_output=True, text=True,
                check=True).stdout
            results = json.loads(out)
            probes[0] += len(results)
            leaks.extend(r for r in results if r != "dropped")

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        started = time.monotonic()
        for i in range(50):
            lab.apply([versions[(i + 1) % 2]])
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
    assert probes[0] > 0
    assert not leaks, f"{len(leaks)} of {probes[0]} probes of y/b got through during swaps"
    assert elapsed < 120
    # and the toggled pair really toggled: last version applied was allow (50 swaps, even)
    assert _probe_from(lab, "x/b", "10.7.1.1", "TCP", 80) == "connected"


def test_down_is_idempotent_and_cleans_after_a_torn_state(lab_name: str, tmp_path: Path) -> None:
    lab = Lab(lab_name)
    lab.up([write(tmp_path, "")], [], "10.7.0.0/16")
    (lab.state_dir / "state.json").write_text("{torn")
    assert len(lab.down()) == 5
    assert lab.down() == []
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                            check=False).stdout
    assert f"pw-{lab_name}-" not in listed
