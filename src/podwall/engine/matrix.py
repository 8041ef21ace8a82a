"""The connectivity matrix, computed per endpoint class with numpy, factored per port.

For one port, `allowed[s, d] = egress_row[eg_of[s]][d] & ingress_row[in_of[d]][s]`: every class
points at one row per direction, and rows are shared by all classes with the same selecting
policies (and, for named ports, the same resolution); equal rows are stored once. Rows are stored
bit-packed and built by `podwall.engine.compiled`; the dense class matrix exists only on demand.
A `Matrix` maps endpoints to classes; the lab fills the same type with one class per endpoint.
`MatrixComputer.with_policy` / `.with_endpoint` update a computer instead of recomputing it
(`podwall.engine.incremental`), and `same_verdicts` compares two computers endpoint by endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podwall.engine.classes import BoolArray, EndpointClasses, IntArray
from podwall.engine.compiled import Compiled, SideRows, U64Array, UInt8Array, compile_cluster
from podwall.engine.incremental import replace_endpoint, replace_policy
from podwall.engine.named import compose, numbers_of
from podwall.engine.targets import ExternalHost
from podwall.engine.tiermatrix import TierRows
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    NamedPortQuery,
    NetworkPolicy,
    Port,
    PortQuery,
)

_BLOCK = 1 << 22  # cells of one (rows x rows) count block: bounds count_allowed's memory


@dataclass(frozen=True, slots=True)
class RowTable:
    """Bit-packed rows over classes, and which row each class uses."""

    packed: UInt8Array  # (rows, >= ceil(C/8)) in numpy.packbits order; bits from C on are zero
    of: IntArray  # (C,)
    size: int  # C

    def bit(self, row_owner: int, column: int) -> bool:
        byte = self.packed[self.of[row_owner], column >> 3]
        return bool((int(byte) >> (7 - (column & 7))) & 1)

    def columns(self, columns: IntArray) -> BoolArray:
        """Bits `columns` of every stored row: shape (stored rows, len(columns))."""
        byte = self.packed[:, columns >> 3]
        shift = (7 - (columns & 7)).astype(np.uint8)
        result: BoolArray = ((byte >> shift) & 1).astype(np.bool_)
        return result

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

    def block(self, srcs: IntArray, dsts: IntArray) -> BoolArray:
        """allowed[s, d] for source classes `srcs` x destination classes `dsts` (a rectangle:
        renderers walk the class matrix in row blocks, so memory stays len(srcs) x len(dsts)).

        Unpacks whole rows only for the shorter list, and gathers single bits for the other."""
        if len(srcs) <= len(dsts):
            eg = self.egress.rows_for(srcs)[:, dsts]
            ing_t = self.ingress.columns(srcs)[self.ingress.of[dsts]].T
        else:
            eg = self.egress.columns(dsts)[self.egress.of[srcs]]
            ing_t = self.ingress.rows_for(dsts)[:, srcs].T
        result: BoolArray = eg & ing_t
        return result

    def count_allowed(self) -> int:
        """Allowed class pairs, without ever building the C x C matrix.

        With S_a the sources using egress row a and D_b the destinations using ingress row b,
        pairs (s, d) in S_a x D_b are allowed iff E_a[d] and I_b[s]; so their number is
        X[a, b] * Y[a, b] with X = |S_a & I_b| and Y = |D_b & E_a|. One factor is a histogram of
        the set bits of the sparser side (each bit d of E_a counts for (a, ingress row of d));
        the other is needed only where that one is non-zero, and is a popcount of two packed
        rows there. The work follows the bits set and the pairs that meet, not rows x classes.
        """
        size = self.egress.size
        if size == 0:
            return 0
        e_used, e_group = np.unique(self.egress.of, return_inverse=True)
        i_used, i_group = np.unique(self.ingress.of, return_inverse=True)
        e_group, i_group = e_group.reshape(-1).astype(np.int64), i_group.reshape(-1).astype(np.int64)
        egress, ingress = self.egress.packed[e_used], self.ingress.packed[i_used]
        b = len(i_used)
        if _popcount(_words(egress)).sum() <= _popcount(_words(ingress)).sum():
            # Y from the bits of the egress rows; X = |S_a & I_b| by popcount
            keys = [rows * b + i_group[cols] for rows, cols in _set_bits(egress, size)]
            left, right = _group_masks(e_group, len(e_used), egress.shape[1]), _words(ingress)
        else:
            # X from the bits of the ingress rows; Y = |E_a & D_b| by popcount
            keys = [e_group[cols] * b + rows for rows, cols in _set_bits(ingress, size)]
            left, right = _words(egress), _group_masks(i_group, b, ingress.shape[1])
        if not keys:
            return 0
        pairs, counts = np.unique(np.concatenate(keys), return_counts=True)
        total = 0
        step = max(1, _BLOCK // max(left.shape[1], 1))
        for first in range(0, len(pairs), step):
            chunk = pairs[first:first + step]
            met = _popcount(left[chunk // b] & right[chunk % b])
            total += int((met * counts[first:first + step]).sum())
        return total

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

    def block(self, srcs: IntArray, dsts: IntArray) -> BoolArray:
        result: BoolArray = self.allowed[np.ix_(srcs, dsts)]
        return result


@dataclass(frozen=True)
class Matrix:
    """Who may open a connection to whom, per port. A pod to itself is always allowed.

    `endpoints` are `ns/name` sorted by namespace then name, then outside hosts in given order.
    A port may be a name (`TCP/http`): its column says, at each destination, what the number that
    destination names so says (`podwall.engine.named`); `resolved[name][i]` is that number for
    endpoint i (-1: it has no container port of that name, and nothing reaches it by the name).
    """

    endpoints: tuple[str, ...]
    ports: tuple[Port, ...]
    class_of: IntArray
    verdicts: dict[Port, PortVerdicts | DenseVerdicts] = field(repr=False)
    resolved: dict[NamedPortQuery, IntArray] = field(default_factory=dict, repr=False)

    def is_allowed(self, port: Port, src: int, dst: int) -> bool:
        if src == dst:
            return True
        return self.verdicts[port].at(int(self.class_of[src]), int(self.class_of[dst]))

    def dense(self, port: Port) -> BoolArray:
        """The endpoint-level matrix for one port (n x n); for renderers of modest sizes."""
        classes, inverse = np.unique(self.class_of, return_inverse=True)
        by_class = self.verdicts[port].dense(classes.astype(np.int64))
        result: BoolArray = by_class[np.ix_(inverse, inverse)]
        np.fill_diagonal(result, True)
        return result

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "endpoints": list(self.endpoints),
            "ports": [str(p) for p in self.ports],
            "allowed": {str(p): self.dense(p).tolist() for p in self.ports},
        }
        if self.resolved:
            out["resolved"] = self.resolved_json()
        return out

    def resolved_json(self) -> dict[str, list[str | None]]:
        """Per named port, per endpoint: the port it stands for there (`TCP/8080`), or None."""
        return {str(q): [None if n < 0 else f"{q.protocol}/{n}" for n in numbers.tolist()]
                for q, numbers in self.resolved.items()}

    @property
    def class_count(self) -> int:
        return len(np.unique(self.class_of))


# -- computing ------------------------------------------------------------------------------


class MatrixComputer:
    """Compiles the policies once against a class universe; then any port is cheap.

    Verdicts of a port are built once and kept. `with_policy` and `with_endpoint` return the
    computer of the changed cluster without recompiling it: see `podwall.engine.incremental` for
    what they recompute. Class ids of a derived computer may differ from those a fresh
    `MatrixComputer(cluster)` would choose (classes are appended, never renumbered, and a class
    may be left without members); what the verdicts say about every pair of endpoints is the
    same, and `same_verdicts` checks exactly that.
    """

    def __init__(self, cluster: Cluster, externals: Sequence[ExternalHost] = ()) -> None:
        self._compiled = compile_cluster(cluster, EndpointClasses(cluster, externals))
        self._rows: dict[PortQuery, dict[Direction, SideRows]] = {}
        self._verdicts: dict[Port, PortVerdicts] = {}
        self._tier_rows: TierRows | None = None

    @classmethod
    def _derived(cls, compiled: Compiled,
                 rows: dict[PortQuery, dict[Direction, SideRows]]) -> MatrixComputer:
        out = cls.__new__(cls)
        out._compiled = compiled
        out._rows = rows
        out._verdicts = {}
        out._tier_rows = None
        return out

    @property
    def classes(self) -> EndpointClasses:
        return self._compiled.classes

    @property
    def cluster(self) -> Cluster:
        return self._compiled.cluster

    @property
    def ports(self) -> tuple[PortQuery, ...]:
        """The ports whose rows are built (and that an update carries forward)."""
        return tuple(self._rows)

    def verdicts(self, port: Port) -> PortVerdicts:
        hit = self._verdicts.get(port)
        if hit is not None:
            return hit
        if isinstance(port, NamedPortQuery):
            hit = self._verdicts[port] = self._named(port)
            return hit
        rows = self._rows.get(port)
        if rows is None:
            rows = self._rows[port] = {d: self._compiled.side_rows(d, port) for d in Direction}
        size = self._compiled.size
        tables = {d: RowTable(r.words.view(np.uint8), r.owners(self._compiled.sides[d].unit_of), size)
                  for d, r in rows.items()}
        if self.cluster.cluster_policies:
            tables = {d: self._tiered(d, port, t) for d, t in tables.items()}
        hit = self._verdicts[port] = PortVerdicts(tables[Direction.EGRESS], tables[Direction.INGRESS])
        return hit

    def _tiered(self, direction: Direction, port: PortQuery, table: RowTable) -> RowTable:
        """The NetworkPolicy rows with the cluster-admin tiers around them (engine.tiermatrix)."""
        if self._tier_rows is None or self._tier_rows.classes is not self.classes:
            self._tier_rows = TierRows(self.classes, self.cluster.cluster_policies)
        isolated = self._compiled.sides[direction].unit_of >= 0
        packed, of = self._tier_rows.rows(direction, port, table.packed, table.of, isolated)
        return RowTable(packed, of, table.size)

    def numbers(self, name: NamedPortQuery) -> IntArray:
        """Per class, the number `name` stands for there (-1: none)."""
        return numbers_of([key.ports for key in self.classes.keys], name)

    def _named(self, name: NamedPortQuery) -> PortVerdicts:
        """The column of a name, from the columns of the numbers it has (`engine.named`)."""
        number_of = self.numbers(name)
        numbers = sorted(set(number_of[number_of >= 0].tolist()))
        per = [self.verdicts(PortQuery(name.protocol, n)) for n in numbers]
        size = self._compiled.size
        width = per[0].egress.packed.shape[1] if per else -(-size // 64) * 8
        egress, ingress = compose(number_of, numbers,
                                  [(v.egress.packed, v.egress.of) for v in per],
                                  [(v.ingress.packed, v.ingress.of) for v in per], width)
        return PortVerdicts(RowTable(egress[0], egress[1], size),
                            RowTable(ingress[0], ingress[1], size))

    def matrix(self, ports: Iterable[Port]) -> Matrix:
        port_list = tuple(ports)
        endpoints = tuple(t.key for t in self.classes.targets)
        resolved = {p: self.numbers(p)[self.classes.class_of] for p in port_list
                    if isinstance(p, NamedPortQuery)}
        return Matrix(endpoints, port_list, self.classes.class_of,
                      {p: self.verdicts(p) for p in port_list}, resolved)

    # -- incremental -------------------------------------------------------------------------
    def with_policy(self, old_key: str | None, new_policy: NetworkPolicy | None) -> MatrixComputer:
        """The computer after replacing policy `old_key` (ns/name) by `new_policy`.

        `old_key=None` adds a policy, `new_policy=None` removes one. The rows of every port built
        here are carried forward (extended, not recomputed), so `verdicts(port)` of the result
        costs O(classes) for them; other ports are built on first use.
        """
        return self._carry(replace_policy(self._compiled, old_key, new_policy))

    def with_endpoint(self, endpoint: Endpoint) -> MatrixComputer:
        """The computer after replacing the endpoint with the same ns/name (labels, ports or IP
        changed). An endpoint without an IP keeps the address it had."""
        return self._carry(replace_endpoint(self._compiled, endpoint))

    def _carry(self, compiled: Compiled) -> MatrixComputer:
        base_size = self._compiled.size
        if compiled.sides is self._compiled.sides and compiled.peer_rows is self._compiled.peer_rows:
            derived = MatrixComputer._derived(compiled, dict(self._rows))
            derived._verdicts = dict(self._verdicts)  # class-level tables are unchanged
            return derived
        rows = {port: {d: compiled.updated_rows(d, port, r[d], base_size) for d in Direction}
                for port, r in self._rows.items()}
        return MatrixComputer._derived(compiled, rows)


def same_verdicts(a: MatrixComputer, b: MatrixComputer, ports: Iterable[Port]) -> bool:
    """Whether two computers of the same endpoints say the same about every pair and port, on
    each side (egress at the source, ingress at the destination), whatever their class ids.

    Endpoints are grouped by their pair of classes (a, b); a side agrees when, for every pair of
    rows that some group uses in a and in b, the two rows say the same about every group. Rows
    are compared packed, after putting their columns in group order: no (groups x groups) matrix.
    """
    if tuple(t.key for t in a.classes.targets) != tuple(t.key for t in b.classes.targets):
        return False
    joint = a.classes.class_of * max(b.classes.size, 1) + b.classes.class_of
    _, reps = np.unique(joint, return_index=True)
    ca, cb = a.classes.class_of[reps], b.classes.class_of[reps]
    for port in ports:
        va, vb = a.verdicts(port), b.verdicts(port)
        for ta, tb in ((va.egress, vb.egress), (va.ingress, vb.ingress)):
            if not _same_side(ta, tb, ca, cb):
                return False
    return True


def _same_side(ta: RowTable, tb: RowTable, ca: IntArray, cb: IntArray) -> bool:
    pairs = np.unique(ta.of[ca] * len(tb.packed) + tb.of[cb])
    rows_a, in_a = np.unique(pairs // len(tb.packed), return_inverse=True)
    rows_b, in_b = np.unique(pairs % len(tb.packed), return_inverse=True)
    pa, pb = _in_order(ta, rows_a, ca), _in_order(tb, rows_b, cb)
    return bool((pa[in_a.reshape(-1)] == pb[in_b.reshape(-1)]).all())


def _in_order(table: RowTable, rows: IntArray, columns: IntArray) -> UInt8Array:
    """Rows `rows` of `table`, bits `columns` only and in that order, packed."""
    step = max(1, _BLOCK // max(table.size, 1))
    parts = [np.packbits(np.unpackbits(table.packed[rows[i:i + step]], axis=1,
                                       count=table.size)[:, columns], axis=1)
             for i in range(0, len(rows), step)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.uint8)


def _words(packed: UInt8Array) -> U64Array:
    """Packed rows as uint64 words (zero-padded to whole words); AND/OR/popcount per word."""
    width = -(-packed.shape[1] // 8) * 8
    if width != packed.shape[1] or not packed.flags.c_contiguous:
        padded = np.zeros((len(packed), width), dtype=np.uint8)
        padded[:, :packed.shape[1]] = packed
        packed = padded
    return packed.view(np.uint64)


def _group_masks(group: IntArray, groups: int, width: int) -> U64Array:
    """Row g: the classes c with group[c] == g, packed like the rows (width bytes, then words)."""
    masks = np.zeros((groups, -(-width // 8) * 8), dtype=np.uint8)
    classes = np.arange(len(group), dtype=np.int64)
    np.bitwise_or.at(masks, (group, classes >> 3), (1 << (7 - (classes & 7))).astype(np.uint8))
    return masks.view(np.uint64)


_M1, _M2, _M4, _H01 = (np.uint64(0x5555555555555555), np.uint64(0x3333333333333333),
                       np.uint64(0x0F0F0F0F0F0F0F0F), np.uint64(0x0101010101010101))


def _popcount(words: U64Array) -> IntArray:
    """Set bits per row (numpy >= 2 has bitwise_count; SWAR on older numpy)."""
    count = getattr(np, "bitwise_count", None)
    if count is not None:
        result: IntArray = count(words).sum(axis=1, dtype=np.int64)
        return result
    x = words - ((words >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    with np.errstate(over="ignore"):
        per_word = (x * _H01) >> np.uint64(56)
    swar: IntArray = per_word.sum(axis=1, dtype=np.int64)
    return swar


def _set_bits(packed: UInt8Array, size: int,
              chunk_bytes: int = 1 << 21) -> Iterable[tuple[IntArray, IntArray]]:
    """(row, column) of every set bit below `size`, in chunks of rows (bounded memory)."""
    width = packed.shape[1]
    step = max(1, chunk_bytes // max(width, 1))
    for first in range(0, len(packed), step):
        flat = np.ascontiguousarray(packed[first:first + step]).reshape(-1)
        at = np.flatnonzero(flat)
        if not len(at):
            continue
        found = np.flatnonzero(np.unpackbits(flat[at]))
        position = at[found >> 3]
        rows = (position // width).astype(np.int64) + first
        cols = ((position % width) * 8 + (found & 7)).astype(np.int64)
        keep = cols < size
        yield rows[keep], cols[keep]
