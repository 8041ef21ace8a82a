"""The connectivity matrix, computed per endpoint class with numpy, factored per port.

For one port, `allowed[s, d] = egress_row[eg_of[s]][d] & ingress_row[in_of[d]][s]`: every class
points at one row per direction, and rows are shared by all classes with the same selecting
policies (and, for named ports, the same resolution). Rows are stored bit-packed; the dense class
matrix exists only on demand. A `Matrix` maps endpoints to classes; the lab fills the same type
with one class per endpoint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from podwall.engine.classes import BoolArray, EndpointClasses, IntArray
from podwall.engine.targets import ExternalHost
from podwall.model import Cluster, Direction, PolicyPort, PortQuery

UInt8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class RowTable:
    """Bit-packed rows over classes, and which row each class uses."""

    packed: UInt8Array  # (rows, ceil(C/8))
    of: IntArray  # (C,)
    size: int  # C

    def bit(self, row_owner: int, column: int) -> bool:
        byte = self.packed[self.of[row_owner], column >> 3]
        return bool((int(byte) >> (7 - (column & 7))) & 1)

    def rows_for(self, owners: IntArray) -> BoolArray:
        unpacked: BoolArray = np.unpackbits(self.packed[self.of[owners]], axis=1,
                                            count=self.size).astype(np.bool_)
        return unpacked


@dataclass(frozen=True, slots=True)
class PortVerdicts:
    """Class-level verdicts for one port."""

    egress: RowTable  # rows over destination classes, indexed by source class
    ingress: RowTable  # rows over source classes, indexed by destination class

    def at(self, src: int, dst: int) -> bool:
        return self.egress.bit(src, dst) and self.ingress.bit(dst, src)

    def dense(self, classes: IntArray | None = None) -> BoolArray:
        """allowed[s, d] over `classes` (all by default); memory is len(classes)^2."""
        idx = classes if classes is not None else np.arange(self.egress.size, dtype=np.int64)
        eg = self.egress.rows_for(idx)[:, idx]
        ing = self.ingress.rows_for(idx)[:, idx]
        result: BoolArray = eg & ing.T
        return result

    def count_allowed(self) -> int:
        """Allowed class pairs, without ever building the C x C matrix.

        With S_a the sources using egress row a and D_b the destinations using ingress row b,
        pairs (s, d) in S_a x D_b are allowed iff E_a[d] and I_b[s]; so their number is
        |S_a & I_b| * |D_b & E_a|. Two (rows x classes x rows) products replace a C^2 sweep.
        """
        size = self.egress.size
        if size == 0:
            return 0
        e_rows = np.unpackbits(self.egress.packed, axis=1, count=size)  # [a, d]
        i_rows = np.unpackbits(self.ingress.packed, axis=1, count=size)  # [b, s]
        # [a, b] = |S_a & I_b|: sum the columns I_b[s] over the sources s of each egress row a.
        sources_admitted = _group_sum(i_rows.T, self.egress.of, len(e_rows))
        # [b, a] = |D_b & E_a|: sum E_a[d] over the destinations d of each ingress row b.
        destinations_reached = _group_sum(e_rows.T, self.ingress.of, len(i_rows))
        return int((sources_admitted * destinations_reached.T).sum())

    def count_allowed_dense(self, chunk: int = 2048) -> int:
        """The same count by brute force over class pairs (the test oracle)."""
        size = self.egress.size
        total = 0
        ingress_t = self.ingress.rows_for(np.arange(size, dtype=np.int64)).T  # [s, d]
        for start in range(0, size, chunk):
            src = np.arange(start, min(start + chunk, size), dtype=np.int64)
            total += int(np.count_nonzero(self.egress.rows_for(src) & ingress_t[src]))
        return total


class DenseVerdicts:
    """Verdicts given directly as a dense class matrix (the lab's probes fill one of these)."""

    def __init__(self, allowed: BoolArray) -> None:
        self.allowed = allowed

    def at(self, src: int, dst: int) -> bool:
        return bool(self.allowed[src, dst])

    def dense(self, classes: IntArray | None = None) -> BoolArray:
        if classes is None:
            return self.allowed
        result: BoolArray = self.allowed[np.ix_(classes, classes)]
        return result


@dataclass(frozen=True)
class Matrix:
    """Who may open a connection to whom, per port. A pod to itself is always allowed.

    `endpoints` are `ns/name` sorted by namespace then name, then outside hosts in given order.
    """

    endpoints: tuple[str, ...]
    ports: tuple[PortQuery, ...]
    class_of: IntArray
    verdicts: dict[PortQuery, PortVerdicts | DenseVerdicts] = field(repr=False)

    def is_allowed(self, port: PortQuery, src: int, dst: int) -> bool:
        if src == dst:
            return True
        return self.verdicts[port].at(int(self.class_of[src]), int(self.class_of[dst]))

    def dense(self, port: PortQuery) -> BoolArray:
        """The endpoint-level matrix for one port (n x n); for renderers of modest sizes."""
        classes, inverse = np.unique(self.class_of, return_inverse=True)
        by_class = self.verdicts[port].dense(classes.astype(np.int64))
        result: BoolArray = by_class[np.ix_(inverse, inverse)]
        np.fill_diagonal(result, True)
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoints": list(self.endpoints),
            "ports": [str(p) for p in self.ports],
            "allowed": {str(p): self.dense(p).tolist() for p in self.ports},
        }

    @property
    def class_count(self) -> int:
        return len(np.unique(self.class_of))


# -- computing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    peers: int  # id of the peer set (-1: every peer)
    ports: tuple[PolicyPort, ...]


class MatrixComputer:
    """Compiles the policies once against a class universe; then any port is cheap."""

    def __init__(self, cluster: Cluster, externals: Sequence[ExternalHost] = ()) -> None:
        self.classes = cls = EndpointClasses(cluster, externals)
        self._peer_sets: list[IntArray] = []
        peer_set_ids: dict[tuple[str | None, tuple[Any, ...]], int] = {}
        self._profiles: dict[Direction, dict[tuple[int, ...], list[int]]] = {}
        rules_by_policy: dict[Direction, list[tuple[_CompiledRule, ...]]] = {
            Direction.INGRESS: [], Direction.EGRESS: []}
        selected: dict[Direction, list[list[int]]] = {
            d: [[] for _ in range(cls.size)] for d in Direction}
        for pid, policy in enumerate(cluster.policies):
            targets = None
            for direction in Direction:
                compiled: list[_CompiledRule] = []
                for rule in policy.rules(direction):
                    if not rule.peers:
                        compiled.append(_CompiledRule(-1, rule.ports))
                        continue
                    key = (policy.namespace, rule.peers)
                    sid = peer_set_ids.get(key)
                    if sid is None:
                        parts = [cls.peer(policy.namespace, p) for p in rule.peers]
                        merged = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
                        sid = peer_set_ids[key] = len(self._peer_sets)
                        self._peer_sets.append(merged)
                    compiled.append(_CompiledRule(sid, rule.ports))
                rules_by_policy[direction].append(tuple(compiled))
                if direction in policy.policy_types:
                    if targets is None:
                        targets = cls.policy_targets(policy.namespace, policy.pod_selector)
                    for c in targets.tolist():
                        selected[direction][c].append(pid)
        self._rules = rules_by_policy
        for direction in Direction:
            groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
            for c, pids in enumerate(selected[direction]):
                if pids:
                    groups[tuple(pids)].append(c)
            self._profiles[direction] = groups
        self._port_cache: dict[tuple[tuple[PolicyPort, ...], PortQuery], IntArray | bool] = {}
        self._egress_rows: dict[Any, UInt8Array] = {}
        self._ingress_rows: dict[Any, UInt8Array] = {}
        self._all_row: UInt8Array = np.packbits(np.ones(cls.size, dtype=np.bool_))

    # A rule's ports, for one queried port: True (every destination), False (none), or the
    # destination classes where a named port resolves to it.
    def _port_match(self, ports: tuple[PolicyPort, ...], port: PortQuery) -> IntArray | bool:
        if not ports:
            return True
        key = (ports, port)
        hit = self._port_cache.get(key)
        if hit is not None:
            return hit
        named: list[IntArray] = []
        result: IntArray | bool = False
        for pp in ports:
            if pp.protocol is not port.protocol:
                continue
            if pp.port is None or (isinstance(pp.port, int) and
                                   pp.port <= port.port <= (pp.end_port or pp.port)):
                result = True
                break
            if isinstance(pp.port, str):
                named.append(self.classes.with_named_port(pp.port, port.protocol, port.port))
        if result is not True and named:
            merged = np.unique(np.concatenate(named))
            result = merged if len(merged) else False
        self._port_cache[key] = result
        return result

    def _peer_mask_into(self, row: BoolArray, peer_set: int, where: IntArray | None = None) -> None:
        ids = self.classes.all_classes if peer_set < 0 else self._peer_sets[peer_set]
        if where is None:
            row[ids] = True
        else:
            row[np.intersect1d(ids, where, assume_unique=True)] = True

    def verdicts(self, port: PortQuery) -> PortVerdicts:
        return PortVerdicts(self._egress(port), self._ingress(port))

    def _row(self, cache: dict[Any, UInt8Array], key: Any,
             parts: Iterable[tuple[int, IntArray | None]]) -> UInt8Array:
        """A packed row: the union of peer sets (each optionally cut to `where`), cached by key
        across ports, because most ports leave the same rules active."""
        hit = cache.get(key)
        if hit is None:
            row = np.zeros(self.classes.size, dtype=np.bool_)
            for sid, where in parts:
                self._peer_mask_into(row, sid, where)
            hit = cache[key] = np.packbits(row)
        return hit

    def _egress(self, port: PortQuery) -> RowTable:
        size = self.classes.size
        rows: list[UInt8Array] = [self._all_row]
        row_ids: dict[Any, int] = {}
        of = np.zeros(size, dtype=np.int64)
        for profile, members in self._profiles[Direction.EGRESS].items():
            active: list[tuple[int, IntArray | None]] = []
            for pid in profile:
                for rule in self._rules[Direction.EGRESS][pid]:
                    match = self._port_match(rule.ports, port)
                    if match is not False:
                        active.append((rule.peers, None if match is True else match))
            # Named-port matches are arrays kept alive by _port_cache, so their ids are stable.
            key = tuple(sorted({(sid, -1 if m is None else id(m)) for sid, m in active}))
            rid = row_ids.get(key)
            if rid is None:
                rid = row_ids[key] = len(rows)
                rows.append(self._row(self._egress_rows, key, active))
            of[members] = rid
        return RowTable(np.stack(rows), of, size)

    def _ingress(self, port: PortQuery) -> RowTable:
        size = self.classes.size
        rows: list[UInt8Array] = [self._all_row]
        row_ids: dict[frozenset[int], int] = {}
        of = np.zeros(size, dtype=np.int64)

        def row_for(active: frozenset[int]) -> int:
            rid = row_ids.get(active)
            if rid is None:
                rid = row_ids[active] = len(rows)
                rows.append(self._row(self._ingress_rows, active, ((sid, None) for sid in active)))
            return rid

        for profile, members in self._profiles[Direction.INGRESS].items():
            always: set[int] = set()
            named: list[tuple[int, IntArray]] = []
            for pid in profile:
                for rule in self._rules[Direction.INGRESS][pid]:
                    match = self._port_match(rule.ports, port)
                    if match is True:
                        always.add(rule.peers)
                    elif match is not False:
                        named.append((rule.peers, match))
            if not named:
                of[members] = row_for(frozenset(always))
                continue
            # A named port resolves per destination: members differ by where it resolves.
            member_ids = np.asarray(members, dtype=np.int64)
            hits = np.stack([np.isin(member_ids, where) for _, where in named], axis=1)
            for combo in np.unique(hits, axis=0):
                chosen = member_ids[(hits == combo).all(axis=1)]
                extra = {named[k][0] for k in np.flatnonzero(combo)}
                of[chosen] = row_for(frozenset(always | extra))
        return RowTable(np.stack(rows), of, size)

    def matrix(self, ports: Iterable[PortQuery]) -> Matrix:
        port_list = tuple(ports)
        endpoints = tuple(t.key for t in self.classes.targets)
        return Matrix(endpoints, port_list, self.classes.class_of,
                      {p: self.verdicts(p) for p in port_list})


def _group_sum(values: npt.NDArray[np.uint8], groups: IntArray, count: int) -> IntArray:
    """Row sums of `values` per group id (0..count-1), by sorting once and reduceat."""
    out = np.zeros((count, values.shape[1]), dtype=np.int64)
    if len(groups) == 0:
        return out
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    out[sorted_groups[starts]] = np.add.reduceat(values[order], starts, axis=0, dtype=np.int64)
    return out
