"""`graph` and `report` with cluster policies: a direction no NetworkPolicy isolates is not
"open" where a cluster policy applies, so the picture and the page say what check says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis.graph import build_graph
from podwall.analysis.report import build_report
from podwall.engine import Engine
from podwall.model import Cluster, PortQuery
from tests.analysis.test_graph import allowed_pairs, expand
from tests.analysis.test_report import PageData
from tests.strategies import port_queries, tiered_clusters


@settings(max_examples=100, deadline=None)
@given(tiered_clusters(), st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_picture_says_exactly_what_the_matrix_says_with_tiers(cluster: Cluster,
                                                              ports: list[PortQuery]) -> None:
    engine = Engine(cluster)
    drawn = expand(build_graph(engine, ports), cluster)
    expected = allowed_pairs(engine, ports)
    for port in ports:
        assert drawn[port] == expected[port], port


@settings(max_examples=100, deadline=None)
@given(tiered_clusters(), st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_page_data_agrees_with_check_with_tiers(cluster: Cluster, ports: list[PortQuery]) -> None:
    engine = Engine(cluster)
    page = PageData(build_report(engine, ports=ports).data)
    names = [e.key for e in cluster.endpoints]
    for p, port in enumerate(ports):
        for src in names:
            for dst in names:
                if src == dst:
                    continue
                cs, cd = page.class_of[src], page.class_of[dst]
                shown = page.side(cs, "out", cd, p) != -1 and page.side(cd, "in", cs, p) != -1
                assert shown == engine.check(src, dst, port).allowed, (src, dst, port)


@settings(max_examples=100, deadline=None)
@given(tiered_clusters(), st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_page_words_are_check_words_with_tiers(cluster: Cluster, ports: list[PortQuery]) -> None:
    """Where a cluster policy applies, the page names the deciding tier, policy, priority and
    rule (and the Pass rules followed) exactly as `podwall check` does."""
    from podwall.analysis import wording

    engine = Engine(cluster)
    page = PageData(build_report(engine, ports=ports).data)
    for p, port in enumerate(ports):
        for src in cluster.endpoints:
            for dst in cluster.endpoints:
                if src == dst:
                    continue
                verdict = engine.check(src.key, dst.key, port)
                cs, cd = page.class_of[src.key], page.class_of[dst.key]
                assert page.side_text(cs, "out", cd, p, src.key, dst.key) == \
                    wording.direction_line(verdict.egress, dst.key), (
                        page.side_text(cs, "out", cd, p, src.key, dst.key),
                        wording.direction_line(verdict.egress, dst.key))
                assert page.side_text(cd, "in", cs, p, dst.key, src.key) == \
                    wording.direction_line(verdict.ingress, src.key), (
                        page.side_text(cd, "in", cs, p, dst.key, src.key),
                        wording.direction_line(verdict.ingress, src.key))


def test_the_example_page_names_the_admin_deny() -> None:
    from podwall.manifests import load_cluster

    cluster = load_cluster(["examples/cluster-tiers"], implied=False).cluster
    engine = Engine(cluster)
    port = PortQuery.parse("TCP/9090")
    page = PageData(build_report(engine, ports=[port]).data)
    cs, cd = page.class_of["shop/web"], page.class_of["monitoring/prometheus"]
    assert page.side_text(cd, "in", cs, 0, "monitoring/prometheus", "shop/web") == (
        "ingress at monitoring/prometheus: denied — Deny in admin/protect-monitoring ingress[1] "
        "(nobody-else) at priority 20 (Admin tier)")
