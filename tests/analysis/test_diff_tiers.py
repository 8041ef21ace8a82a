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
