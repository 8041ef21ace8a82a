"""The report's pictures, drawn by Graphviz: the namespace overview, one picture per namespace,
and (when it is small enough to read) the whole cluster.

Each is a separate `dot` run, so a big cluster costs many small layouts instead of one huge one
(at 2,000 pods: 25 layouts of a fraction of a second each, against ~20 s for the whole picture).
They run in a few threads: `dot` is a subprocess, so they really run side by side.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from podwall.analysis.render.dot import graph_dot, overview_dot
from podwall.analysis.render.svg import dot_to_svg, inline_svg
from podwall.analysis.report import Report


@dataclass(frozen=True, slots=True)
class Views:
    """`<svg>` elements, ready to inline. `whole` is None when the report leaves it out."""

    overview: str
    namespaces: tuple[str, ...]
    whole: str | None
    opens_on: str  # "whole" or "overview"


def draw_views(report: Report) -> Views:
    sources = [overview_dot(report.overview, interactive=True)] if report.overview is not None else [""]
    sources += [graph_dot(g, legend=False) for g in report.namespace_pictures]
    if report.draws_whole:
        sources.append(graph_dot(report.graph, legend=False))
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        drawn = list(pool.map(lambda text: inline_svg(dot_to_svg(text)) if text else "", sources))
    count = len(report.namespace_pictures)
    return Views(drawn[0], tuple(drawn[1:1 + count]),
                 drawn[1 + count] if report.draws_whole else None,
                 report.opens_on if report.draws_whole else "overview")
