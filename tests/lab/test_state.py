"""Lab state is data its own user wrote; names, addresses and state never reach `ip` raw.

No kernel needed: these build state directories by hand (as root, `chown` plays the other user).
"""

from __future__ import annotations

import ipaddress
import json
import os
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.cli.main import cli
from podwall.errors import DataplaneError, InputError
from podwall.lab import snapshot, topology
from podwall.lab.addresses import check_addresses, external_addresses
from podwall.lab.lab import Lab
from podwall.lab.store import Store, UnsafeStateError
from podwall.model import Cluster, Endpoint, Labels, build_cluster
from tests.lab.names import next_name
from tests.strategies import clusters

NOBODY = 65534
MARKER = Path("/tmp") / f"pw-planted-{os.getpid()}"


class Planted:
    """A pickle that, once loaded, creates MARKER: what an attacker's `cluster.pickle` does."""

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(MARKER), "w"))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state_root = tmp_path / "labs"
    state_root.mkdir(mode=0o700)
    monkeypatch.setenv("PODWALL_LAB_STATE", str(state_root))
    return state_root


def plant(root: Path, name: str) -> Path:
    """A lab directory that looks up: state, snapshot, and a hostile `cluster.pickle`."""
    directory = root / name
    directory.mkdir(mode=0o700)
    state = {"name": name, "pods": {}, "externals": {}, "next_pod": 0, "next_external": 0}
    (directory / "state.json").write_text(json.dumps(state))
    (directory / "cluster.json").write_text(json.dumps(snapshot.dump(build_cluster([], [], []))))
    (directory / "cluster.pickle").write_bytes(pickle.dumps(Planted()))
    return directory


def test_a_planted_pickle_is_never_loaded(root: Path) -> None:
    name = next_name()
    plant(root, name)
    MARKER.unlink(missing_ok=True)
    try:
        assert Lab(name).cluster().endpoints == ()
        assert not MARKER.exists()
    finally:
        MARKER.unlink(missing_ok=True)


@pytest.mark.parametrize("where", ["root", "lab", "file"])
@pytest.mark.parametrize("how", ["owner", "mode", "symlink"])
def test_state_another_user_could_write_is_refused(root: Path, where: str, how: str) -> None:
    name = next_name()
    directory = plant(root, name)
    target = {"root": root, "lab": directory, "file": directory / "state.json"}[where]
    if how == "owner":
        os.chown(target, NOBODY, NOBODY)
    elif how == "mode":
        target.chmod(0o777 if target.is_dir() else 0o666)
    else:
        real = target.with_name(target.name + ".real")
        target.rename(real)
        target.symlink_to(real)
    with pytest.raises(UnsafeStateError, match="refusing lab state"):
        Lab(name).load_state()
    result = CliRunner().invoke(cli, ["lab", "status", "--name", name])
    assert result.exit_code == 2 and "refusing lab state" in result.output, result.output
    assert "Traceback" not in result.output


def test_the_store_writes_private_files_whole(root: Path) -> None:
    store = Store(root, next_name())
    store.write_json("state.json", {"a": 1})
    path = store.path("state.json")
    assert path.stat().st_mode & 0o777 == 0o600 and (path.parent.stat().st_mode & 0o777) == 0o700
    assert store.read_json("state.json") == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left
    with store.locked():
        pass
    assert path.exists()  # the lock leaves real state alone; an empty lab dir goes away:
    empty = Store(root, next_name())
    with empty.locked():
        assert empty.directory.exists()
    assert not empty.directory.exists()


def test_a_tampered_state_never_reaches_ip(root: Path) -> None:
    name = next_name()
    directory = plant(root, name)
    state = json.loads((directory / "state.json").read_text())
    state["pods"]["x/a"] = {"netns": f"pw-{name}-p0\nnetns del x", "ifname": "pw-p0",
                            "ip": "10.0.0.1", "ports": [], "pid": None}
    (directory / "state.json").write_text(json.dumps(state))
    with pytest.raises(DataplaneError, match="damaged"):
        Lab(name).load_state()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(cluster=clusters())
def test_snapshots_round_trip_as_data(cluster: Cluster) -> None:
    again = snapshot.load(json.loads(json.dumps(snapshot.dump(cluster))))
    assert again == cluster
    assert [ep.ip_assigned for ep in again.endpoints] == [ep.ip_assigned for ep in
                                                          cluster.endpoints]


@pytest.mark.parametrize("bad", [None, [], {"version": 1}, {"version": 2},
                                 {**snapshot.dump(build_cluster([], [], [])), "endpoints": [1]}])
def test_a_damaged_snapshot_is_an_error_not_a_traceback(bad: object) -> None:
    with pytest.raises(DataplaneError, match="snapshot"):
        snapshot.load(bad)


# -- names and addresses --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x\n", "x\nnetns", "-x", "X", "a" * 33, "a b", ""])
def test_lab_names_are_matched_whole(name: str) -> None:
    with pytest.raises(InputError, match="invalid lab name"):
        Lab(name)


@pytest.mark.parametrize("arg", ["eth0\n", "a b", "-all", "x;y", ""])
def test_ip_arguments_are_one_word(arg: str) -> None:
    with pytest.raises(DataplaneError, match="ip argument"):
        topology.ip_arg(arg)
    with pytest.raises(DataplaneError, match="ip argument"):
        topology.batch("pw-x-node", [("link", "set", arg, "up")])


def pod_at(ip: str) -> Cluster:
    ep = Endpoint("x", "a", Labels({}), (), ipaddress.ip_address(ip))
    return build_cluster([], [ep], [], pod_cidr="10.7.0.0/16")


@pytest.mark.parametrize("ip", ["255.255.255.255", "0.0.0.0", "127.0.0.5", "224.0.0.1",
                                "10.7.0.0", "10.7.255.255", "169.254.1.1", "240.0.0.1"])
def test_pod_ips_that_are_no_pods_own_are_refused_with_a_field_path(ip: str) -> None:
    with pytest.raises(InputError, match=rf'Pod x/a: status.podIP: Invalid value: "{ip}"'):
        check_addresses(pod_at(ip), [])


def test_an_external_with_a_pods_ip_names_the_pod() -> None:
    with pytest.raises(InputError, match=r"--external 10\.7\.1\.1 is the IP of Pod x/a"):
        check_addresses(pod_at("10.7.1.1"), external_addresses(["10.7.1.1"]))
    with pytest.raises(InputError, match="broadcast"):
        external_addresses(["255.255.255.255"])
    assert external_addresses([" 192.0.2.10", "192.0.2.10"]) == ["192.0.2.10"]


def test_lab_up_refuses_a_broadcast_pod_ip_before_creating_anything(root: Path,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n"
                    "status: {podIP: 255.255.255.255}\n")
    name = next_name()
    result = CliRunner().invoke(cli, ["lab", "up", str(path), "--name", name])
    assert result.exit_code == 2, result.output
    assert 'status.podIP: Invalid value: "255.255.255.255"' in result.output
    assert not (root / name).exists()
    assert not [n for n in topology.netns_list() if Lab(name).owns(n)]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(name=st.text(max_size=40))
def test_any_lab_name_is_refused_or_safe_for_ip(name: str) -> None:
    try:
        lab = Lab(name)
    except InputError:
        return
    for netns in (lab.node, f"pw-{lab.name}-p0", f"pw-{lab.name}-x0"):
        assert topology.ip_arg(netns) == netns and lab.owns(netns)
