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
