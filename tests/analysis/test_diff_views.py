"""`diff` under a view, its per-namespace summary, and when text summarises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis.diff import ADDED, REMOVED, diff_clusters
from podwall.analysis.render.diff import LINE_LIMIT, diff_md, diff_text
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PortQuery,
    Rule,
    build_cluster,
)
from tests.analysis.test_diff import brute_force, expand
from tests.strategies import clusters, views


@settings(max_examples=100, deadline=None)
@given(clusters(max_endpoints=7, max_policies=4), clusters(max_endpoints=7, max_policies=4),
       st.data())
def test_a_view_shows_exactly_the_changed_pairs_in_view(old: Cluster, new: Cluster,
                                                       data: st.DataObject) -> None:
    view = data.draw(views(new))
    result = diff_clusters(old, new, view=view)
    by_key = {e.key: e for e in new.endpoints}
    expected = {k: v for k, v in brute_force(old, new, result.ports).items()
                if view.shows_pair(by_key[k[0]], by_key[k[1]])}
    common = {e.key for e in old.endpoints} & set(by_key)
    seen = {}
    for change in result.changes:
        for s in expand(change.src, common):
            for d in expand(change.dst, common):
                if s != d:
                    for port in change.ports:
                        seen[(s, d, port)] = change.change
    assert seen == expected
    assert result.added == sum(1 for v in expected.values() if v == ADDED)
    assert result.removed == sum(1 for v in expected.values() if v == REMOVED)
    # the per-namespace summary counts the same connections
    per_ns: dict[tuple[str, str, str], int] = {}
    for (s, d, _), change in expected.items():
        key = (change, s.split("/")[0], d.split("/")[0])
        per_ns[key] = per_ns.get(key, 0) + 1
    assert {(n.change, n.src, n.dst): n.count for n in result.namespaces} == per_ns
    only = {e.endpoint for e in result.endpoints}
    for e in old.endpoints:
        if e.key not in by_key and not view.shows_endpoint(e):
            assert not any(e.key in expand(label, {e.key}) for label in only)


def _many(pods: int) -> tuple[Cluster, Cluster]:
    """Every other pod now admits only its successor: (pods / 2) x (pods - 2) connections
    removed, in lines that cannot collapse (all sources but one, no glob exact)."""
    eps = [Endpoint("a", f"{chr(97 + i % 26)}{i}", Labels({"k": str(i)}))
           for i in range(pods)]
    old = build_cluster([], eps, [])
    only_next = [NetworkPolicy(
        "a", f"deny{i}", LabelSelector.of({"k": str(i)}), frozenset({Direction.INGRESS}),
        ingress=(Rule((Peer(pod_selector=LabelSelector.of({"k": str(i + 1)})),)),))
        for i in range(0, pods, 2)]
    return old, build_cluster([], eps, only_next)


def test_text_summarises_beyond_the_line_limit_only() -> None:
    port = [PortQuery.parse("TCP/80")]
    small_old, small_new = _many(6)
    small = diff_clusters(small_old, small_new, port)
    assert len(small.changes) <= LINE_LIMIT
    assert "per namespace pair" not in diff_text(small)
    old, new = _many(60)
    big = diff_clusters(old, new, port)
    assert len(big.changes) > LINE_LIMIT and big.detailed
    text = diff_text(big)
    assert "per namespace pair" in text and "- a -> a  1740 connections on TCP/80" in text
    assert "Drill down" in text
    assert "per namespace pair" not in diff_text(big, full=True)
    # beyond the detail limit, lines are not computed at all; the summary is the same
    cheap = diff_clusters(old, new, port, detail_limit=10)
    assert not cheap.detailed and not cheap.changes
    assert cheap.namespaces == big.namespaces and cheap.removed == big.removed == 1740
    assert "too many changes to list" in diff_text(cheap)
    assert "- a -> a  1740 connections" in diff_md(cheap)
