"""The report's pictures, drawn by Graphviz: the namespace overview, one picture per namespace,
and (when it is small enough to read) the whole cluster.

Each is a separate layout, so a big cluster costs many small layouts instead of one huge one
(at 2,000 pods: 25 layouts of a fraction of a second each, against ~20 s for the whole picture).
A `dot` run lays out a batch of namespace pictures (a run costs ~20 ms of CPU before any
layout); the overview and the whole picture (the longest) have a run each. The runs go in a few
threads: `dot` is a subprocess, so they really run side by side.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from podwall.analysis.render.dot import graph_dot, overview_dot
from podwall.analysis.render.svg import dots_to_svgs, inline_svg
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
    # the overview (fdp, see dots_to_svgs) and the whole picture (the longest) each alone
    pictures = list(range(1, 1 + len(report.namespace_pictures)))
    parts = max(1, workers - 2)
    batches = [pictures[k::parts] for k in range(parts) if pictures[k::parts]]
    batches += [[k] for k in (0, len(sources) - 1) if sources[k] and k not in pictures]
    drawn = [""] * len(sources)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch, svgs in zip(batches, pool.map(
                lambda batch: dots_to_svgs([sources[k] for k in batch]), batches), strict=True):
            for k, svg in zip(batch, svgs, strict=True):
                drawn[k] = inline_svg(svg)
    count = len(report.namespace_pictures)
    return Views(drawn[0], tuple(drawn[1:1 + count]),
                 drawn[1 + count] if report.draws_whole else None,
                 report.opens_on if report.draws_whole else "overview")
