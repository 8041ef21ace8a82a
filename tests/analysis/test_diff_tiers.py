"""`diff` with cluster policies: the lines are exactly the changed pairs (the vectorised tiers),
and the reasons name the tier, policy, priority and rule of the side that changed."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings

from podwall.analysis.diff import diff_clusters
from podwall.manifests import load_cluster
from podwall.model import Cluster
from tests.analysis.test_diff import brute_force, expand
from tests.strategies import tiered_clusters


def test_reasons_name_the_deciding_rule() -> None:
    new = load_cluster(["examples/cluster-tiers"]).cluster
    old = replace(new, cluster_policies=(), policies=())
    result = diff_clusters(old, new)
    reasons = {(c.src, c.dst): c.reason for c in result.changes}
    assert reasons[("shop/*", "monitoring/prometheus")] == (
        "no longer admitted: ingress of the destination: denied — Deny in "
        "admin/protect-monitoring ingress[1] (nobody-else) at priority 20 (Admin tier)")
    assert reasons[("shop/web", "shop/db")].startswith(
        "no longer admitted: ingress of the destination: denied — Pass in admin/shop-decides "
        "ingress[0] at priority 30, then isolated by NetworkPolicy shop/db-from-web")


@settings(max_examples=60, deadline=None)
@given(tiered_clusters(), tiered_clusters())
def test_lines_are_exactly_the_changed_pairs_with_tiers(old: Cluster, new: Cluster) -> None:
    result = diff_clusters(old, new)
    common = {e.key for e in old.endpoints} & {e.key for e in new.endpoints}
    seen = {}
    for change in result.changes:
        for s in expand(change.src, common):
            for d in expand(change.dst, common):
                if s != d:
                    for port in change.ports:
                        assert (s, d, port) not in seen
                        seen[(s, d, port)] = change.change
    assert seen == brute_force(old, new, result.ports)


CNP = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
NO_INTERNET = CNP + """metadata: {name: no-internet}
spec:
  tier: Admin
  priority: 40
  subject: {namespaces: {matchLabels: {team: shop}}}
  egress:
    - {name: deny-world, action: Deny, to: [{networks: ["0.0.0.0/0"]}],
       protocols: [{tcp: {destinationPort: {number: 443}}}]}
"""
CART = """apiVersion: v1
kind: Pod
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec:
  containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
"""


def _with(*texts: str) -> Cluster:
    from pathlib import Path

    base = "".join(p.read_text() + "\n---\n" for p in sorted(Path("examples/cluster-tiers")
                                                               .glob("*.yaml")))
    result = load_cluster(["-"], stdin_text=base + "\n---\n".join(texts), implied=False)
    return result.cluster


def test_json_rules_name_the_deciding_cluster_rule() -> None:
    new = load_cluster(["examples/cluster-tiers"]).cluster
    old = replace(new, cluster_policies=(), policies=())
    change = next(c for c in diff_clusters(old, new).changes
                  if (c.src, c.dst) == ("shop/*", "monitoring/prometheus"))
    assert [r.to_json() for r in change.rules] == [
        {"policy": "admin/protect-monitoring", "tier": "admin", "priority": 20,
         "direction": "ingress", "rule": 1, "action": "Deny", "name": "nobody-else"}]
    passed = next(c for c in diff_clusters(old, new).changes
                  if (c.src, c.dst) == ("shop/web", "shop/db"))
    assert [str(r) for r in passed.rules] == ["admin/shop-decides ingress[0]"]


def test_a_removed_rule_that_decided_in_old_is_named() -> None:
    old = _with(NO_INTERNET)
    new = _with()
    change = next(c for c in diff_clusters(old, new).changes
                  if (c.src, c.dst) == ("shop/*", "kube-system/coredns") and c.change == "added")
    assert change.reason == (
        "allowed: egress of the source: allowed — not isolated by a NetworkPolicy for egress, "
        "and no Admin or Baseline rule decides (in OLD: denied — Deny in admin/no-internet "
        "egress[0] (deny-world) at priority 40 (Admin tier))")


def test_a_new_endpoints_connections_name_the_tier_rule_per_port() -> None:
    from podwall.model import PortQuery

    old, new = _with(), _with(CART)
    ports = [PortQuery.parse(p) for p in ("TCP/80", "UDP/53")]
    lines = {(c.src, c.dst, tuple(str(p) for p in c.ports)): c.reason
             for e in diff_clusters(old, new, ports=ports).endpoints for c in e.connections}
    assert lines[("shop/cart", "kube-system/coredns", ("UDP/53",))] == (
        "egress at the source: allowed — Accept in admin/allow-dns egress[0] (dns) at priority "
        "10 (Admin tier); ingress at the destination: allowed — Accept in admin/dns-reachable "
        "ingress[0] (dns) at priority 10 (Admin tier)")
    assert lines[("shop/cart", "kube-system/coredns", ("TCP/80",))] == (
        "egress at the source not isolated; ingress at the destination not isolated")


def test_outside_lines_name_the_tier_rule() -> None:
    from podwall.model import PortQuery

    old, new = _with(), _with(NO_INTERNET)
    result = diff_clusters(old, new, ports=[PortQuery.parse("TCP/443")])
    (gone,) = [c for c in result.outside if c.change == "removed"]
    assert gone.label == "shop/*"
    assert gone.reason == ("no longer admitted: egress: denied — Deny in admin/no-internet "
                           "egress[0] (deny-world) at priority 40 (Admin tier)")
    assert [r.to_json()["policy"] for r in gone.rules] == ["admin/no-internet"]
