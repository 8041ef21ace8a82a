"""Rules podwall cannot decide offline (nodes, domainNames peers) and the cells they may change:
the same cells the scalar evaluator calls undecided, and never a pod-to-pod cell."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from podwall.engine import Engine, ExternalHost
from podwall.engine.offline import offline_rules, undecided_cells
from podwall.manifests import load_cluster
from podwall.model import Cluster, PortQuery

ROOT = Path(__file__).resolve().parents[2]
NO_EXTERNAL = """apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-external}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {matchLabels: {team: shop}}}
  egress:
    - {name: allow-api, action: Accept, to: [{domainNames: ["api.example.com"]}]}
    - {name: deny-nodes, action: Deny, to: [{nodes: {matchLabels: {role: infra}}}],
       protocols: [{tcp: {destinationPort: {number: 443}}}]}
    - {name: deny-rest, action: Deny, to: [{networks: ["0.0.0.0/0"]}]}
"""


def tiered_with_offline_peers() -> Cluster:
    base = "".join(p.read_text() + "\n---\n"
                   for p in sorted((ROOT / "examples/cluster-tiers").glob("*.yaml")))
    return load_cluster(["-"], stdin_text=base + NO_EXTERNAL, implied=False).cluster


HOSTS = [ExternalHost(ipaddress.ip_address(a)) for a in ("192.0.2.9", "2001:db8::9")]
PORTS = [PortQuery.parse(p) for p in ("TCP/443", "TCP/80", "UDP/53")]


def test_offline_rules_name_each_rule_and_its_peer_kinds() -> None:
    rules = offline_rules(tiered_with_offline_peers())
    assert [str(r) for r in rules] == [
        "admin/no-external egress[0] (allow-api) (domainNames)",
        "admin/no-external egress[1] (deny-nodes) (nodes)"]
    assert rules[1].to_json()["peers"] == ["nodes"]


def test_undecided_cells_are_exactly_the_undecided_verdicts() -> None:
    cluster = tiered_with_offline_peers()
    engine = Engine(cluster)
    cells = undecided_cells(engine.evaluator, cluster.endpoints, HOSTS, PORTS)
    found = {(c.src, c.dst, c.port): c for c in cells}
    expected = set()
    for ep in cluster.endpoints:
        for host in HOSTS:
            for port in PORTS:
                for src, dst in ((ep, host), (host, ep)):
                    verdict = engine.check(src, dst, port)
                    if not verdict.decided:
                        expected.add((str(src.key), str(dst.key), port))
                        assert found[(str(src.key), str(dst.key), port)].allowed == verdict.allowed
    assert set(found) == expected
    # only the shop's egress to the outside, on every port: the Accept could open any of them
    assert {(c.src.split("/")[0], c.dst) for c in cells} == {
        ("shop", "192.0.2.9"), ("shop", "2001:db8::9")}
    web = found[("shop/web", "192.0.2.9", PortQuery.parse("TCP/443"))]
    assert not web.allowed  # deny-rest, unless allow-api's domain is this address
    assert [r.index for r in web.rules] == [0, 1]


def test_pod_to_pod_cells_never_depend_on_them() -> None:
    cluster = tiered_with_offline_peers()
    engine = Engine(cluster)
    for src in cluster.endpoints:
        for dst in cluster.endpoints:
            for port in PORTS:
                assert engine.check(src.key, dst.key, port).decided
