"""Pictures for big clusters: one namespace per box first, then one namespace at a time.

At 1,000 pods the whole connectivity picture has ~100 boxes and ~400 arrows: Graphviz draws it,
but nobody reads it. The report therefore opens on the *overview*, where each namespace is one
box and one arrow joins two namespaces when some endpoint of one may connect to some endpoint
of the other (labelled with the ports and the number of endpoint pairs), and lets the reader
*drill down* into one namespace: its boxes, as in the whole picture, with every arrow that
leaves or enters it ending at a stand-in box for the other namespace (click it to go there).

Both are derived from what the whole picture is derived from (the boxes and the engine's
class-level matrix, or the whole picture's arrows), so they never disagree with it. Like the
whole picture, they leave out pairs that no policy isolates in either direction (egress open to
ingress open): the boxes' markers say those.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.analysis.graph import (
    OUTSIDE,
    Boxes,
    ConnectivityGraph,
    GraphEdge,
    GraphHub,
    GraphNode,
    hub_compact,
    port_sides,
)
from podwall.engine import Matrix
from podwall.model import Port


@dataclass(frozen=True, slots=True)
class NamespaceBox:
    """One namespace in the overview. `open_in`/`open_out`: endpoints no policy isolates."""

    id: str  # `ns3`: the index among the namespaces, sorted by name
    name: str
    endpoints: int
    boxes: int
    open_in: int
    open_out: int
    internal: tuple[Port, ...]  # ports on which some of its endpoints reach each other
    internal_pairs: int
    reaches_all: tuple[Port, ...] = ()  # it has an arrow to every other namespace ...
    reached_by_all: tuple[Port, ...] = ()  # ... from every other (ports: of those arrows)
    implied: int = 0  # endpoints among them the input did not carry (kube-dns)

    def lines(self, ports: tuple[Port, ...]) -> list[str]:
        """The lines under its name: size, isolation, what happens inside."""
        out = [wording.namespace_size_words(self.endpoints, self.boxes, self.implied)]
        for count, marker in ((self.open_in, wording.OPEN_IN), (self.open_out, wording.OPEN_OUT)):
            if count:
                out.append(marker if count == self.endpoints
                           else wording.partly_open_words(marker, count))
        if self.internal:
            out.append(wording.within_words(wording.port_set_words(self.internal, ports),
                                            self.internal_pairs))
        if self.reaches_all:
            out.append(wording.reaches_every_namespace_words(
                wording.port_set_words(self.reaches_all, ports)))
        if self.reached_by_all:
            out.append(wording.reached_by_every_namespace_words(
                wording.port_set_words(self.reached_by_all, ports)))
        return out


@dataclass(frozen=True, slots=True, order=True)
class NamespaceArrow:
    """Some endpoint of `src` may connect to some endpoint of `dst` on `ports`."""

    src: str
    dst: str
    ports: tuple[Port, ...]
    pairs: int  # endpoint pairs that may connect on at least one of the ports


@dataclass(frozen=True)
class Overview:
    """`arrows` are all of them; `drawn` leaves out those a namespace's `reaches_all` or
    `reached_by_all` marker says (a namespace that reaches every other one, like a monitoring
    scraper, would otherwise draw an arrow to each)."""

    ports: tuple[Port, ...]
    namespaces: tuple[NamespaceBox, ...]
    arrows: tuple[NamespaceArrow, ...]

    @property
    def drawn(self) -> tuple[NamespaceArrow, ...]:
        out_all = {n.id for n in self.namespaces if n.reaches_all}
        in_all = {n.id for n in self.namespaces if n.reached_by_all}
        return tuple(a for a in self.arrows if a.src not in out_all and a.dst not in in_all)

    def to_json(self) -> dict[str, Any]:
        return {
            "ports": [str(p) for p in self.ports],
            "namespaces": [{"id": n.id, "name": n.name, "endpoints": n.endpoints,
                            "boxes": n.boxes, "openIngress": n.open_in, "openEgress": n.open_out,
                            "internal": [str(p) for p in n.internal],
                            "internalPairs": n.internal_pairs,
                            "reachesEveryNamespace": [str(p) for p in n.reaches_all],
                            "reachedByEveryNamespace": [str(p) for p in n.reached_by_all],
                            **({"implied": n.implied} if n.implied else {})}
                           for n in self.namespaces],
            "arrows": [{"from": a.src, "to": a.dst, "ports": [str(p) for p in a.ports],
                        "pairs": a.pairs} for a in self.arrows],
        }


def build_overview(matrix: Matrix, groups: Boxes) -> Overview:
    """Namespaces and the arrows between them, from the box-level verdicts of every port."""
    spans = groups.spans()
    size = groups.size
    weight = np.array([len(groups.members(b)) for b in range(size)], dtype=np.int64)
    # Endpoint pairs a box pair stands for (a box's members among themselves: not with itself).
    pairs = weight[:, None] * weight[None, :] - np.diag(weight)
    omitted = groups.open_out[:, None] & groups.open_in[None, :]
    ns_of = np.zeros(size, dtype=np.int64)
    for k, (_, a, b) in enumerate(spans):
        ns_of[a:b] = k
    count = len(spans)
    anywhere = np.zeros((size, size), dtype=np.bool_)
    on_port: dict[Port, np.ndarray[Any, Any]] = {}
    for port in matrix.ports:
        drawn = port_sides(matrix, port, groups.order).allowed & ~omitted
        anywhere |= drawn
        on_port[port] = _by_namespace(drawn * pairs, ns_of, count)
    total = _by_namespace(anywhere * pairs, ns_of, count)

    namespaces: list[NamespaceBox] = []
    for k, (name, a, b) in enumerate(spans):
        internal = tuple(p for p in matrix.ports if on_port[p][k, k] > 0)
        namespaces.append(NamespaceBox(
            f"ns{k}", name, int(weight[a:b].sum()), b - a,
            int(weight[a:b][groups.open_in[a:b]].sum()),
            int(weight[a:b][groups.open_out[a:b]].sum()),
            internal, int(total[k, k]),
            implied=sum(1 for i in range(a, b) for ep in groups.members(i) if ep.implied)))
    arrows = [NamespaceArrow(f"ns{m}", f"ns{n}",
                             tuple(p for p in matrix.ports if on_port[p][m, n] > 0),
                             int(total[m, n]))
              for m in range(count) for n in range(count) if m != n and total[m, n] > 0]
    if count > MARK_ABOVE:
        namespaces = _everywhere(namespaces, arrows)
    return Overview(tuple(matrix.ports), tuple(namespaces), tuple(sorted(arrows)))


#: With more namespaces than this, one that reaches (or is reached by) every other one says so
#: instead of drawing an arrow to each.
MARK_ABOVE = 3


def _everywhere(namespaces: list[NamespaceBox],
                arrows: list[NamespaceArrow]) -> list[NamespaceBox]:
    others = len(namespaces) - 1
    out_ports: dict[str, set[Port]] = defaultdict(set)
    in_ports: dict[str, set[Port]] = defaultdict(set)
    out_count: dict[str, int] = defaultdict(int)
    in_count: dict[str, int] = defaultdict(int)
    for a in arrows:
        out_ports[a.src].update(a.ports)
        in_ports[a.dst].update(a.ports)
        out_count[a.src] += 1
        in_count[a.dst] += 1
    return [replace(n,
                    reaches_all=tuple(sorted(out_ports[n.id])) if out_count[n.id] == others
                    else (),
                    reached_by_all=tuple(sorted(in_ports[n.id])) if in_count[n.id] == others
                    else ())
            for n in namespaces]


def _by_namespace(values: np.ndarray[Any, Any], ns_of: np.ndarray[Any, Any],
                  count: int) -> np.ndarray[Any, Any]:
    """Sum a box x box table into namespace x namespace."""
    out = np.zeros((count, count), dtype=np.int64)
    np.add.at(out, (ns_of[:, None], ns_of[None, :]), values)
    return out


def elsewhere_id(namespace_index: int, *, source: bool) -> str:
    """The id of a stand-in box for another namespace in a namespace's picture: `x3` where
    arrows come from namespace 3, `y3` where arrows go to it (drawn left and right)."""
    return f"{'x' if source else 'y'}{namespace_index}"


def namespace_picture(graph: ConnectivityGraph, index: int) -> ConnectivityGraph:
    """The whole picture cut down to namespace `index` (an `ns<index>` id in `graph`).

    Its boxes and arrows stay as they are; an arrow's other end in another namespace (a box, the
    namespace's `all endpoints` box, or a hub leading there) becomes a stand-in box for that
    namespace — one on the left for arrows coming from it, one on the right for arrows going to
    it, so that every arrow runs left to right — and arrows to the same stand-in merge (their
    ports joined). Hubs are formed again over what is left.
    """
    me = f"ns{index}"
    by_id = {ns.id: ns for ns in graph.namespaces}
    by_name = {ns.name: ns.id for ns in graph.namespaces}
    mine = by_id[me]

    def home(end: str) -> str:
        """The namespace id an end belongs to."""
        if end in graph.nodes:
            return by_name[graph.nodes[end].namespace]
        return end

    # Expand hubs back into arrows: every source of a hub reaches every destination of it.
    into: dict[str, list[str]] = defaultdict(list)
    out_of: dict[str, list[str]] = defaultdict(list)
    plain: list[tuple[str, str, tuple[Port, ...]]] = []
    outside: list[GraphEdge] = []  # arrows to or from the outside stay as they are
    by_ip: list[tuple[str, str, tuple[Port, ...]]] = []  # drawn apart, never in hubs
    for e in graph.edges:
        if OUTSIDE in (e.src, e.dst):
            if e.src in mine.nodes or e.dst in mine.nodes:
                outside.append(e)
        elif e.by_ip:
            by_ip.append((e.src, e.dst, e.ports))
        elif e.dst in graph.hubs:
            into[e.dst].append(e.src)
        elif e.src in graph.hubs:
            out_of[e.src].append(e.dst)
        else:
            plain.append((e.src, e.dst, e.ports))
    for hub_id, hub in graph.hubs.items():
        plain += [(s, d, hub.ports) for s in into[hub_id] for d in out_of[hub_id]]

    stand_ins: set[tuple[str, int]] = set()

    def ref(end: str, kind: str) -> tuple[str, int]:
        where = home(end)
        if where == me:
            return ("n", int(end[1:])) if end in graph.nodes else ("ns", index)
        stand_ins.add((kind, int(where[2:])))
        return (kind, int(where[2:]))

    merged: dict[tuple[tuple[str, int], tuple[str, int]], set[Port]] = defaultdict(set)
    for src, dst, ports in plain:
        if home(src) != me and home(dst) != me:
            continue
        merged[(ref(src, "x"), ref(dst, "y"))].update(ports)
    edges, hub_ports = hub_compact({k: frozenset(v) for k, v in merged.items()})
    merged_ip: dict[tuple[tuple[str, int], tuple[str, int]], set[Port]] = defaultdict(set)
    for src, dst, ports in by_ip:
        if home(src) == me or home(dst) == me:
            merged_ip[(ref(src, "x"), ref(dst, "y"))].update(ports)

    def ref_id(r: tuple[str, int]) -> str:
        kind, i = r
        return {"n": f"n{i}", "ns": me, "x": elsewhere_id(i, source=True),
                "y": elsewhere_id(i, source=False), "h": f"h{i}"}[kind]

    nodes = {n: graph.nodes[n] for n in mine.nodes}
    for kind, other in sorted(stand_ins):
        ns = by_id[f"ns{other}"]
        members = tuple(m for n in ns.nodes for m in graph.nodes[n].members)
        nid = elsewhere_id(other, source=kind == "x")
        nodes[nid] = GraphNode(nid, ns.name, wording.elsewhere_words(ns.name, source=kind == "x"),
                               members, (), elsewhere=True)
    # A hub all of whose ends are in this namespace is drawn inside it.
    ends: dict[str, set[str]] = defaultdict(set)
    for (s, d) in edges:
        for end, other_end in ((s, d), (d, s)):
            if end[0] == "h":
                ends[ref_id(end)].add(other_end[0])
    hubs = {f"h{i}": GraphHub(f"h{i}", tuple(sorted(p)),
                              mine.name if ends[f"h{i}"] <= {"n", "ns"} else None)
            for i, p in enumerate(hub_ports)}
    edge_list = sorted([GraphEdge(ref_id(s), ref_id(d), tuple(sorted(p)))
                        for (s, d), p in edges.items()]
                       + [GraphEdge(ref_id(s), ref_id(d), tuple(sorted(p)), by_ip=True)
                          for (s, d), p in merged_ip.items()] + outside)
    return ConnectivityGraph(graph.ports, (mine,), nodes, tuple(edge_list), hubs,
                             focus=None, omits_open_pairs=graph.omits_open_pairs)
