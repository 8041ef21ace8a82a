"""Pictures drawn in batches (one `dot` run, several graphs) are the pictures drawn one by one."""

from __future__ import annotations

import os
import shutil

import pytest

from podwall.analysis.graph import build_graph
from podwall.analysis.render.dot import graph_dot, overview_dot
from podwall.analysis.render.svg import dot_to_svg, dots_to_svgs, inline_svg
from podwall.analysis.render.views import draw_views
from podwall.analysis.report import build_report
from podwall.engine import Engine
from tests.analysis.test_graph import replicas, three_tier
from tests.analysis.test_report import generated

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def test_a_batch_is_its_pictures_one_by_one() -> None:
    sources = [graph_dot(build_graph(Engine(three_tier()))),
               graph_dot(build_graph(Engine(replicas())), legend=False),
               "digraph tiny { a -> b }"]  # named: dot numbers anonymous graphs per run
    assert dots_to_svgs(sources) == [dot_to_svg(s) for s in sources]
    assert dots_to_svgs([]) == []


@pytest.mark.parametrize("cpus", [1, 2, 8])
def test_report_views_are_each_picture_drawn_alone(cpus: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Namespace pictures share runs (one to three of them, by the cores); the overview, laid
    out by fdp, never shares one: its `layout` would hold for the pictures after it."""
    _, cluster = generated(150)
    report = build_report(Engine(cluster))
    assert report.overview is not None and len(report.namespace_pictures) > 3
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    views = draw_views(report)
    assert views.overview == inline_svg(dot_to_svg(overview_dot(report.overview,
                                                                interactive=True)))
    assert views.namespaces == tuple(inline_svg(dot_to_svg(graph_dot(g, legend=False)))
                                     for g in report.namespace_pictures)
    assert report.draws_whole and views.whole == inline_svg(
        dot_to_svg(graph_dot(report.graph, legend=False)))


def test_a_batch_draws_the_same_bytes_every_time() -> None:
    """dot 2.43 writes the clusters of a run's later graphs in an order that depends on its heap
    (two orders in 30 runs of this batch before the clusters were put back in source order)."""
    sources = [graph_dot(build_graph(Engine(three_tier()))),
               graph_dot(build_graph(Engine(replicas())), legend=False)]
    alone = [dot_to_svg(s) for s in sources]
    for _ in range(20):
        assert dots_to_svgs(sources) == alone


def test_clusters_are_put_in_source_order_and_nothing_else_moves() -> None:
    from podwall.analysis.render.svg import clusters_in_source_order

    def box(name: str) -> str:
        return (f'<g id="{name}" class="cluster">\n<title>{name}</title>\n'
                f'<g id="a_{name}"><a>\n<path/>\n</a>\n</g>\n</g>\n')

    head, node = '<svg>\n<g id="graph0" class="graph">\n', '<g id="n0" class="node">\n</g>\n'
    source = "digraph { subgraph cluster_a { x } subgraph \"cluster_b\" { y } }"
    swapped = head + box("cluster_b") + box("cluster_a") + node + "</g>\n</svg>\n"
    assert clusters_in_source_order(swapped, source) == (
        head + box("cluster_a") + box("cluster_b") + node + "</g>\n</svg>\n")
    apart = head + box("cluster_b") + node + box("cluster_a") + "</g>\n</svg>\n"
    assert clusters_in_source_order(apart, source) == apart  # not one run: left alone
    assert clusters_in_source_order(swapped, "digraph { }") == swapped  # names unknown
