"""The connectivity picture: who may connect to whom, drawn so that a big cluster stays legible.

Nodes. The engine groups endpoints into *classes* (same namespace, labels, container ports and
ipBlock membership: every policy treats the members alike). The picture goes one step further
and draws one box per *connectivity group*: the classes of one namespace that reach exactly the
same endpoints and are reached by exactly the same endpoints, on every port examined, with the
same isolation. A box of one class is called by its workload (`web`, `web ×3` for three
endpoints); a box of several classes by the labels they share that the rest of the namespace
does not (`tier=worker ×28`). Boxes are grouped by namespace.

Edges. An arrow is a connection that may be opened, labelled with its ports, compacted
(`TCP/53,8000-8080 · UDP/53`). Four rules keep the number of arrows near the number of decisions
rather than n²:

1. Unisolated pairs are markers, not arrows. A box that no policy isolates for ingress is marked
   `ingress open`, one that no policy isolates for egress `egress open`. A connection from an
   egress-open box to an ingress-open box is allowed on every port, so it is not drawn: the two
   markers say it. (With `--focus`, nothing is left out.) Boxes that *are* isolated but admit
   every source (`from: []`) keep their arrows: that is a decision someone wrote.
2. Namespace arrows. Per port, when every box of namespace M reaches every box of N, one arrow
   joins the two namespaces; when one box reaches every (other) box of N, or every (other) box of
   M reaches one box, one arrow joins the box and the namespace's `all endpoints` box. When every
   box of a namespace reaches every other, the namespace says `all reach each other` instead of
   drawing the clique.
3. Hubs. Arrows that form a complete bipartite pattern (every one of several sources reaches
   every one of several destinations, on the same ports) meet in a small hub that carries the
   ports: |A| + |B| arrows instead of |A| × |B|.
4. Markers shared by every box of a namespace are written once, on the namespace.

The picture is built from the engine's class-level matrix; it never re-derives a verdict. This
module has no I/O: `podwall.analysis.render.{dot,mermaid,svg}` format it.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.analysis.exposure import ExposureTable, port_ranges
from podwall.engine import Engine, Matrix, PortVerdicts
from podwall.engine.classes import BoolArray, IntArray
from podwall.engine.matrix import RowTable
from podwall.engine.offline import offline_rules
from podwall.errors import PodwallError, QueryError
from podwall.model import Direction, Endpoint, Port, PortQuery

#: Above this many classes a whole-cluster picture is refused (use --focus), and classes are no
#: longer merged into connectivity groups: the class-level matrix per port grows with its square.
MAX_CLASSES = 3000

# Labels a box is preferably called by, and labels that never name anything.
_NAME_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "name", "component", "run")
_NOISE_LABELS = ("pod-template-hash", "controller-revision-hash",
                 "statefulset.kubernetes.io/pod-name", "pod-template-generation")
# Suffixes that controllers append to pod names: ReplicaSet pods `-7d9f8c6b5-x2k4p`,
# StatefulSet ordinals `-0`.
_POD_SUFFIX = re.compile(r"-[bcdfghjklmnpqrstvwxz2456789]{5}$")
_RS_HASH = re.compile(r"-[bcdfghjklmnpqrstvwxz2456789]{6,10}$")
_ORDINAL = re.compile(r"-\d+$")


# -- the picture --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One box. `open_in`/`open_out`: no policy isolates that direction (see module)."""

    id: str
    namespace: str
    label: str  # `web ×3`, inside its namespace
    members: tuple[str, ...]  # `ns/name` of every endpoint
    workloads: tuple[str, ...]  # the name of each class it groups (`api`, `auth`)
    open_in: bool = False
    open_out: bool = False
    focus: bool = False
    elsewhere: bool = False  # a stand-in for another namespace (see analysis.overview)
    implied: tuple[str, ...] = ()  # members the input did not carry (kube-dns)

    @property
    def name(self) -> str:
        """`shop/web ×3`: the label with its namespace, as lists show it."""
        return f"{self.namespace}/{self.label}"


@dataclass(frozen=True, slots=True)
class GraphHub:
    """Where several sources meet several destinations on the same ports (module, rule 3).

    `namespace` is set when every end is in that namespace (so it is drawn inside it).
    """

    id: str
    ports: tuple[Port, ...]
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class GraphNamespace:
    """A namespace. Markers are set here (and not on its nodes) when every node shares them."""

    id: str
    name: str
    nodes: tuple[str, ...]
    open_in: bool = False
    open_out: bool = False
    internal: tuple[Port, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class GraphEdge:
    """`src`/`dst` are node ids (`n3`), namespace ids (`ns1`: every node in it) or hub ids (`h0`).

    An edge into or out of a hub carries the hub's ports.
    """

    src: str
    dst: str
    ports: tuple[Port, ...] = field(compare=False)
    addresses: str = ""  # an arrow to or from OUTSIDE: the outside addresses it stands for
    by_ip: bool = False  # allowed only because pod IPs lie in an ipBlock (see `build_graph`)


#: The id of the one node that stands for every address outside the cluster.
OUTSIDE = "outside"


@dataclass(frozen=True)
class ConnectivityGraph:
    ports: tuple[Port, ...]
    namespaces: tuple[GraphNamespace, ...]
    nodes: dict[str, GraphNode]
    edges: tuple[GraphEdge, ...]
    hubs: dict[str, GraphHub] = field(default_factory=dict)
    focus: str | None = None
    omits_open_pairs: bool = True
    # rules whose nodes/domainNames peers cannot be decided offline (drawn as matching nothing)
    offline: tuple[str, ...] = ()

    def port_words(self, ports: Iterable[Port]) -> str:
        return wording.port_set_words(ports, self.ports)

    def edge_words(self, edge: GraphEdge) -> str:
        """An arrow's label: its ports, after the outside addresses it stands for (if any)."""
        ports = self.port_words(edge.ports)
        if edge.by_ip:
            return wording.by_ip_edge_words(ports)
        return wording.outside_edge_words(edge.addresses, ports) if edge.addresses else ports

    @property
    def has_outside(self) -> bool:
        return any(OUTSIDE in (e.src, e.dst) for e in self.edges)

    def namespace(self, namespace_id: str) -> GraphNamespace | None:
        for ns in self.namespaces:
            if ns.id == namespace_id:
                return ns
        return None

    def node_markers(self, node: GraphNode) -> list[str]:
        """The marker lines a node shows (those its namespace does not already show)."""
        ns = next((n for n in self.namespaces if n.name == node.namespace), None)
        lines: list[str] = []
        if node.open_in and (ns is None or not ns.open_in):
            lines.append(wording.OPEN_IN)
        if node.open_out and (ns is None or not ns.open_out):
            lines.append(wording.OPEN_OUT)
        return lines

    def namespace_markers(self, ns: GraphNamespace) -> list[str]:
        lines: list[str] = []
        if ns.open_in:
            lines.append(wording.OPEN_IN)
        if ns.open_out:
            lines.append(wording.OPEN_OUT)
        if ns.internal:
            lines.append(wording.internal_words(self.port_words(ns.internal)))
        return lines

    def legend(self) -> list[str]:
        lines = wording.graph_legend(focus=self.focus, omitted=self.omits_open_pairs,
                                     hubs=bool(self.hubs))
        if self.has_outside:
            lines.append(wording.OUTSIDE_LEGEND)
        if any(e.by_ip for e in self.edges):
            lines.append(wording.BY_IP_LEGEND)
        if self.offline:
            lines.append(wording.offline_legend_words(self.offline))
        return lines

    def to_json(self) -> dict[str, Any]:
        """The picture as data (`podwall graph -o json`; docs/graph.md describes the shape)."""
        def ports(ps: Iterable[Port]) -> list[str]:
            return [str(p) for p in ps]

        return {
            "ports": ports(self.ports),
            "focus": self.focus,
            "omitsOpenPairs": self.omits_open_pairs,
            **({"cannotDecideOffline": list(self.offline)} if self.offline else {}),
            "namespaces": [{"id": ns.id, "name": ns.name, "nodes": list(ns.nodes),
                            "ingressOpen": ns.open_in, "egressOpen": ns.open_out,
                            "allReachEachOther": ports(ns.internal)}
                           for ns in self.namespaces],
            "nodes": [{"id": n.id, "namespace": n.namespace, "label": n.label,
                       "members": list(n.members), "workloads": list(n.workloads),
                       "ingressOpen": n.open_in, "egressOpen": n.open_out,
                       **({"focus": True} if n.focus else {}),
                       **({"elsewhere": True} if n.elsewhere else {}),
                       **({"implied": list(n.implied)} if n.implied else {})}
                      for n in self.nodes.values()],
            "hubs": [{"id": h.id, "ports": ports(h.ports), "namespace": h.namespace}
                     for h in self.hubs.values()],
            "edges": [{"from": e.src, "to": e.dst, "ports": ports(e.ports),
                       **({"addresses": e.addresses} if e.addresses else {}),
                       **({"byPodIp": True} if e.by_ip else {})}
                      for e in self.edges],
        }


# -- classes and boxes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassLayout:
    """Endpoint classes in picture order (by namespace, then name): index -> engine class."""

    order: IntArray  # layout index -> engine class id
    members: tuple[tuple[Endpoint, ...], ...]  # layout index -> its endpoints
    stems: tuple[str, ...]
    class_of_endpoint: dict[str, int]  # `ns/name` -> layout index

    @property
    def size(self) -> int:
        return len(self.stems)

    def namespace(self, index: int) -> str:
        return self.members[index][0].namespace


def class_layout(engine: Engine, matrix: Matrix) -> ClassLayout:
    endpoints = engine.cluster.endpoints
    by_class: dict[int, list[Endpoint]] = defaultdict(list)
    for i, ep in enumerate(endpoints):
        by_class[int(matrix.class_of[i])].append(ep)
    entries = sorted(
        ((eps[0].namespace, class_stem(eps), eps[0].name, cid, tuple(eps))
         for cid, eps in by_class.items()))
    order = np.array([e[3] for e in entries], dtype=np.int64)
    index = {ep.key: i for i, e in enumerate(entries) for ep in e[4]}
    return ClassLayout(order, tuple(e[4] for e in entries), tuple(e[1] for e in entries), index)


@dataclass(frozen=True, slots=True)
class Boxes:
    """Connectivity groups (the picture's nodes), contiguous per namespace.

    Shared by the graph and the report, so both number the boxes the same way.
    """

    layout: ClassLayout
    classes: tuple[tuple[int, ...], ...]  # box -> layout indices of its classes
    order: IntArray  # box -> engine class id of a representative class
    labels: tuple[str, ...]
    open_in: BoolArray
    open_out: BoolArray
    exposure: ExposureTable | None = None  # verdicts with the outside, per engine class
    # the matrix as if no pod IP were in an ipBlock, and each layout index's class in it
    plain: tuple[Matrix, IntArray] | None = None

    @property
    def size(self) -> int:
        return len(self.classes)

    def namespace(self, box: int) -> str:
        return self.layout.namespace(self.classes[box][0])

    def members(self, box: int) -> tuple[Endpoint, ...]:
        return tuple(ep for c in self.classes[box] for ep in self.layout.members[c])

    def box_of_endpoint(self, key: str) -> int:
        cls = self.layout.class_of_endpoint[key]
        return next(b for b, cs in enumerate(self.classes) if cls in cs)

    def spans(self) -> list[tuple[str, int, int]]:
        """`(namespace, start, stop)` of the boxes of each namespace."""
        out: list[tuple[str, int, int]] = []
        for i in range(self.size):
            ns = self.namespace(i)
            if out and out[-1][0] == ns:
                out[-1] = (ns, out[-1][1], i + 1)
            else:
                out.append((ns, i, i + 1))
        return out


def boxes(engine: Engine, matrix: Matrix, layout: ClassLayout | None = None) -> Boxes:
    """Merge the classes of each namespace that connect identically (up to MAX_CLASSES)."""
    layout = layout if layout is not None else class_layout(engine, matrix)
    size = layout.size
    open_in = np.array([engine.open(m[0], Direction.INGRESS) for m in layout.members],
                       dtype=np.bool_)
    open_out = np.array([engine.open(m[0], Direction.EGRESS) for m in layout.members],
                        dtype=np.bool_)
    numbers = [p for p in matrix.ports if isinstance(p, PortQuery)]
    exposure = ExposureTable(engine.cluster, ports=port_ranges(numbers)) if numbers else None
    plain = _without_pod_ips(engine, matrix, layout)
    if size <= MAX_CLASSES:
        digests = [hashlib.blake2b(digest_size=16) for _ in range(size)]
        for port in matrix.ports:
            allowed = port_sides(matrix, port, layout.order).allowed
            rows, cols = np.packbits(allowed, axis=1), np.packbits(allowed.T, axis=1)
            for i in range(size):
                digests[i].update(rows[i].tobytes())
                digests[i].update(cols[i].tobytes())
        if plain is not None:  # and one way of being reached: by selectors or by pod IP
            for port in matrix.ports:
                allowed = port_sides(plain[0], port, plain[1]).allowed
                rows, cols = np.packbits(allowed, axis=1), np.packbits(allowed.T, axis=1)
                for i in range(size):
                    digests[i].update(rows[i].tobytes())
                    digests[i].update(cols[i].tobytes())
        if exposure is not None:  # a box is one exposure to the outside too
            for i in range(size):
                c = exposure.class_of_key(layout.members[i][0].key)
                digests[i].update(np.packbits(exposure.ingress[:, c, :]).tobytes())
                digests[i].update(np.packbits(exposure.egress[:, c, :]).tobytes())
        keys = [(layout.namespace(i), bool(open_in[i]), bool(open_out[i]), digests[i].digest())
                for i in range(size)]
    else:
        keys = [(layout.namespace(i), False, False, str(i).encode()) for i in range(size)]
    grouped: dict[tuple[str, bool, bool, bytes], list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        grouped[key].append(i)
    ns_labels = _namespace_labels(layout)
    entries = sorted(
        (layout.namespace(cs[0]), _box_label(layout, cs, ns_labels), cs[0], tuple(cs))
        for cs in grouped.values())
    classes = tuple(e[3] for e in entries)
    return Boxes(
        layout, classes,
        np.array([layout.order[cs[0]] for cs in classes], dtype=np.int64),
        tuple(e[1] for e in entries),
        np.array([open_in[cs[0]] for cs in classes], dtype=np.bool_),
        np.array([open_out[cs[0]] for cs in classes], dtype=np.bool_), exposure, plain)


def _namespace_labels(layout: ClassLayout) -> dict[str, set[tuple[str, str]]]:
    """Labels every endpoint of a namespace carries (they tell nothing apart)."""
    common: dict[str, set[tuple[str, str]]] = {}
    for members in layout.members:
        for ep in members:
            items = set(ep.labels.items_sorted)
            if ep.namespace in common:
                common[ep.namespace] &= items
            else:
                common[ep.namespace] = items
    return common


def _box_label(layout: ClassLayout, classes: Sequence[int],
               ns_labels: dict[str, set[tuple[str, str]]]) -> str:
    count = sum(len(layout.members[c]) for c in classes)
    if len(classes) == 1:
        return wording.class_words(layout.stems[classes[0]], count)
    shared: set[tuple[str, str]] | None = None
    for c in classes:
        items = set(layout.members[c][0].labels.items_sorted)
        shared = items if shared is None else shared & items
    telling = sorted((shared or set()) - ns_labels.get(layout.namespace(classes[0]), set()),
                     key=lambda kv: (kv[0] not in _NAME_LABELS, kv[0] in _NOISE_LABELS, kv))
    telling = [kv for kv in telling if kv[0] not in _NOISE_LABELS][:2]
    if telling:
        stem = ",".join(f"{k}={v}" for k, v in telling)
    else:
        names = sorted({layout.stems[c] for c in classes})
        stem = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
    return wording.class_words(stem, count)


def class_stem(members: Sequence[Endpoint]) -> str:
    """What a class is called inside its namespace box.

    One member: its name, less a ReplicaSet's suffixes (`api-7d9f8c6b5-x2k4p` -> `api`). Several:
    the workload name they share once controller suffixes are removed, else their common name
    prefix (`web-*`), else the label they are known by (`app=web`), else all their labels.
    """
    if len(members) == 1:
        name = members[0].name
        if members[0].implied:
            return wording.implied_words(name, True)
        bare = _POD_SUFFIX.sub("", name)
        stem = _RS_HASH.sub("", bare) if bare != name else name
        return stem if stem != bare else name
    stems = {_workload_stem(m.name) for m in members}
    if len(stems) == 1:
        return stems.pop()
    prefix = _common_prefix([m.name for m in members])
    if len(prefix) >= 2:
        return f"{prefix}-*"
    labels = members[0].labels
    for key in _NAME_LABELS:
        value = labels.get(key)
        if value is not None:
            return f"{key}={value}"
    return str(labels) if len(labels) else "(no labels)"


def _workload_stem(name: str) -> str:
    stem = _POD_SUFFIX.sub("", name)
    if stem != name:
        return _RS_HASH.sub("", stem)
    return _ORDINAL.sub("", name)


def _common_prefix(names: list[str]) -> str:
    first, last = min(names), max(names)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    if n < len(first) or n < len(last):
        prefix = prefix.rpartition("-")[0]
    return prefix


# -- the verdicts, in picture order -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortSides:
    """For one port, over classes in a given order: `egress[s, d]` (egress at s lets it reach
    d), `ingress[d, s]` (ingress at d admits s), and `allowed[s, d]` (both)."""

    egress: BoolArray
    ingress: BoolArray
    allowed: BoolArray


def port_sides(matrix: Matrix, port: Port, order: IntArray) -> PortSides:
    verdicts = matrix.verdicts[port]
    if isinstance(verdicts, PortVerdicts):
        eg = verdicts.egress.rows_for(order)[:, order]
        ing = verdicts.ingress.rows_for(order)[:, order]
        return PortSides(eg, ing, eg & ing.T)
    allowed = verdicts.dense(order)  # measured, not computed: the sides are unknown
    return PortSides(allowed, allowed.T, allowed)


def _column(table: RowTable, owners: IntArray, column: int) -> BoolArray:
    """Bit `column` of the rows of `owners`, without unpacking whole rows."""
    bytes_ = table.packed[table.of[owners], column >> 3]
    result: BoolArray = ((bytes_ >> (7 - (column & 7))) & 1).astype(np.bool_)
    return result


# -- building -----------------------------------------------------------------------------------


Ref = tuple[str, int]  # ("n", box), ("ns", namespace index) or ("h", hub index)


def build_graph(engine: Engine, ports: Sequence[Port] | None = None,
                focus: str | None = None, matrix: Matrix | None = None,
                groups: Boxes | None = None) -> ConnectivityGraph:
    """The picture of a cluster, or (`focus="ns/name"`) of one endpoint's neighbourhood."""
    matrix = matrix if matrix is not None else engine.matrix(ports)
    focus_box: int | None = None
    target: Endpoint | None = None
    if focus is not None:
        resolved = engine.resolve(focus)
        if not isinstance(resolved, Endpoint):
            raise QueryError(f"--focus {focus!r} is not an endpoint of the input (an IP "
                             "outside the cluster has no neighbourhood to draw)")
        target = resolved
    groups = groups if groups is not None else boxes(engine, matrix)
    if target is not None:
        focus_box = groups.box_of_endpoint(target.key)
    elif groups.layout.size > MAX_CLASSES:
        raise PodwallError(
            f"{groups.layout.size} endpoint classes are too many for one picture (at most "
            f"{MAX_CLASSES}): draw one endpoint's neighbourhood with --focus ns/name")
    size = groups.size
    spans = groups.spans()
    multi = np.array([len(groups.members(b)) > 1 for b in range(size)], dtype=np.bool_)
    single = np.flatnonzero(~multi)
    omitted = groups.open_out[:, None] & groups.open_in[None, :]

    edges: dict[tuple[Ref, Ref], set[Port]] = defaultdict(set)
    by_ip: dict[tuple[Ref, Ref], set[Port]] = defaultdict(set)
    internal: dict[int, set[Port]] = defaultdict(set)
    plain = None
    if groups.plain is not None:
        first = np.array([cs[0] for cs in groups.classes], dtype=np.int64)
        plain = (groups.plain[0], groups.plain[1][first])
    for port in matrix.ports:
        if focus_box is None:
            drawn = port_sides(matrix, port, groups.order).allowed & ~omitted
        else:
            drawn = _focus_port(matrix, port, groups.order, focus_box)
        drawn[single, single] = False  # one endpoint reaching itself: not worth an arrow
        if plain is not None:
            plain_matrix, plain_order = plain
            if focus_box is None:
                kept = port_sides(plain_matrix, port, plain_order).allowed
            else:
                kept = _focus_port(plain_matrix, port, plain_order, focus_box)
            ip_only = drawn & ~kept
            drawn &= kept
            for edge in _compact(ip_only, spans, multi, defaultdict(set), port, cliques=False):
                by_ip[edge].add(port)
        for edge in _compact(drawn, spans, multi, internal, port, cliques=focus_box is None):
            edges[edge].add(port)
    frozen = {k: frozenset(v) for k, v in edges.items()}
    hub_ports: list[frozenset[Port]] = []
    if focus_box is None:
        frozen, hub_ports = _hubs(frozen)

    node_ids = [f"n{i}" for i in range(size)]
    ns_ids = [f"ns{k}" for k in range(len(spans))]
    ns_of = [next(k for k, (_, a, b) in enumerate(spans) if a <= i < b) for i in range(size)]

    def ref_id(ref: Ref) -> str:
        kind, i = ref
        return node_ids[i] if kind == "n" else ns_ids[i] if kind == "ns" else f"h{i}"

    shown: set[int] = set(range(size)) if focus_box is None else {focus_box}
    if focus_box is not None:
        for src, dst in [*frozen, *by_ip]:
            for kind, i in (src, dst):
                if kind == "n":
                    shown.add(i)
                elif kind == "ns":
                    shown.update(range(spans[i][1], spans[i][2]))

    nodes: dict[str, GraphNode] = {}
    for i in sorted(shown):
        nodes[node_ids[i]] = GraphNode(
            node_ids[i], groups.namespace(i), groups.labels[i],
            tuple(ep.key for ep in groups.members(i)),
            tuple(groups.layout.stems[c] for c in groups.classes[i]),
            bool(groups.open_in[i]), bool(groups.open_out[i]), focus=i == focus_box,
            implied=tuple(ep.key for ep in groups.members(i) if ep.implied))
    namespaces: list[GraphNamespace] = []
    for k, (name, start, stop) in enumerate(spans):
        members = [node_ids[i] for i in range(start, stop) if i in shown]
        if not members:
            continue
        several = stop - start > 1
        namespaces.append(GraphNamespace(
            ns_ids[k], name, tuple(members),
            open_in=several and bool(groups.open_in[start:stop].all()),
            open_out=several and bool(groups.open_out[start:stop].all()),
            internal=tuple(sorted(internal.get(k, ())))))

    hub_ns: dict[int, set[int]] = defaultdict(set)
    for src, dst in frozen:
        for end, other in ((src, dst), (dst, src)):
            if end[0] == "h":
                hub_ns[end[1]].add(ns_of[other[1]] if other[0] == "n" else other[1])
    hubs = {f"h{i}": GraphHub(f"h{i}", tuple(sorted(p)),
                              spans[next(iter(hub_ns[i]))][0] if len(hub_ns[i]) == 1 else None)
            for i, p in enumerate(hub_ports)}
    edge_list = sorted([GraphEdge(ref_id(s), ref_id(d), tuple(sorted(p)))
                        for (s, d), p in frozen.items()]
                       + [GraphEdge(ref_id(s), ref_id(d), tuple(sorted(p)), by_ip=True)
                          for (s, d), p in by_ip.items()]
                       + outside_edges(engine, matrix.ports, groups, sorted(shown), node_ids))
    return ConnectivityGraph(tuple(matrix.ports), tuple(namespaces), nodes, tuple(edge_list),
                             hubs, focus=focus, omits_open_pairs=focus_box is None,
                             offline=tuple(str(r) for r in offline_rules(engine.cluster)))


def _without_pod_ips(engine: Engine, matrix: Matrix, layout: ClassLayout
                     ) -> tuple[Matrix, IntArray] | None:
    """The matrix as if no pod's IP were in any ipBlock, and each box's class in it; None when
    no pod's IP is in one (nothing to tell apart). An arrow allowed only in the real matrix is
    allowed only because pod IPs lie in an ipBlock: a rule written for addresses, which network
    plugins apply to pod traffic or not. Drawn apart (`by_ip`), never as a rule for pods."""
    cluster = engine.cluster
    # distinct blocks only: policies repeat a few (57 peers, 10 blocks at 1,000 pods)
    blocks = {p.ip_block for pol in cluster.policies for r in (*pol.ingress, *pol.egress)
              for p in r.peers if p.ip_block is not None}
    if not blocks or len(matrix.endpoints) != len(cluster.endpoints) or not any(
            ep.ip is not None and b.contains(ep.ip) for ep in cluster.endpoints for b in blocks):
        return None
    bare = replace(cluster, endpoints=tuple(replace(ep, ip=None) for ep in cluster.endpoints))
    plain = Engine(bare).matrix(matrix.ports)
    index = {ep.key: i for i, ep in enumerate(cluster.endpoints)}
    order = np.array([plain.class_of[index[members[0].key]] for members in layout.members],
                     dtype=np.int64)
    return plain, order  # order: per layout index, its class in `plain`


def outside_edges(engine: Engine, ports: Sequence[Port], groups: Boxes, shown: Sequence[int],
                  node_ids: Sequence[str]) -> list[GraphEdge]:
    """Arrows between boxes and the OUTSIDE node, labelled with the outside addresses (never
    drawn as if a pod were the source: `podwall.analysis.exposure`). Like unisolated pairs
    (module, rule 1), a direction that no policy isolates draws no arrow: its marker says that
    it allows everything, the outside included. Numbered ports only (a name has no number
    outside the cluster). The classes of a box share their exposure (`boxes` keys on it)."""
    numbers = [p for p in ports if isinstance(p, PortQuery)]
    table = groups.exposure
    if not numbers or table is None:
        return []
    out: list[GraphEdge] = []
    for box in shown:
        cls = table.class_of_key(groups.members(box)[0].key)
        for direction, open_ in ((Direction.INGRESS, groups.open_in[box]),
                                 (Direction.EGRESS, groups.open_out[box])):
            if open_:
                continue
            cells = table.side(direction)[:, cls, :]
            by_blocks: dict[tuple[int, ...], list[Port]] = defaultdict(list)
            for k in range(cells.shape[0]):
                blocks = tuple(np.flatnonzero(cells[k]).tolist())
                if blocks:
                    by_blocks[blocks].append(table.ports[k].representative)
            for blocks, chosen in by_blocks.items():
                words = str(table.outside.union(blocks))
                src, dst = ((OUTSIDE, node_ids[box]) if direction is Direction.INGRESS
                            else (node_ids[box], OUTSIDE))
                out.append(GraphEdge(src, dst, tuple(sorted(chosen)), words))
    return out


def _focus_port(matrix: Matrix, port: Port, order: IntArray, node: int) -> BoolArray:
    """The edges of one box, reading only its row and column (so it works at any size)."""
    size = len(order)
    verdicts = matrix.verdicts[port]
    me = np.array([order[node]], dtype=np.int64)
    if isinstance(verdicts, PortVerdicts):
        mine = int(order[node])
        reaches = (verdicts.egress.rows_for(me)[0, order]  # egress at node lets it reach d
                   & _column(verdicts.ingress, order, mine))  # ingress at d admits node
        reached = (_column(verdicts.egress, order, mine)  # egress at s lets it reach node
                   & verdicts.ingress.rows_for(me)[0, order])  # ingress at node admits s
    else:
        dense = verdicts.dense(order)
        reaches, reached = dense[node], dense[:, node]
    drawn = np.zeros((size, size), dtype=np.bool_)
    drawn[node] = reaches
    drawn[:, node] = reached
    return drawn


def _compact(drawn: BoolArray, spans: list[tuple[str, int, int]], multi: BoolArray,
             internal: dict[int, set[Port]], port: Port, *,
             cliques: bool = True) -> list[tuple[Ref, Ref]]:
    """Edges of one port, replacing full blocks by namespace edges (module docstring, rule 2).

    `drawn` is consumed (cells are cleared as they are covered). A neighbourhood (`--focus`)
    draws no cliques: they would hide the boxes it connects to.
    """
    out: list[tuple[Ref, Ref]] = []
    if not drawn.any():
        return out
    # Cliques: every box of a namespace reaches every other (and the members of a box of several
    # endpoints reach each other).
    for k, (_, a, b) in enumerate(spans):
        if b - a < 2 or not cliques:
            continue
        block = drawn[a:b, a:b]
        off = ~np.eye(b - a, dtype=np.bool_)
        if block[off].all() and block.diagonal()[multi[a:b]].all():
            internal[k].add(port)
            block[:] = False
    big = [k for k, (_, a, b) in enumerate(spans) if b - a > 1]
    for m in big:
        _, ma, mb = spans[m]
        for n in big:
            if m == n:
                continue
            _, na, nb = spans[n]
            block = drawn[ma:mb, na:nb]
            if block.all():
                out.append((("ns", m), ("ns", n)))
                block[:] = False
    # One box and a whole namespace (its own included: then "every other endpoint in it").
    rows = np.flatnonzero(drawn.any(axis=1))
    for n in big:
        _, na, nb = spans[n]
        for s in rows.tolist():
            cells = drawn[s, na:nb].copy()
            inside = na <= s < nb and not multi[s]
            if inside:
                cells[s - na] = True  # a single endpoint reaching itself goes without saying
            if len(cells) - inside >= 2 and cells.all():
                out.append((("n", s), ("ns", n)))
                drawn[s, na:nb] = False
    cols = np.flatnonzero(drawn.any(axis=0))
    for m in big:
        _, ma, mb = spans[m]
        for d in cols.tolist():
            cells = drawn[ma:mb, d].copy()
            inside = ma <= d < mb and not multi[d]
            if inside:
                cells[d - ma] = True
            if len(cells) - inside >= 2 and cells.all():
                out.append((("ns", m), ("n", d)))
                drawn[ma:mb, d] = False
    for s, d in zip(*np.nonzero(drawn), strict=True):
        out.append((("n", int(s)), ("n", int(d))))
    return out


Edges = dict[tuple[Ref, Ref], frozenset[Port]]


def hub_compact(edges: Edges) -> tuple[Edges, list[frozenset[Port]]]:
    """Hubs (module docstring, rule 3) over any arrows keyed by `(kind, index)` ends."""
    return _hubs(edges)


def _hubs(edges: Edges) -> tuple[Edges, list[frozenset[Port]]]:
    """Replace complete bipartite patterns by hubs (module docstring, rule 3).

    First destinations with the same sources on the same ports, then (among the arrows left)
    sources with the same destinations. Deterministic: groups are visited in sorted order.
    """
    hubs: list[frozenset[Port]] = []
    out = dict(edges)
    for by_destination in (True, False):
        ends: dict[tuple[Ref, frozenset[Port]], set[Ref]] = defaultdict(set)
        for (src, dst), ports in out.items():
            if src[0] == "h" or dst[0] == "h":
                continue
            if by_destination:
                ends[(dst, ports)].add(src)
            else:
                ends[(src, ports)].add(dst)
        patterns: dict[tuple[frozenset[Port], frozenset[Ref]], list[Ref]] = defaultdict(list)
        for (end, ports), others in ends.items():
            if len(others) >= 2:
                patterns[(ports, frozenset(others))].append(end)
        for (ports, group), these in sorted(patterns.items(), key=_pattern_order):
            if len(these) < 2:
                continue
            hub: Ref = ("h", len(hubs))
            hubs.append(ports)
            sources, targets = (group, these) if by_destination else (these, group)
            for s in sources:
                for d in targets:
                    del out[(s, d)]
            for s in sorted(sources):
                out[(s, hub)] = ports
            for d in sorted(targets):
                out[(hub, d)] = ports
    return out, hubs


def _pattern_order(item: tuple[tuple[frozenset[Port], frozenset[Ref]], list[Ref]]
                   ) -> tuple[tuple[Port, ...], tuple[Ref, ...], tuple[Ref, ...]]:
    (ports, others), these = item
    return tuple(sorted(ports)), tuple(sorted(others)), tuple(sorted(these))
