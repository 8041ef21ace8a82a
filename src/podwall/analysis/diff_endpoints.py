"""The pieces of `diff` that name things: line ends, and endpoints only one input has.

`ConnectionChange` and `EndpointChange` are the lines of a diff; `EndpointReach` finds, per
class of the endpoints only one input has, what they reach and what reaches them, per port,
and lists those connections (`+ prod/backup-agent -> prod/db TCP/3306 (...)`) beside the
counts, with the rules that admit them. Everything is read from class-level bit rows.
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.analysis.diff_outside import Ref, implied_keys, pod_ip_note
from podwall.engine.classes import BoolArray, IntArray
from podwall.engine.matrix import PortVerdicts, RowTable
from podwall.model import NamedPortQuery, Port

ADDED, REMOVED = "added", "removed"
_BRACE_LIMIT = 6  # up to this many names are listed as `ns/{a,b,c}` rather than line by line
CONNECTION_LIMIT = 100  # beyond this many lines, an endpoint's connections are counted only


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """Connections from `src` to `dst` on `ports` that appear (`added`) or disappear.

    `src`/`dst` name endpoints: `ns/name`, `ns/*` (every endpoint of the namespace that both
    inputs have), `ns/prefix*` (exactly the endpoints whose names start so) or `ns/{a,b}`.
    A pod never counts as connecting to itself. `count` is endpoint pairs times ports.
    `src_implied`/`dst_implied`: the endpoints of each end that the input the line is about
    did not carry (the implied kube-dns), marked wherever the line is shown.
    """

    change: str
    src: str
    dst: str
    ports: tuple[Port, ...]
    reason: str
    rules: tuple[Ref, ...] = ()
    count: int = 1
    src_implied: tuple[str, ...] = ()
    dst_implied: tuple[str, ...] = ()

    @property
    def sign(self) -> str:
        return "+" if self.change == ADDED else "-"

    @property
    def implied(self) -> tuple[str, ...]:
        return tuple(sorted({*self.src_implied, *self.dst_implied}))

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "from": self.src, "to": self.dst,
                "ports": [str(p) for p in self.ports], "reason": self.reason,
                "rules": [r.to_json() for r in self.rules], "connections": self.count,
                **({"implied": list(self.implied)} if self.implied else {})}


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """Endpoints only one input has (`count` of them, named like a `ConnectionChange` end).

    `reaches`/`reached_by` are per endpoint, over that input's endpoints and the examined ports.
    `connections` are those connections as lines (from and to other endpoints of that input);
    empty with `listed` False when there are more than `CONNECTION_LIMIT` lines of them.
    """

    change: str
    endpoint: str
    reaches: int
    reached_by: int
    count: int = 1
    connections: tuple[ConnectionChange, ...] = ()
    listed: bool = True
    implied: tuple[str, ...] = ()  # the endpoints among them that the input did not carry

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "endpoint": self.endpoint, "endpoints": self.count,
                "reaches": self.reaches, "reachedBy": self.reached_by,
                "connections": [c.to_json() for c in self.connections],
                "connectionsListed": self.listed,
                **({"implied": list(self.implied)} if self.implied else {})}


def _bits(table: RowTable, columns: IntArray) -> BoolArray:
    """Bits `columns` of every row of a bit-packed table: shape (rows, len(columns))."""
    byte = table.packed[:, columns >> 3]
    shift = (7 - (columns & 7)).astype(np.uint8)
    result: BoolArray = ((byte >> shift) & 1).astype(np.bool_)
    return result


def _sides(verdicts: PortVerdicts, srcs: IntArray,
           dsts: IntArray) -> tuple[BoolArray, BoolArray]:
    """(egress at the source allows, ingress at the destination allows), each (srcs, dsts).

    Unpacks only the rows of the shorter list, and gathers single bits for the other one.
    """
    if len(srcs) <= len(dsts):
        egress = verdicts.egress.rows_for(srcs)[:, dsts]
        ingress = _bits(verdicts.ingress, srcs)[verdicts.ingress.of[dsts]].T
    else:
        egress = _bits(verdicts.egress, dsts)[verdicts.egress.of[srcs]]
        ingress = verdicts.ingress.rows_for(dsts)[:, srcs].T
    return egress, ingress


def _order(label: str) -> tuple[str, str]:
    """Sort `ns/name` labels by namespace, then name (`a/x` before `a-b/x`)."""
    ns, _, rest = label.partition("/")
    return ns, rest


def _common_prefix(texts: Sequence[str]) -> str:
    """The longest common prefix (of the lexicographically first and last is enough)."""
    first, last = min(texts), max(texts)
    n = 0
    limit = min(len(first), len(last))
    while n < limit and first[n] == last[n]:
        n += 1
    return first[:n]


def _label(ns: str, count: int, prefix: str, names: Callable[[], Sequence[str]],
           everyone: Sequence[str], extra: str | None, force: bool = False) -> str | None:
    """`ns/name` for one; `ns/prefix*` when exactly these (and `extra`) among `everyone` (sorted)
    start with `prefix`; `ns/{a,b}` when few (or forced); else None."""
    if count == 1:
        return f"{ns}/{names()[0]}"
    if prefix:
        lo = bisect.bisect_left(everyone, prefix)
        hi = bisect.bisect_left(everyone, prefix + "\U0010ffff")
        if hi - lo == count + (1 if extra is not None and extra.startswith(prefix) else 0):
            return f"{ns}/{prefix}*"
    if force or count <= _BRACE_LIMIT:
        return f"{ns}/{{{','.join(names())}}}"
    return None


# -- endpoints only one input has -------------------------------------------------------------


class EndpointReach:
    """Per class of the endpoints only one input has: how many endpoints it reaches and is
    reached by (union over ports), from (classes x all classes) blocks, never C x C."""

    def __init__(self, differ: Any) -> None:
        self.d = differ
        self.parts: list[tuple[str, Any, list[str], IntArray, BoolArray, BoolArray]] = []
        for change, side, other in ((REMOVED, differ.old, differ.new),
                                    (ADDED, differ.new, differ.old)):
            view = differ.view
            only = [ep.key for ep in side.cluster.endpoints
                    if ep.key not in other.index and view.shows_endpoint(ep)]
            if not only:
                continue
            positions = np.fromiter((side.index[k] for k in only), np.int64, len(only))
            classes = np.unique(side.computer.classes.class_of[positions]).astype(np.int64)
            size = side.computer.classes.size
            self.parts.append((change, side, only, classes,
                               np.zeros((len(classes), size), dtype=np.bool_),
                               np.zeros((size, len(classes)), dtype=np.bool_)))

        self.per_port: list[list[tuple[BoolArray, BoolArray]]] = [[] for _ in self.parts]
        self.implied = implied_keys(differ.old.cluster, differ.new.cluster)

    def add(self, before: PortVerdicts, after: PortVerdicts) -> None:
        for at, (change, side, _, classes, reach, reached) in enumerate(self.parts):
            verdicts = before if change == REMOVED else after
            everyone = side.computer.classes.all_classes
            eg, ing = _sides(verdicts, classes, everyone)
            out = eg & ing
            reach |= out
            eg, ing = _sides(verdicts, everyone, classes)
            into = eg & ing
            reached |= into
            self.per_port[at].append((out, into))

    def changes(self) -> tuple[EndpointChange, ...]:
        out: list[EndpointChange] = []
        for at, (change, side, only, classes, reach, reached) in enumerate(self.parts):
            class_of = side.computer.classes.class_of
            n = len(side.cluster.endpoints)
            weight = np.bincount(class_of[:n], minlength=side.computer.classes.size)
            col = {int(c): k for k, c in enumerate(classes.tolist())}
            everyone: dict[str, list[str]] = defaultdict(list)
            for ep in side.cluster.endpoints:
                everyone[ep.namespace].append(ep.name)
            groups: dict[tuple[str, int], list[str]] = defaultdict(list)
            for key in only:
                ns, name = key.split("/", 1)
                groups[(ns, int(class_of[side.index[key]]))].append(name)
            for (ns, c), names in sorted(groups.items()):
                k = col[c]
                self_pair = int(reach[k, c])
                reaches = int(reach[k].astype(np.int64) @ weight) - self_pair
                reached_by = int(reached[:, k].astype(np.int64) @ weight) - self_pair
                names.sort()
                if len(names) >= 2 and len(names) == len(everyone[ns]):
                    label = f"{ns}/*"
                else:
                    label = _label(ns, len(names), _common_prefix(names),
                                   functools.partial(list, names), sorted(everyone[ns]), None,
                                   force=True) or ""
                lines = self.connections(at, k, c, ns, names, label, everyone)
                implied = tuple(f"{ns}/{n}" for n in names if f"{ns}/{n}" in self.implied[change])
                out.append(EndpointChange(change, label, reaches, reached_by, len(names),
                                          lines or (), lines is not None, implied))
        out.sort(key=lambda e: (e.change != REMOVED, _order(e.endpoint)))
        return tuple(out)

    def connections(self, at: int, k: int, c: int, ns: str, names: list[str], label: str,
                    everyone: dict[str, list[str]]) -> tuple[ConnectionChange, ...] | None:
        """The connections of one group of endpoints only one input has (class `c`, column
        `k`), with every other endpoint of that input, as lines; None: too many to list."""
        from podwall.analysis.exposure import group_label

        change, side = self.parts[at][0], self.parts[at][1]
        ports = self.d.ports
        if not ports:
            return ()
        out_rows = np.stack([o[k] for o, _ in self.per_port[at]])  # (ports, classes)
        in_rows = np.stack([i[:, k] for _, i in self.per_port[at]])
        cluster = side.cluster
        class_of = side.computer.classes.class_of[:len(cluster.endpoints)]
        own = set(names)
        mine = cluster.endpoints[side.index[f"{ns}/{names[0]}"]]
        members: dict[int, list[int]] = defaultdict(list)
        for i, cls in enumerate(class_of.tolist()):
            ep = cluster.endpoints[i]
            if not (ep.namespace == ns and ep.name in own):
                members[cls].append(i)
        view = self.d.view
        found: list[tuple[bool, int, tuple[int, ...]]] = []
        for outgoing, rows in ((True, out_rows), (False, in_rows)):
            for o in np.flatnonzero(rows.any(axis=0)).tolist():
                if not members.get(o):
                    continue
                other = cluster.endpoints[members[o][0]]
                src, dst = (mine, other) if outgoing else (other, mine)
                if not view.shows_pair(src, dst):
                    continue
                found.append((outgoing, o, tuple(np.flatnonzero(rows[:, o]).tolist())))
        if len(found) > CONNECTION_LIMIT:
            return None
        groups: dict[tuple[bool, str, tuple[int, ...], str, tuple[Ref, ...]],
                     list[int]] = defaultdict(list)
        for outgoing, o, port_ix in found:
            other = cluster.endpoints[members[o][0]]
            src, dst = (mine, other) if outgoing else (other, mine)
            by_reason: dict[tuple[str, tuple[Ref, ...]], list[int]] = defaultdict(list)
            for p in port_ix:  # each port its own reason: different rules may admit them
                by_reason[self.reason(change, side, src, dst, ports[p])].append(p)
            for (reason, rules), same in by_reason.items():
                for i in members[o]:
                    groups[(outgoing, cluster.endpoints[i].namespace, tuple(same), reason,
                            rules)].append(i)
        lines: list[ConnectionChange] = []
        for (outgoing, other_ns, port_ix, reason, rules), idx in groups.items():
            others = sorted(cluster.endpoints[i].name for i in idx)
            pool = sorted(n for n in everyone[other_ns] if other_ns != ns or n not in own)
            other_label = group_label(other_ns, others, pool)
            src_label, dst_label = (label, other_label) if outgoing else (other_label, label)
            implied = self.implied[change]
            mine_implied = tuple(f"{ns}/{n}" for n in names if f"{ns}/{n}" in implied)
            other_implied = tuple(f"{other_ns}/{n}" for n in others
                                  if f"{other_ns}/{n}" in implied)
            src_implied, dst_implied = ((mine_implied, other_implied) if outgoing
                                        else (other_implied, mine_implied))
            lines.append(ConnectionChange(change, src_label, dst_label,
                                          tuple(ports[p] for p in port_ix), reason, rules,
                                          len(others) * len(names) * len(port_ix),
                                          src_implied, dst_implied))
        lines.sort(key=lambda c: (_order(c.src), _order(c.dst), c.reason))
        return tuple(lines)

    def reason(self, change: str, side: Any, src: Any, dst: Any,
               port: Port) -> tuple[str, tuple[Ref, ...]]:
        """Why `src -> dst` is allowed in the input that has it: the rules of both sides,
        the sides no policy isolates, and a pod admitted only by its IP."""
        if isinstance(port, NamedPortQuery):
            number = port.resolve(dst.ports)
            if number is None:
                return wording.diff_endpoint_connection_words(change, [], []), ()
            port = number
        verdict = side.engine.check(src, dst, port)
        rules = (*verdict.egress.admitted_by, *verdict.ingress.admitted_by)
        sides = ((verdict.egress, "source", dst.key), (verdict.ingress, "destination", src.key))
        # a side where a cluster policy took part (decided, passed, or cannot be decided
        # offline) is worded as `check` words it; the others as before
        tiered = [(v, end, peer) for v, end, peer in sides
                  if v.decided_by is not None or v.passed or v.unknown]
        unisolated = [f"{v.direction.word} at the {end}" for v, end, _ in sides
                      if not v.isolated and (v, end, _) not in tiered]
        note = pod_ip_note(side.engine.evaluator, side.policies, rules, src, dst)
        text = wording.diff_endpoint_connection_words(
            change, [str(r) for r in rules], unisolated,
            [(f"{v.direction.word} at the {end}", wording.tier_decision_words(v, peer))
             for v, end, peer in tiered])
        refs: list[Ref] = []
        for v, _, _ in tiered:
            refs.extend(v.passed)
            refs.extend((v.decided_by,) if v.decided_by is not None else ())
        return text + note, (*refs, *rules)

