"""What changes between two inputs: connections gained and lost, with the rules behind them.

Everything is computed on endpoint classes, never on endpoint pairs:

1. Endpoints present in both inputs fall into *joint classes*: distinct pairs (class in OLD,
   class in NEW). Members of a joint class are indistinguishable to both inputs' policies.
2. Per port, the class-level verdicts of both inputs are gathered over the joint classes (bit
   rows of `PortVerdicts`, in blocks of source classes) and compared with numpy. What differs is
   a list of (source class, destination class, port) triples.
3. Reasons come from the scalar evaluator (`Engine.check`'s two halves) on one representative
   endpoint pair. A side's verdict depends only on the subject's selecting policies (and, for
   ingress, its container ports), the other end's class and the port, so evaluations are
   memoised on that key, and triples are mapped to reasons with vectorised interning: Python work
   grows with the number of distinct keys, not with the number of changed pairs.
4. Lines are formed from (joint class, joint class) groups and collapsed: a namespace whose
   endpoints all change alike is `ns/*`; part of one is a name glob (`ns/api-7d9f-*`) when that
   glob names exactly those endpoints, else a brace list (`ns/{a,b}`) or the names one by one.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.analysis.diff_endpoints import (
    ADDED,
    REMOVED,
    ConnectionChange,
    EndpointChange,
    EndpointReach,
    _common_prefix,
    _label,
    _order,
    _sides,
)
from podwall.analysis.diff_outside import (
    OutsideChange,
    Ref,
    implied_keys,
    outside_changes,
    pod_ip_note,
)
from podwall.analysis.filters import View
from podwall.engine import DirectionVerdict, Engine, default_ports
from podwall.engine.classes import BoolArray, IntArray
from podwall.engine.matrix import MatrixComputer
from podwall.engine.offline import OfflineRule, offline_rules
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    IPAddress,
    NamedPortQuery,
    NetworkPolicy,
    Port,
    PortQuery,
)
from podwall.model import (
    port_key as sort_key,
)

_BLOCK_CELLS = 1 << 22  # class pairs compared at once (bounds memory: a few bytes per cell)


@dataclass(frozen=True)
class Diff:
    ports: tuple[Port, ...]
    endpoints: tuple[EndpointChange, ...]
    changes: tuple[ConnectionChange, ...]
    added: int = 0  # endpoint pairs x ports
    removed: int = 0
    joint_classes: int = field(default=0, compare=False)
    namespaces: tuple[NamespaceChange, ...] = ()
    detailed: bool = True  # False: `changes` was not computed (a summary was enough)
    outside: tuple[OutsideChange, ...] = ()  # with addresses outside the cluster
    # rules of either input whose nodes/domainNames peers cannot be decided offline: lines are
    # computed as if they matched nothing (a line with the outside names them where they count)
    offline: tuple[tuple[str, OfflineRule], ...] = ()

    @property
    def empty(self) -> bool:
        return (not self.endpoints and not self.changes and not self.added and not self.removed
                and not self.outside)

    @property
    def outside_added(self) -> int:
        return sum(1 for c in self.outside if c.change == ADDED)

    @property
    def outside_removed(self) -> int:
        return sum(1 for c in self.outside if c.change == REMOVED)

    @property
    def endpoints_added(self) -> int:
        return sum(e.count for e in self.endpoints if e.change == ADDED)

    @property
    def endpoints_removed(self) -> int:
        return sum(e.count for e in self.endpoints if e.change == REMOVED)

    def has(self, which: str) -> bool:
        """`added`, `removed` or `any`: whether such changes exist (for `--fail-on`)."""
        gained = self.added > 0 or self.endpoints_added > 0 or self.outside_added > 0
        lost = self.removed > 0 or self.endpoints_removed > 0 or self.outside_removed > 0
        return {"added": gained, "removed": lost}.get(which, gained or lost)

    def to_json(self) -> dict[str, Any]:
        return {
            "ports": [str(p) for p in self.ports],
            "summary": {"connectionsAdded": self.added, "connectionsRemoved": self.removed,
                        "endpointsAdded": self.endpoints_added,
                        "endpointsRemoved": self.endpoints_removed,
                        "outsideAdded": self.outside_added,
                        "outsideRemoved": self.outside_removed},
            "endpoints": [e.to_json() for e in self.endpoints],
            "changes": [c.to_json() for c in self.changes],
            "outside": [c.to_json() for c in self.outside],
            "namespaces": [n.to_json() for n in self.namespaces],
            **({"cannotDecideOffline": [{"input": which, **r.to_json()}
                                        for which, r in self.offline]} if self.offline else {}),
        }


@dataclass(frozen=True, slots=True)
class NamespaceChange:
    """Connections added or removed from one namespace to another: `count` is endpoint pairs
    x ports, on `ports` (the summary of a long diff)."""

    change: str
    src: str
    dst: str
    count: int
    ports: tuple[Port, ...]

    @property
    def sign(self) -> str:
        return "+" if self.change == ADDED else "-"

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "from": self.src, "to": self.dst,
                "connections": self.count, "ports": [str(p) for p in self.ports]}


def diff_clusters(old: Cluster, new: Cluster,
                  ports: Sequence[Port] | None = None, view: View | None = None,
                  detail_limit: int | None = None,
                  externals: Sequence[IPAddress] = ()) -> Diff:
    """Every connection that NEW allows and OLD did not (`added`), and the reverse (`removed`),
    on `ports` (default: every port either input names), within `view` (what is shown; an
    endpoint both inputs have is judged by its labels in NEW).

    `detail_limit`: when more (source class, destination class) pairs change than this, lines
    and their reasons are not computed (`detailed` is False): the per-namespace summary is
    exact and cheap, the reasons of a million changes are neither.

    Changes with the outside (`Diff.outside`, `podwall.analysis.diff_outside`) are judged on
    every port range unless `ports` are given (their numbers; a port name has no number
    outside), and on every outside address unless `externals` narrow them.
    """
    chosen = tuple(ports) if ports else tuple(sorted(
        set(default_ports(old)) | set(default_ports(new)),
        key=sort_key))
    view = (view if view is not None else View()).resolved(new, old)
    view.check((*old.endpoints, *new.endpoints))
    result = _Differ(old, new, chosen, view).run(detail_limit)
    numbers = [p for p in chosen if isinstance(p, PortQuery)] if ports else None
    offline = (*(("old", r) for r in offline_rules(old)), *(("new", r) for r in offline_rules(new)))
    return replace(result, outside=outside_changes(old, new, view, numbers, externals),
                   offline=offline)


# -- bit rows -> class-level verdicts ---------------------------------------------------------


def _intern(columns: Sequence[IntArray]) -> IntArray:
    """Dense ids (0..k-1) of the distinct rows of integer columns of equal length, vectorised."""
    ids = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    for column in columns:
        values, inverse = np.unique(column, return_inverse=True)
        combined = ids * len(values) + inverse.astype(np.int64)
        _, ids = np.unique(combined, return_inverse=True)
        ids = ids.astype(np.int64)
    return ids


# -- one input ---------------------------------------------------------------------------------


@dataclass
class _Input:
    """One side of the diff: its cluster, compiled matrix, scalar engine and profile tables."""

    cluster: Cluster
    computer: MatrixComputer
    engine: Engine
    index: dict[str, int]
    policies: dict[str, NetworkPolicy]
    profiles: dict[Direction, dict[tuple[Any, ...], int]] = field(default_factory=dict)
    isolators: dict[Direction, list[tuple[str, ...]]] = field(default_factory=dict)

    @staticmethod
    def of(cluster: Cluster) -> _Input:
        return _Input(cluster, MatrixComputer(cluster), Engine(cluster),
                      {ep.key: i for i, ep in enumerate(cluster.endpoints)},
                      {p.key: p for p in cluster.policies},
                      {d: {} for d in Direction}, {d: [] for d in Direction})

    def profile(self, endpoint: Endpoint, direction: Direction) -> int:
        """Id of what decides `direction` at `endpoint` besides the other end: the selecting
        policies and, for ingress, the container ports (named ports resolve there)."""
        policies = tuple(p.key for p in self.engine.selecting(endpoint, direction))
        key: tuple[Any, ...] = (policies, endpoint.ports if direction is Direction.INGRESS else ())
        found = self.profiles[direction].get(key)
        if found is None:
            found = self.profiles[direction][key] = len(self.isolators[direction])
            self.isolators[direction].append(policies)
        return found


@dataclass(frozen=True, slots=True)
class _Item:
    """One end of an output line: a label and the joint classes it stands for."""

    label: str
    joints: tuple[int, ...]
    single: int | None  # the joint class when the item is exactly one endpoint


class _Differ:
    def __init__(self, old: Cluster, new: Cluster, ports: tuple[Port, ...],
                 view: View | None = None) -> None:
        self.ports = ports
        self.view = view if view is not None else View()
        self.old, self.new = _Input.of(old), _Input.of(new)
        common = [ep.key for ep in old.endpoints if ep.key in self.new.index]
        self.common = common
        old_pos = np.fromiter((self.old.index[k] for k in common), np.int64, len(common))
        new_pos = np.fromiter((self.new.index[k] for k in common), np.int64, len(common))
        old_cls = self.old.computer.classes.class_of[old_pos]
        new_cls = self.new.computer.classes.class_of[new_pos]
        combined = old_cls * max(self.new.computer.classes.size, 1) + new_cls
        if self.view.focus is not None:  # the focus endpoint is a joint class of its own
            focus = self.view.focus_keys
            combined = combined * 2 + np.array([k in focus for k in common], dtype=np.int64)
        _, first, joint_of = np.unique(combined, return_index=True, return_inverse=True)
        joint_of = joint_of.astype(np.int64)
        order = np.argsort(joint_of, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(joint_of[order]) != 0, True])
        self.members: list[IntArray] = ([order[a:b] for a, b in itertools.pairwise(bounds)]
                                        if len(common) else [])
        self.size = np.array([len(m) for m in self.members], dtype=np.int64)
        self.old_ids = old_cls[first].astype(np.int64)
        self.new_ids = new_cls[first].astype(np.int64)
        self.old_pos, self.new_pos = old_pos, new_pos
        # names, namespaces and name lookups for collapsing
        self.ns_of_common = [k.split("/", 1)[0] for k in common]
        self.name_of_common = [k.split("/", 1)[1] for k in common]
        self.ns_names: dict[str, list[str]] = defaultdict(list)
        for ns, name in zip(self.ns_of_common, self.name_of_common, strict=True):
            self.ns_names[ns].append(name)
        for names in self.ns_names.values():
            names.sort()
        self.joint_ns = [self.ns_of_common[int(m[0])] for m in self.members]
        reps = [new.endpoints[int(new_pos[int(m[0])])] for m in self.members]
        self.subject = np.array([self.view.is_subject(e) for e in reps], dtype=np.bool_)
        self.source = np.array([self.view.is_source(e) for e in reps], dtype=np.bool_)
        self.destination = np.array([self.view.is_destination(e) for e in reps], dtype=np.bool_)
        self._names: dict[int, list[str]] = {}
        self.implied = implied_keys(old, new)
        self._described: dict[tuple[tuple[int, ...], int | None], list[_Item]] = {}

    # -- representatives --------------------------------------------------------------------
    def rep(self, side: _Input, joint: int, second: bool = False) -> Endpoint:
        members = self.members[joint]
        i = int(members[1 if second and len(members) > 1 else 0])
        pos = self.old_pos if side is self.old else self.new_pos
        return side.cluster.endpoints[int(pos[i])]

    def pair(self, side: _Input, js: int, jd: int) -> tuple[Endpoint, Endpoint]:
        return self.rep(side, js), self.rep(side, jd, second=js == jd)

    # -- the comparison ----------------------------------------------------------------------
    def run(self, detail_limit: int | None = None) -> Diff:
        joints = len(self.members)
        triples: list[tuple[IntArray, ...]] = []
        endpoint_reach = EndpointReach(self)
        for pi, port in enumerate(self.ports):
            before_v, after_v = self.old.computer.verdicts(port), self.new.computer.verdicts(port)
            endpoint_reach.add(before_v, after_v)
            if not joints:
                continue
            step = max(1, _BLOCK_CELLS // joints)
            for start in range(0, joints, step):
                rows = np.arange(start, min(start + step, joints), dtype=np.int64)
                eg_before, in_before = _sides(before_v, self.old_ids[rows], self.old_ids)
                eg_after, in_after = _sides(after_v, self.new_ids[rows], self.new_ids)
                after = eg_after & in_after
                changed = (eg_before & in_before) != after
                s, d = np.nonzero(changed)
                s = s.astype(np.int64)
                d = d.astype(np.int64)
                keep = ~((s + start == d) & (self.size[d] < 2))  # a pod and itself
                keep &= (self.source[s + start] & self.destination[d]
                         & (self.subject[s + start] | self.subject[d]))  # in view
                s, d = s[keep], d[keep]
                if not len(s):
                    continue
                triples.append((s + start, d, np.full(len(s), pi, dtype=np.int64),
                                after[s, d], eg_after[s, d], in_after[s, d]))
        if triples:
            js, jd, port_ix, added, eg_new, in_new = (np.concatenate(parts)
                                                       for parts in zip(*triples, strict=True))
        else:
            js = jd = port_ix = np.zeros(0, dtype=np.int64)
            added = eg_new = in_new = np.zeros(0, dtype=np.bool_)
        pairs = self.size[js] * self.size[jd] - np.where(js == jd, self.size[js], 0)
        totals = {ADDED: int(pairs[added].sum()), REMOVED: int(pairs[~added].sum())}
        namespaces = self.by_namespace(js, jd, port_ix, added, pairs)
        detailed = detail_limit is None or len(np.unique(
            np.stack([js, jd], axis=1), axis=0)) <= detail_limit
        changes: tuple[ConnectionChange, ...] = ()
        if detailed:
            reasons, reason_of = _Reasons(self).assign(js, jd, port_ix, added, eg_new, in_new)
            changes = self.collapse(js, jd, port_ix, added, reason_of, reasons)
        return Diff(self.ports, endpoint_reach.changes(), changes, totals[ADDED],
                    totals[REMOVED], joints, namespaces, detailed)

    def by_namespace(self, js: IntArray, jd: IntArray, port_ix: IntArray, added: BoolArray,
                     pairs: IntArray) -> tuple[NamespaceChange, ...]:
        """Connections changed per (change, source namespace, destination namespace)."""
        if not len(js):
            return ()
        names = sorted(set(self.joint_ns))
        ns_id = {ns: k for k, ns in enumerate(names)}
        joint_ns = np.array([ns_id[ns] for ns in self.joint_ns], dtype=np.int64)
        key = ((~added).astype(np.int64) * len(names) + joint_ns[js]) * len(names) + joint_ns[jd]
        groups, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, weights=pairs, minlength=len(groups)).astype(np.int64)
        port_seen = np.zeros((len(groups), len(self.ports)), dtype=np.bool_)
        port_seen[inverse, port_ix] = True
        out = []
        for g, k in enumerate(groups.tolist()):
            sign, rest = divmod(k, len(names) * len(names))
            src, dst = divmod(rest, len(names))
            out.append(NamespaceChange(REMOVED if sign else ADDED, names[src], names[dst],
                                       int(counts[g]),
                                       tuple(self.ports[p] for p in
                                             np.flatnonzero(port_seen[g]).tolist())))
        return tuple(out)

    # -- lines -------------------------------------------------------------------------------
    def collapse(self, js: IntArray, jd: IntArray, port_ix: IntArray, added: BoolArray,
                 reason_of: IntArray, reasons: list[tuple[str, tuple[Ref, ...]]]
                 ) -> tuple[ConnectionChange, ...]:
        if not len(js):
            return ()
        sign = (~added).astype(np.int64)  # 0 added, 1 removed
        order = np.lexsort((port_ix, reason_of, jd, js, sign))
        keys = np.stack([sign, js, jd, reason_of], axis=1)[order]
        starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
        ends = np.r_[starts[1:], len(order)]
        ports_sorted = port_ix[order]
        # stage 1: per destination class, the source classes that change alike
        by_dst: dict[tuple[int, int, tuple[int, ...], int], list[int]] = defaultdict(list)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            sg, s, d, r = (int(v) for v in keys[a])
            by_dst[(sg, d, tuple(ports_sorted[a:b].tolist()), r)].append(s)
        # stage 2: per source item, the destination classes
        by_src: dict[tuple[int, str, tuple[int, ...], int],
                     list[tuple[int, _Item]]] = defaultdict(list)
        for (sg, d, port_key, r), sources in by_dst.items():
            other = d if self.size[d] == 1 else None
            for item in self.describe(sources, other):
                by_src[(sg, item.label, port_key, r)].append((d, item))
        out: list[ConnectionChange] = []
        for (sg, _src_label, port_key, r), entries in by_src.items():
            src_item = entries[0][1]
            dsts = [d for d, _ in entries]
            sources_for = {d: item.joints for d, item in entries}
            for dst_item in self.describe(dsts, src_item.single):
                count = sum(self.pairs(s, d) for d in dst_item.joints for s in sources_for[d])
                reason, rules = reasons[r]
                change = ADDED if sg == 0 else REMOVED
                out.append(ConnectionChange(
                    change, src_item.label, dst_item.label,
                    tuple(self.ports[p] for p in port_key), reason, rules,
                    count * len(port_key), self.implied_of(change, src_item.joints),
                    self.implied_of(change, dst_item.joints)))
        out.sort(key=lambda c: (c.change != ADDED, _order(c.src), _order(c.dst), c.ports,
                                c.reason))
        return tuple(out)

    def implied_of(self, change: str, joints: Sequence[int]) -> tuple[str, ...]:
        """The implied endpoints among joint classes, in the input a line of `change` is
        about (see `diff_outside.implied_keys`)."""
        implied = self.implied[change]
        if not implied:
            return ()
        return tuple(key for j in joints for name in self.names(j)
                     if (key := f"{self.joint_ns[j]}/{name}") in implied)

    def pairs(self, s: int, d: int) -> int:
        size_s, size_d = int(self.size[s]), int(self.size[d])
        return size_s * size_d - (size_s if s == d else 0)

    def describe(self, joints: Sequence[int], other: int | None) -> list[_Item]:
        """Name a set of joint classes as few line ends as is exact (see the module doc).

        `other` is the single endpoint at the other end of the line, if it is one: the pair with
        itself does not exist, so a set missing only `other` still covers its namespace.
        Memoised: the same sets recur for many lines.
        """
        key = (tuple(sorted(joints)), other)
        found = self._described.get(key)
        if found is None:
            found = self._described[key] = self._describe(key[0], other)
        return found

    def _describe(self, joints: tuple[int, ...], other: int | None) -> list[_Item]:
        by_ns: dict[str, list[int]] = defaultdict(list)
        for j in joints:
            by_ns[self.joint_ns[j]].append(j)
        other_ns = self.joint_ns[other] if other is not None else None
        items: list[_Item] = []
        for ns, group in sorted(by_ns.items()):
            extra = (self.names(other)[0]
                     if other is not None and other_ns == ns and other not in group else None)
            count = int(sum(int(self.size[j]) for j in group))
            everyone = self.ns_names[ns]
            if count >= 2 and count + (extra is not None) == len(everyone):
                items.append(_Item(f"{ns}/*", tuple(group), None))
                continue
            prefix = _common_prefix([self.prefix(j) for j in group])
            label = _label(ns, count, prefix, functools.partial(self.union_names, group),
                           everyone, extra)
            if label is not None:
                items.append(_Item(label, tuple(group), group[0] if count == 1 else None))
                continue
            for j in group:
                names = self.names(j)
                label = _label(ns, len(names), self.prefix(j), functools.partial(list, names),
                               everyone, extra, force=True)
                assert label is not None
                items.append(_Item(label, (j,), j if len(names) == 1 else None))
        return items

    def names(self, joint: int) -> list[str]:
        """Sorted names (without namespace) of a joint class's members."""
        found = self._names.get(joint)
        if found is None:
            found = self._names[joint] = sorted(
                self.name_of_common[int(i)] for i in self.members[joint])
        return found

    def union_names(self, joints: Sequence[int]) -> list[str]:
        return sorted(name for j in joints for name in self.names(j))

    def prefix(self, joint: int) -> str:
        names = self.names(joint)
        return _common_prefix((names[0], names[-1]))


# -- reasons -----------------------------------------------------------------------------------


class _Reasons:
    """Reasons for triples (source joint class, destination joint class, port).

    A side's verdict (egress at the source, ingress at the destination, in OLD or NEW) is a
    function of the subject's profile, the other end's class in that input and the port; the
    reason is a function of the four side verdicts. Both are interned with numpy, and each
    distinct side verdict is evaluated once with the scalar evaluator.
    """

    def __init__(self, differ: _Differ) -> None:
        self.d = differ

    def profiles(self, side: _Input, direction: Direction) -> IntArray:
        return np.fromiter((side.profile(self.d.rep(side, j), direction)
                            for j in range(len(self.d.members))), np.int64, len(self.d.members))

    def assign(self, js: IntArray, jd: IntArray, port_ix: IntArray, added: BoolArray,
               eg_new: BoolArray, in_new: BoolArray
               ) -> tuple[list[tuple[str, tuple[Ref, ...]]], IntArray]:
        d = self.d
        if not len(js):
            return [], np.zeros(0, dtype=np.int64)
        old, new = d.old, d.new
        if old.cluster.cluster_policies or new.cluster.cluster_policies:
            return self.tiered(js, jd, port_ix, added)
        egress, ingress = Direction.EGRESS, Direction.INGRESS
        p_eo = self.profiles(old, egress)[js]
        p_io = self.profiles(old, ingress)[jd]
        p_en = self.profiles(new, egress)[js]
        p_in = self.profiles(new, ingress)[jd]

        def isolated(side: _Input, direction: Direction, ids: IntArray) -> BoolArray:
            flags = np.array([bool(x) for x in side.isolators[direction]], dtype=np.bool_)
            result: BoolArray = flags[ids]
            return result

        removed = ~added
        # which side verdicts a reason needs beyond the isolating policies
        need = {
            "eo": removed & ~eg_new & isolated(old, egress, p_eo),
            "io": removed & ~in_new & isolated(old, ingress, p_io),
            "en": added & isolated(new, egress, p_en),
            "in": added & isolated(new, ingress, p_in),
        }
        sides: dict[str, tuple[_Input, Direction, IntArray, IntArray]] = {
            "eo": (old, egress, p_eo, d.old_ids[jd]), "io": (old, ingress, p_io, d.old_ids[js]),
            "en": (new, egress, p_en, d.new_ids[jd]), "in": (new, ingress, p_in, d.new_ids[js]),
        }
        admitted: list[tuple[Ref, ...]] = [()]
        admitted_ids: dict[tuple[Ref, ...], int] = {(): 0}
        content = {}
        for name, (side, direction, profile, other_cls) in sides.items():
            ids = np.zeros(len(js), dtype=np.int64)
            rows = np.flatnonzero(need[name])
            if len(rows):
                keys = _intern([profile[rows], other_cls[rows], port_ix[rows]])
                _, firsts = np.unique(keys, return_index=True)
                values = np.zeros(len(firsts), dtype=np.int64)
                for k, t in enumerate(firsts.tolist()):
                    refs = self.evaluate(side, direction, int(js[rows[t]]), int(jd[rows[t]]),
                                         self.d.ports[int(port_ix[rows[t]])])
                    values[k] = admitted_ids.setdefault(refs, len(admitted))
                    if values[k] == len(admitted):
                        admitted.append(refs)
                ids[rows] = values[keys]
            content[name] = ids
        # a named port the destination has no container port for (in OLD: it was added, in NEW:
        # it was removed) says so, not what the sides say about a port that is not there
        lacks = np.where(added, self.lacking(old, jd, port_ix), self.lacking(new, jd, port_ix))
        notes, note_of = self.ip_notes(js, jd, added, content, admitted)
        reason_of = _intern([added.astype(np.int64), eg_new.astype(np.int64),
                             in_new.astype(np.int64), p_eo, p_io, p_en, p_in,
                             content["eo"], content["io"], content["en"], content["in"],
                             lacks.astype(np.int64) * (port_ix + 1), note_of])
        _, firsts = np.unique(reason_of, return_index=True)
        words = _Words(d.old.policies, d.new.policies,
                       {p.key for p in d.old.cluster.audited}, {p.key for p in d.new.cluster.audited})
        reasons: list[tuple[str, tuple[Ref, ...]]] = []
        for t in firsts.tolist():
            port = str(d.ports[int(port_ix[t])])
            if added[t]:
                text, refs = words.added(
                    old.isolators[egress][p_eo[t]], old.isolators[ingress][p_io[t]],
                    new.isolators[egress][p_en[t]], new.isolators[ingress][p_in[t]],
                    admitted[content["en"][t]], admitted[content["in"][t]])
                if lacks[t]:
                    text = wording.diff_named_port_words(text, port, "OLD")
                reasons.append((text + notes[note_of[t]], refs))
            elif lacks[t]:
                reasons.append((wording.diff_named_port_words("no longer admitted", port, "NEW"),
                                ()))
            else:
                text, refs = words.removed(
                    old.isolators[egress][p_eo[t]], old.isolators[ingress][p_io[t]],
                    new.isolators[egress][p_en[t]], new.isolators[ingress][p_in[t]],
                    bool(eg_new[t]), bool(in_new[t]),
                    admitted[content["eo"][t]], admitted[content["io"][t]])
                reasons.append((text + notes[note_of[t]], refs))
        return reasons, reason_of

    def tiered(self, js: IntArray, jd: IntArray, port_ix: IntArray, added: BoolArray
               ) -> tuple[list[tuple[str, tuple[Ref, ...]]], IntArray]:
        """Reasons with cluster policies in either input: per distinct (source class,
        destination class, port), the sides whose verdict changed, as the scalar evaluator
        of NEW words them (tier, policy, priority, rule; Pass rules followed)."""
        keys = _intern([js, jd, port_ix])
        _, firsts, inverse = np.unique(keys, return_index=True, return_inverse=True)
        reasons: list[tuple[str, tuple[Ref, ...]]] = []
        reason_ids: dict[tuple[str, tuple[Ref, ...]], int] = {}  # same words: one reason
        of_first = np.zeros(len(firsts), dtype=np.int64)
        for k, t in enumerate(firsts.tolist()):
            port = self.d.ports[int(port_ix[t])]
            before = self._sides(self.d.old, int(js[t]), int(jd[t]), port)
            after = self._sides(self.d.new, int(js[t]), int(jd[t]), port)
            changed: list[tuple[str, str]] = []
            refs: list[Ref] = []
            for (end, peer, b), (_, _, a) in zip(before, after, strict=True):
                if a is None or (b is not None and a.allowed == b.allowed):
                    continue
                now = (wording.tier_decision_words(a, peer) if a.tier
                       else ("allowed" if a.allowed else "denied"))
                if b is not None and b.decided_by is not None and b.decided_by != a.decided_by:
                    now = wording.diff_tier_was_words(now, wording.tier_decision_words(b, peer))
                changed.append((f"{a.direction.word} of the {end}", now))
                refs.extend(a.passed)
                if a.decided_by is not None:
                    refs.append(a.decided_by)
                refs.extend(a.admitted_by)
            reason = (wording.diff_tier_words(bool(added[t]), changed), tuple(refs))
            of_first[k] = reason_ids.setdefault(reason, len(reasons))
            if of_first[k] == len(reasons):
                reasons.append(reason)
        return reasons, of_first[inverse.reshape(-1)]

    def _sides(self, side: _Input, js: int, jd: int, port: Port
               ) -> list[tuple[str, str, DirectionVerdict | None]]:
        src, dst = self.d.pair(side, js, jd)
        evaluator = side.engine.evaluator
        number = port.resolve(dst.ports) if isinstance(port, NamedPortQuery) else port
        if number is None:
            return [("source", dst.key, None), ("destination", src.key, None)]
        return [("source", dst.key, evaluator.direction_verdict(Direction.EGRESS, src, dst,
                                                                number, dst)),
                ("destination", src.key, evaluator.direction_verdict(Direction.INGRESS, dst,
                                                                     src, number, dst))]
    def ip_notes(self, js: IntArray, jd: IntArray, added: BoolArray,
                 content: dict[str, IntArray], admitted: list[tuple[Ref, ...]]
                 ) -> tuple[list[str], IntArray]:
        """Per triple, the id of a note (0: none) saying that a rule behind it admits a pod only
        by its IP in an ipBlock: such a line is about a pod's address, never a rule for pods
        (`podwall.analysis.diff_outside.pod_ip_note`). Constant over joint classes: a class
        key holds its members' ipBlock memberships."""
        d = self.d
        notes = [""]
        if not len(js):
            return notes, np.zeros(0, dtype=np.int64)
        keys = _intern([added.astype(np.int64), content["en"], content["in"], content["eo"],
                        content["io"], js, jd])
        _, firsts = np.unique(keys, return_index=True)
        values = np.zeros(len(firsts), dtype=np.int64)
        for k, t in enumerate(firsts.tolist()):
            side, eg, ing = (d.new, "en", "in") if added[t] else (d.old, "eo", "io")
            refs = (*admitted[content[eg][t]], *admitted[content[ing][t]])
            if not refs:
                continue
            src, dst = d.pair(side, int(js[t]), int(jd[t]))
            note = pod_ip_note(side.engine.evaluator, side.policies, refs, src, dst)
            if note:
                values[k] = len(notes)
                notes.append(note)
        _, inverse = np.unique(keys, return_inverse=True)
        result: IntArray = values[inverse.reshape(-1)]
        return notes, result

    def lacking(self, side: _Input, jd: IntArray, port_ix: IntArray) -> BoolArray:
        """Per triple: is its port a name that the destination has no container port for, in
        `side` (so the connection by that name does not exist there)?"""
        out = np.zeros(len(jd), dtype=np.bool_)
        for pi, port in enumerate(self.d.ports):
            at = port_ix == pi
            if not isinstance(port, NamedPortQuery) or not at.any():
                continue
            joints, inverse = np.unique(jd[at], return_inverse=True)
            flags = np.array([port.resolve(self.d.rep(side, j).ports) is None
                              for j in joints.tolist()], dtype=np.bool_)
            out[at] = flags[inverse.reshape(-1)]
        return out

    def evaluate(self, side: _Input, direction: Direction, js: int, jd: int,
                 port: Port) -> tuple[Ref, ...]:
        """The rules of one side that admit the representative pair (the scalar check's half)."""
        src, dst = self.d.pair(side, js, jd)
        evaluator = side.engine.evaluator
        if isinstance(port, NamedPortQuery):  # on this side's own destination
            number = port.resolve(dst.ports) if isinstance(dst, Endpoint) else None
            if number is None:
                return ()
            port = number
        if direction is Direction.EGRESS:
            verdict = evaluator.direction_verdict(direction, src, dst, port, dst)
        else:
            verdict = evaluator.direction_verdict(direction, dst, src, port, dst)
        return verdict.admitted_by


class _Words:
    """Reason sentences from side verdicts; what became of each policy (removed/changed)."""

    def __init__(self, old_policies: dict[str, NetworkPolicy],
                 new_policies: dict[str, NetworkPolicy],
                 old_audited: set[str] | None = None, new_audited: set[str] | None = None) -> None:
        self.old_policies, self.new_policies = old_policies, new_policies
        # audited policies (podwall.io/enforcement: audit) that the enforced view leaves out
        self.old_audited, self.new_audited = old_audited or set(), new_audited or set()

    def fate(self, key: str) -> str:
        """What NEW did to a policy of OLD."""
        now = self.new_policies.get(key)
        if now is None:
            return "audited now, not enforced" if key in self.new_audited else "removed"
        return "changed" if now != self.old_policies.get(key) else "unchanged"

    def origin(self, key: str) -> str:
        """What NEW did to a policy that it has."""
        before = self.old_policies.get(key)
        if before is None:
            return "enforced now, was audited" if key in self.old_audited else "added"
        return "changed" if before != self.new_policies.get(key) else "unchanged"

    def added(self, eo: tuple[str, ...], io: tuple[str, ...], en: tuple[str, ...],
              inn: tuple[str, ...], admitted_en: tuple[Ref, ...],
              admitted_in: tuple[Ref, ...]) -> tuple[str, tuple[Ref, ...]]:
        rules = (*admitted_en, *admitted_in)
        opened: list[str] = []
        for direction, end, before, after in ((Direction.EGRESS, "source", eo, en),
                                              (Direction.INGRESS, "destination", io, inn)):
            if before and not after:
                fates = [wording.diff_policy_fate_words(p, self.fate(p))
                         for p in before if self.fate(p) != "unchanged"]
                opened.append(wording.diff_opened_words(direction.word, end, fates))
        return wording.diff_allowed_words([str(r) for r in rules], opened), rules

    def removed(self, eo: tuple[str, ...], io: tuple[str, ...], en: tuple[str, ...],
                inn: tuple[str, ...], eg_allows: bool, in_allows: bool,
                admitted_eo: tuple[Ref, ...], admitted_io: tuple[Ref, ...]
                ) -> tuple[str, tuple[Ref, ...]]:
        parts: list[str] = []
        rules: list[Ref] = []
        for direction, end, before, after, allows, refs in (
                (Direction.EGRESS, "source", eo, en, eg_allows, admitted_eo),
                (Direction.INGRESS, "destination", io, inn, in_allows, admitted_io)):
            if allows:
                continue
            if before:
                rules.extend(refs)
                seen: set[str] = set()
                for ref in refs:
                    if ref.policy in seen:
                        continue
                    seen.add(ref.policy)
                    fate = self.fate(ref.policy)
                    parts.append(wording.diff_policy_fate_words(
                        ref.policy if fate != "unchanged" else str(ref),
                        fate if fate != "unchanged" else "no longer matches"))
            else:
                parts.append(wording.diff_newly_isolated_words(
                    direction.word, end, [f"{p} ({self.origin(p)})" for p in after]))
        return wording.diff_removed_words(parts), tuple(rules)


