"""Kernel == model: real namespaces, real nftables, real TCP/UDP probes (root only).

Every lab is named `t<pid>-<N>` (see `names.py`) and torn down in a fixture, passing or failing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from podwall.cli.main import cli
from podwall.errors import DataplaneError, Severity
from podwall.lab import topology
from podwall.lab.lab import Lab, Verification
from podwall.manifests import load_cluster
from podwall.model import Cluster, PortQuery, build_cluster
from tests.kernel import AVAILABLE, REASON
from tests.lab.names import next_name
from tests.strategies import clusters

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parents[2]
EXTERNALS = ["192.0.2.10", "192.0.2.200"]


def new_lab() -> Lab:
    lab = Lab(next_name())
    lab.down()  # a clean slate, even after an earlier run that was killed
    return lab


@pytest.fixture
def lab() -> Iterator[Lab]:
    the_lab = new_lab()
    try:
        yield the_lab
    finally:
        the_lab.down()  # also when the test failed


def pods_yaml(extra_labels: dict[str, dict[str, str]] | None = None) -> str:
    """Namespaces x and y, pods a and b in each: TCP 80 (web), 81 (alt), UDP 53 (dns)."""
    docs = []
    for ns in ("x", "y"):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: '{ns}', labels: {{ns: '{ns}'}}}}\n")
        for i, pod in enumerate(("a", "b")):
            ip = f"10.7.{1 if ns == 'x' else 2}.{i + 1}"
            labels = {"pod": pod, **(extra_labels or {}).get(f"{ns}/{pod}", {})}
            docs.append(
                f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}, namespace: '{ns}', "
                f"labels: {json.dumps(labels)}}}\nspec:\n  containers:\n  - name: c\n    ports:\n"
                "    - {name: web, containerPort: 80}\n    - {name: alt, containerPort: 81}\n"
                "    - {name: dns, containerPort: 53, protocol: UDP}\n"
                f"status: {{podIP: {ip}}}\n")
    return "---\n".join(docs)


def cluster_of(text: str) -> Cluster:
    result = load_cluster(["-"], stdin_text=text, pod_cidr="10.7.0.0/16")
    errors = [str(d) for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, errors
    return result.cluster


def with_pods(policies: str, **labels: dict[str, str]) -> Cluster:
    text = pods_yaml({k.replace("_", "/"): v for k, v in labels.items()})
    return cluster_of(text + ("---\n" + policies if policies.strip() else ""))


PORTS = [PortQuery.parse(p) for p in ("TCP/80", "TCP/81", "UDP/53", "TCP/82", "UDP/54")]


def explain(result: Verification) -> str:
    return "\n".join(f"{d.src} -> {d.dst} {d.port}: kernel {d.outcome}, model "
                     f"{'allowed' if d.verdict.allowed else 'denied'}"
                     for d in result.disagreements[:20])


def assert_kernel_equals_model(lab: Lab, ports: list[PortQuery] = PORTS) -> Verification:
    result = lab.verify(ports)
    assert result.ok, f"{len(result.disagreements)} disagreements:\n{explain(result)}"
    return result


def allowed(result: Verification, src: str, dst: str, port: str) -> bool:
    m = result.kernel.matrix
    return m.is_allowed(PortQuery.parse(port), m.endpoints.index(src), m.endpoints.index(dst))


# -- e2e-style scenarios ------------------------------------------------------------------------

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
metadata: {name: closed, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
""",
    "egress-deny-all-with-dns-allowed": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: lockdown, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {ns: "y"}}, podSelector: {matchLabels: {pod: b}}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
""",
    "named-ports-and-end-port": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{port: alt}, {protocol: UDP, port: dns}]
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
  - ports: [{port: web}, {port: 82, endPort: 90}]
""",
    "ip-block-with-except-pods-and-outside-hosts": """
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
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-outside, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
    ports: [{port: 80}, {protocol: UDP, port: 53}]
""",
    "udp-only-allow": """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: udp-only, namespace: "y"}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: x}}}]
    ports: [{protocol: UDP}]
""",
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenarios_kernel_equals_model(scenario: str, lab: Lab) -> None:
    lab.up(with_pods(SCENARIOS[scenario]), EXTERNALS)
    result = assert_kernel_equals_model(lab)
    grids = [result.kernel.matrix.dense(p) for p in result.kernel.matrix.ports]
    assert not all(g.all() for g in grids), "the scenario should deny something"
    assert any(g[~np.eye(len(g), dtype=bool)].any() for g in grids), "and allow something"


def test_scenario_details_hold_in_the_kernel(lab: Lab) -> None:
    """Spot checks that the scenarios mean what their names say (not only kernel == model)."""
    lab.up(with_pods(SCENARIOS["ip-block-with-except-pods-and-outside-hosts"]), EXTERNALS)
    result = assert_kernel_equals_model(lab)
    assert allowed(result, "192.0.2.10", "y/a", "TCP/80")  # inside the cidr
    assert not allowed(result, "192.0.2.200", "y/a", "TCP/80")  # in the except
    assert allowed(result, "x/a", "192.0.2.10", "TCP/80")
    assert not allowed(result, "x/a", "192.0.2.200", "TCP/80")
    assert allowed(result, "y/a", "x/a", "TCP/81") and not allowed(result, "y/b", "x/a", "TCP/81")
    assert result.kernel.outcomes[("192.0.2.10", "y/a", PortQuery.parse("UDP/53"))] == "answered"


def test_three_tier_example_through_the_cli(lab: Lab) -> None:
    runner = CliRunner()
    up = runner.invoke(cli, ["lab", "up", str(ROOT / "examples/three-tier"), "--name", lab.name,
                             "--external", "192.0.2.10"])
    assert up.exit_code == 0, up.output
    started = time.monotonic()
    verify = runner.invoke(cli, ["lab", "verify", "--name", lab.name, "-o", "json"])
    elapsed = time.monotonic() - started
    assert verify.exit_code == 0, verify.output
    report = json.loads(verify.output)
    assert report["disagreements"] == [] and report["probes"] == 5 * 4 * 5
    assert elapsed < 5, f"a full probe of the three-tier lab took {elapsed:.1f} s"
    probe = runner.invoke(cli, ["lab", "probe", "--name", lab.name, "--port", "TCP/5432",
                                "-o", "json"])
    assert probe.exit_code == 0, probe.output
    data = json.loads(probe.output)
    assert set(data) == {"endpoints", "ports", "allowed"} and data["ports"] == ["TCP/5432"]
    names, grid = data["endpoints"], data["allowed"]["TCP/5432"]
    assert grid[names.index("shop/api")][names.index("shop/db")] is True
    assert grid[names.index("shop/web")][names.index("shop/db")] is False
    table = runner.invoke(cli, ["lab", "probe", "--name", lab.name, "--port", "TCP/80"])
    assert table.exit_code == 0 and "shop/web" in table.output
    status = runner.invoke(cli, ["lab", "status", "--name", lab.name, "-o", "json"])
    assert status.exit_code == 0, status.output
    state = json.loads(status.output)
    assert state["counters"]["drop-in/shop/db"]["packets"] > 0  # web -> db was dropped there
    applied = runner.invoke(cli, ["lab", "apply", str(ROOT / "examples/three-tier-v2"),
                                  "--name", lab.name])
    assert applied.exit_code == 0, applied.output
    again = runner.invoke(cli, ["lab", "verify", "--name", lab.name])
    assert again.exit_code == 0 and "0 disagreements" in again.output, again.output
    down = runner.invoke(cli, ["lab", "down", "--name", lab.name])
    assert down.exit_code == 0 and not lab.is_up()


def test_verify_reports_a_kernel_that_disobeys(lab: Lab) -> None:
    """Take the ruleset away behind the lab's back: verify must list what became allowed."""
    lab.up(with_pods(SCENARIOS["egress-and-ingress-both-needed"]))
    subprocess.run(["ip", "netns", "exec", lab.node, "nft", "delete", "table", "inet", "podwall"],
                   check=True)
    result = lab.verify([PortQuery.parse("TCP/80")])
    assert not result.ok
    wrong = {(d.src, d.dst) for d in result.disagreements}
    assert ("x/b", "y/a") in wrong  # y/a's ingress is closed in the model
    assert all(d.kernel_allowed and not d.verdict.allowed for d in result.disagreements)
    out = CliRunner().invoke(cli, ["lab", "verify", "--name", lab.name, "--port", "TCP/80"])
    assert out.exit_code == 1
    assert "DISAGREE x/b -> y/a TCP/80: kernel connected (allowed), model denied" in out.output
    assert "y/closed" in out.output  # the engine's reasons come along


# -- lab apply ------------------------------------------------------------------------------------

ONLY_TRUSTED = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-trusted, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {trusted: "yes"}}}]
"""


def test_apply_of_a_label_change_changes_the_kernel_verdict(lab: Lab) -> None:
    port = [PortQuery.parse("TCP/80")]
    lab.up(with_pods(ONLY_TRUSTED))
    before = assert_kernel_equals_model(lab, port)
    lab.apply(with_pods(ONLY_TRUSTED, x_b={"trusted": "yes"}))
    after = assert_kernel_equals_model(lab, port)
    assert not allowed(before, "x/b", "y/a", "TCP/80") and allowed(after, "x/b", "y/a", "TCP/80")
    assert not allowed(after, "x/a", "y/a", "TCP/80")


def test_apply_adds_and_removes_pods_and_namespaces(lab: Lab) -> None:
    lab.up(with_pods(SCENARIOS["egress-deny-all-with-dns-allowed"]), ["192.0.2.10"])
    first = lab.load_state()
    text = pods_yaml().replace("podIP: 10.7.2.2", "podIP: 10.7.2.22")  # y/b moves
    text = text.replace("containerPort: 81}", "containerPort: 8081}")  # every alt port moves
    docs = [d for d in text.split("---\n") if "name: b, namespace: 'x'" not in d]  # x/b goes
    docs.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: z, labels: {ns: z}}\n")
    docs.append("apiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: z, labels: {pod: c}}\n"
                "spec:\n  containers:\n  - name: c\n    ports:\n"
                "    - {name: web, containerPort: 80}\nstatus: {podIP: 10.7.3.1}\n")
    policy = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-z, namespace: "y"}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: z}}}]
    ports: [{port: alt}]
"""
    lab.apply(cluster_of("---\n".join([*docs, SCENARIOS["egress-deny-all-with-dns-allowed"],
                                       policy])))
    state = lab.load_state()
    assert set(state["pods"]) == {"x/a", "y/a", "y/b", "z/c"}
    gone = first["pods"]["x/b"]["netns"]
    assert gone not in topology.netns_list()
    assert state["pods"]["y/b"]["netns"] != first["pods"]["y/b"]["netns"]  # recreated at .22
    assert state["pods"]["x/a"]["netns"] == first["pods"]["x/a"]["netns"]  # kept
    result = assert_kernel_equals_model(lab, [*PORTS, PortQuery.parse("TCP/8081")])
    assert allowed(result, "z/c", "y/b", "TCP/8081") and not allowed(result, "x/a", "y/b", "TCP/8081")
    assert result.kernel.outcomes[("z/c", "y/b", PortQuery.parse("TCP/8081"))] == "connected"


# -- statefulness, spoofing, counters -------------------------------------------------------------


def probe_from(lab: Lab, src: str, dst_ip: str, proto: str, port: int,
               timeout: float = 0.5) -> str:
    state = lab.load_state()
    out = subprocess.run(
        ["ip", "netns", "exec", state["pods"][src]["netns"], sys.executable, "-m",
         "podwall.lab.prober"],
        input=json.dumps({"targets": [[dst_ip, proto, port]], "timeout": timeout}),
        capture_output=True, text=True, check=True).stdout
    return str(json.loads(out)[0])


STATEFUL = """
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
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{podSelector: {matchLabels: {pod: a}}}]
"""


def test_replies_pass_but_do_not_open_the_reverse_direction(lab: Lab) -> None:
    lab.up(with_pods(STATEFUL))
    # x/b -> x/a: both ends isolated, the replies (SYN-ACK, UDP echo) come back through
    # x/b's closed ingress because conntrack accepts them first
    assert probe_from(lab, "x/b", "10.7.1.1", "TCP", 80) == "connected"
    assert probe_from(lab, "x/b", "10.7.1.1", "UDP", 53) == "answered"
    assert probe_from(lab, "x/b", "10.7.1.1", "TCP", 82) == "refused"  # RST is a reply too
    # ... and the reverse direction stays closed
    assert probe_from(lab, "x/a", "10.7.1.2", "TCP", 80) == "dropped"
    assert probe_from(lab, "x/a", "10.7.1.2", "UDP", 53) == "dropped"
    assert_kernel_equals_model(lab)


def test_closed_udp_ports_read_refused_however_many_at_once(lab: Lab) -> None:
    """ICMP rate limits are lifted inside the lab: 40 closed ports x 3 sources, all 'refused'."""
    lab.up(with_pods(""))
    ports = [PortQuery.parse(f"UDP/{p}") for p in range(2000, 2040)]
    result = lab.probe(ports)
    assert set(result.outcomes.values()) == {"refused"}


def test_spoofed_sources_are_dropped_and_counted(lab: Lab) -> None:
    lab.up(with_pods(""))
    # IP_TRANSPARENT (19): bind to an address that is not ours and send from it
    script = ("import socket; s = socket.socket(); s.setsockopt(socket.SOL_IP, 19, 1); "
              "s.bind(('10.7.1.2', 0)); s.settimeout(0.3)\n"
              "try:\n  s.connect(('10.7.2.1', 80))\nexcept OSError as e:\n  print(type(e).__name__)")
    state = lab.load_state()
    before = lab.counters()["spoofed"].packets
    subprocess.run(["ip", "netns", "exec", state["pods"]["x/a"]["netns"], sys.executable, "-c",
                    script], check=True, capture_output=True)  # x/a pretends to be x/b
    assert lab.counters()["spoofed"].packets > before
    assert probe_from(lab, "x/a", "10.7.2.1", "TCP", 80) == "connected"  # honest traffic passes


def test_drop_counters_count_per_pod_and_direction(lab: Lab) -> None:
    lab.up(with_pods(STATEFUL))
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "dropped"  # x/a ingress
    assert probe_from(lab, "x/b", "10.7.2.1", "TCP", 80) == "dropped"  # x/b egress
    counters = lab.counters()
    assert counters["drop-in/x/a"].packets >= 1 and counters["drop-out/x/b"].packets >= 1
    assert counters["drop-in/x/b"].packets == 0


# -- atomic updates -------------------------------------------------------------------------------

FLOOD = r"""
import errno, json, selectors, socket, sys, threading, time
dst, tcp_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
sel = selectors.DefaultSelector()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect((dst, udp_port))
udp.setblocking(False)
sel.register(udp, selectors.EVENT_READ, "udp")
pending, attempts, leaks = {}, 0, []
while not stop.is_set():
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((dst, tcp_port))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_WRITE, "tcp")
    pending[s] = time.monotonic()
    try:
        udp.send(b"x")
    except OSError as e:
        leaks.append("udp " + e.__class__.__name__)
    attempts += 1
    for key, _ in sel.select(timeout=0.002):
        if key.data == "udp":
            try:
                udp.recv(64)
                leaks.append("udp answered")
            except BlockingIOError:
                pass
            except OSError as e:
                leaks.append("udp " + e.__class__.__name__)
        else:
            sock = key.fileobj
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            leaks.append("tcp " + (errno.errorcode.get(err, str(err)) if err else "connected"))
            sel.unregister(sock)
            sock.close()
            pending.pop(sock, None)
    now = time.monotonic()
    for sock, started in list(pending.items()):
        if now - started > 0.5:
            sel.unregister(sock)
            sock.close()
            del pending[sock]
print(json.dumps({"attempts": attempts, "leaks": leaks}))
"""


def flood(lab: Lab, src: str, dst_ip: str) -> subprocess.Popen[str]:
    """Open a TCP connection and send a UDP datagram to dst every ~2 ms until stdin closes."""
    state = lab.load_state()
    return subprocess.Popen(
        ["ip", "netns", "exec", state["pods"][src]["netns"], sys.executable, "-c", FLOOD, dst_ip,
         "80", "53"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, _ = proc.communicate("", timeout=30)
    result: dict[str, object] = json.loads(out)
    return result


ALLOW = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: toggle, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
"""
DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: toggle, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: []
"""
FORTRESS = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: fortress, namespace: "y"}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
"""


SWAPS = 120


def swap_under_flood(lab: Lab, versions: list[Cluster], src: str, dst_ip: str) -> float:
    """Flood src -> dst_ip while the lab swaps between `versions` SWAPS times; fail on a leak."""
    lab.up(versions[0])
    proc = flood(lab, src, dst_ip)
    try:
        time.sleep(0.2)
        started = time.monotonic()
        for i in range(SWAPS):
            lab.apply(versions[(i + 1) % len(versions)])
        elapsed = time.monotonic() - started
    finally:
        result = finish(proc)
    assert result["leaks"] == [], f"leaks during {SWAPS} swaps: {result}"
    assert isinstance(result["attempts"], int) and result["attempts"] > 100
    return elapsed


def test_atomic_swaps_never_let_an_always_denied_pair_through(lab: Lab) -> None:
    versions = [with_pods(ALLOW + FORTRESS), with_pods(DENY + FORTRESS)]
    elapsed = swap_under_flood(lab, versions, "x/a", "10.7.2.2")  # y/b: denied in every version
    assert elapsed < 90
    # the toggled pair really toggled: an even number of swaps ends on the allow version
    assert probe_from(lab, "x/b", "10.7.1.1", "TCP", 80) == "connected"
    lab.apply(versions[1])
    assert probe_from(lab, "x/b", "10.7.1.1", "TCP", 80) == "dropped"

    # Control: the same flood does catch a NON-atomic swap (delete the table, then re-add it),
    # so the zero above means something.
    ruleset = (lab.state_dir / "ruleset.nft").read_text()
    proc = flood(lab, "x/a", "10.7.2.2")
    try:
        time.sleep(0.1)
        for _ in range(3):
            subprocess.run(["ip", "netns", "exec", lab.node, "nft", "delete", "table", "inet",
                            "podwall"], check=True)
            time.sleep(0.05)
            subprocess.run(["ip", "netns", "exec", lab.node, "nft", "-f", "-"], input=ruleset,
                           text=True, check=True)
    finally:
        control = finish(proc)
    assert control["leaks"], f"the flood did not notice a table that was gone: {control}"


EGRESS_DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {ns: x}}}]
"""


def test_a_deny_that_moves_from_ingress_to_egress_never_opens_the_pair(lab: Lab) -> None:
    # x/a -> y/b is denied in both versions, by y/b's ingress in one and by x/a's egress in the
    # other. A packet judged by the egress of the first and the ingress of the second would pass:
    # every packet must meet exactly one version (one base chain, generations).
    versions = [with_pods(FORTRESS), with_pods(EGRESS_DENY)]
    swap_under_flood(lab, versions, "x/a", "10.7.2.2")
    assert probe_from(lab, "x/a", "10.7.1.2", "TCP", 80) == "connected"  # x stays open to x/a


# -- life cycle -----------------------------------------------------------------------------------


def test_down_cleans_up_after_a_crash_and_is_idempotent(lab: Lab) -> None:
    lab.up(with_pods(""), ["192.0.2.10"])
    servers = topology.lab_processes(lab.name)
    assert len(servers) == 5  # 4 pods' servers and the collector
    (lab.state_dir / "state.json").write_text("{torn")  # a crash in the middle of a write
    removed = lab.down()
    assert len(removed) == 6 and not lab.state_dir.exists()
    assert lab.down() == []
    assert not topology.lab_processes(lab.name)
    assert not [n for n in topology.netns_list() if lab.owns(n)]
    # all state gone, namespaces still there: down finds them by name alone
    lab.up(with_pods(""))
    shutil.rmtree(lab.state_dir)
    assert len(lab.down()) == 5 and not topology.lab_processes(lab.name)


def test_a_failed_up_leaves_nothing_behind(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(servers: object, timeout: float = 0) -> None:
        raise DataplaneError("lab servers failed: simulated")

    monkeypatch.setattr(topology, "wait_ready", broken)
    with pytest.raises(DataplaneError, match="simulated"):
        lab.up(with_pods(""))
    assert not lab.is_up()
    assert not [n for n in topology.netns_list() if lab.owns(n)]
    assert not topology.lab_processes(lab.name)


def test_two_labs_coexist_and_neither_touches_the_other() -> None:
    first = new_lab()
    second = Lab(f"{first.name}-p0")  # a name whose namespaces start like the first's
    second.down()
    try:
        first.up(with_pods(STATEFUL))
        second.up(with_pods(""))
        assert_kernel_equals_model(first, [PortQuery.parse("TCP/80")])
        assert_kernel_equals_model(second, [PortQuery.parse("TCP/80")])
        first.down()
        assert second.is_up() and len([n for n in topology.netns_list() if second.owns(n)]) == 5
        assert_kernel_equals_model(second, [PortQuery.parse("TCP/80")])
    finally:
        first.down()
        second.down()


def test_the_machine_is_never_touched(lab: Lab) -> None:
    def snapshot() -> tuple[str, str, str]:
        return (subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout,
                subprocess.run(["ip", "route"], capture_output=True, text=True).stdout,
                subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout)

    before = snapshot()
    lab.up(with_pods(STATEFUL), EXTERNALS)
    assert snapshot() == before
    assert "pw-" not in before[0]
    lab.down()
    assert snapshot() == before


# -- random clusters ------------------------------------------------------------------------------

RANDOM_PORTS = [PortQuery.parse(p) for p in (
    "TCP/53", "UDP/53", "TCP/80", "UDP/80", "TCP/81", "UDP/81", "TCP/443", "UDP/443",
    "TCP/82", "UDP/444")]


@pytest.fixture(scope="module")
def random_lab() -> Iterator[Lab]:
    if not AVAILABLE:
        pytest.skip(f"SKIPPED LOUDLY: {REASON}")
    the_lab = new_lab()
    try:
        the_lab.up(build_cluster([], [], []), ["192.0.2.10", "198.51.100.7"])
        yield the_lab
    finally:
        the_lab.down()


@settings(max_examples=int(os.environ.get("PODWALL_LAB_EXAMPLES", "12")), deadline=None,
          derandomize=True, suppress_health_check=list(HealthCheck))
@given(cluster=clusters())
def test_random_clusters_kernel_equals_model(random_lab: Lab, cluster: Cluster) -> None:
    """Random policies, labels, namespaces and pods (the property tests' strategies), each
    applied to one running lab: every probe agrees with the engine."""
    random_lab.apply(cluster)
    assert_kernel_equals_model(random_lab, RANDOM_PORTS)
