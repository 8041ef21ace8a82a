"""The namespace overview and the per-namespace pictures agree with the engine's matrix."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from podwall.analysis.graph import OUTSIDE, ConnectivityGraph, boxes, build_graph, class_layout
from podwall.analysis.overview import build_overview, namespace_picture
from podwall.engine import Engine
from podwall.model import Cluster, Direction, PortQuery
from tests.analysis.test_graph import three_tier
from tests.analysis.test_report import generated_1000


def _clusters() -> list[tuple[str, Cluster]]:
    return [("three-tier", three_tier()), generated_1000()]


@pytest.mark.parametrize("which", [0, 1])
def test_overview_arrows_are_the_allowed_endpoint_pairs(which: int) -> None:
    _, cluster = _clusters()[which]
    engine = Engine(cluster)
    matrix = engine.matrix()
    overview = build_overview(matrix, boxes(engine, matrix, class_layout(engine, matrix)))
    endpoints = cluster.endpoints
    names = sorted({ep.namespace for ep in endpoints})
    ns = np.array([names.index(ep.namespace) for ep in endpoints])
    open_in = np.array([not engine.selecting(ep, Direction.INGRESS) for ep in endpoints])
    open_out = np.array([not engine.selecting(ep, Direction.EGRESS) for ep in endpoints])
    counted = ~(open_out[:, None] & open_in[None, :]) & ~np.eye(len(endpoints), dtype=bool)
    any_port = np.zeros((len(endpoints),) * 2, dtype=bool)
    expected_ports: dict[tuple[int, int], list[PortQuery]] = defaultdict(list)
    for port in matrix.ports:
        allowed = matrix.dense(port)[:len(endpoints), :len(endpoints)] & counted
        any_port |= allowed
        for m in range(len(names)):
            for n in range(len(names)):
                if allowed[np.ix_(ns == m, ns == n)].any():
                    expected_ports[(m, n)].append(port)
    arrows = {(int(a.src[2:]), int(a.dst[2:])): a for a in overview.arrows}
    assert set(arrows) == {k for k in expected_ports if k[0] != k[1]}
    for (m, n), arrow in arrows.items():
        assert list(arrow.ports) == expected_ports[(m, n)]
        assert arrow.pairs == int(any_port[np.ix_(ns == m, ns == n)].sum())
    for k, box in enumerate(overview.namespaces):
        assert box.name == names[k] and box.endpoints == int((ns == k).sum())
        assert list(box.internal) == expected_ports.get((k, k), [])
        assert box.internal_pairs == int(any_port[np.ix_(ns == k, ns == k)].sum())


def _expanded(graph: ConnectivityGraph) -> set[tuple[str, str, PortQuery]]:
    """(end, end, port) for every arrow, hubs expanded, other namespaces' ends by namespace."""
    into: dict[str, list[str]] = defaultdict(list)
    out_of: dict[str, list[str]] = defaultdict(list)
    triples: set[tuple[str, str, PortQuery]] = set()
    for e in graph.edges:
        if e.dst in graph.hubs:
            into[e.dst].append(e.src)
        elif e.src in graph.hubs:
            out_of[e.src].append(e.dst)
        else:
            triples |= {(e.src, e.dst, p) for p in e.ports}
    for h, hub in graph.hubs.items():
        triples |= {(s, d, p) for s in into[h] for d in out_of[h] for p in hub.ports}
    return triples


def test_namespace_pictures_keep_every_arrow_of_the_whole_picture() -> None:
    _, cluster = generated_1000()
    engine = Engine(cluster)
    whole = build_graph(engine)
    ns_of = {n.id: n.namespace for n in whole.nodes.values()}
    ns_of.update({ns.id: ns.name for ns in whole.namespaces})
    ns_of[OUTSIDE] = OUTSIDE  # arrows with the outside stay as they are
    index = {ns.name: k for k, ns in enumerate(whole.namespaces)}
    full = _expanded(whole)
    for k, ns in enumerate(whole.namespaces):
        picture = namespace_picture(whole, k)

        def here(end: str, source: bool, name: str = ns.name) -> str:
            if ns_of[end] in (name, OUTSIDE):
                return end
            return f"{'x' if source else 'y'}{index[ns_of[end]]}"

        expected = {(here(s, True), here(d, False), p) for s, d, p in full
                    if ns.name in (ns_of[s], ns_of[d])}
        assert _expanded(picture) == expected, ns.name
        assert {n.id for n in picture.nodes.values() if not n.elsewhere} == set(ns.nodes)
