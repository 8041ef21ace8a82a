"""Big pictures label their arrows after the layout (`xlabel`), with the same words as tooltips.

Graphviz's dot turns every edge `label` into a node of its own rank; at 1,000 pods that made
the whole picture cost ~4 s of CPU. Above `BIG_ARROWS` arrows the labels are placed after the
layout and may be left out where they would cover a box, so each is also the arrow's tooltip.
"""

from __future__ import annotations

import html
import re
import shutil

import pytest

from podwall.analysis.graph import build_graph
from podwall.analysis.render import dot
from podwall.analysis.render.svg import dot_to_svg
from podwall.engine import Engine
from tests.analysis.test_graph import three_tier

QUOTED = r'"(?:[^"\\]|\\.)*"'


def _edges(text: str) -> list[str]:
    return [line for line in text.splitlines() if " -> " in line]


def test_small_pictures_keep_labels_big_ones_place_them_after_the_layout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    graph = build_graph(Engine(three_tier()))
    small = dot.graph_dot(graph)
    monkeypatch.setattr(dot, "BIG_ARROWS", len(graph.edges) - 1)
    big = dot.graph_dot(graph)
    assert "forcelabels=false" in big and "forcelabels" not in small
    labelled = 0
    for before, after in zip(_edges(small), _edges(big), strict=True):
        label = re.search(rf"[ \[]label=({QUOTED})", before)
        assert "xlabel=" not in before
        if label is None:
            assert after == before
            continue
        labelled += 1
        assert f"xlabel={label[1]}" in after and f"tooltip={label[1]}" in after
        assert re.search(r"[ \[]label=", after) is None
    assert labelled >= 3  # three-tier's arrows, the outside's among them


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_every_words_of_a_big_picture_are_in_its_svg(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = build_graph(Engine(three_tier()))
    monkeypatch.setattr(dot, "BIG_ARROWS", 0)
    source = dot.graph_dot(graph)
    svg = html.unescape(dot_to_svg(source))
    words = [w[1:-1].replace('\\"', '"') for w in re.findall(rf"xlabel=({QUOTED})", source)]
    assert words
    for w in words:
        assert w in svg  # drawn, or at least the arrow's tooltip
