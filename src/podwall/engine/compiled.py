"""Policies compiled against a class universe, and the bit-packed rows they give per port.

The decision at a class in one direction depends on the policies that select it (its *profile*)
and, for ingress, on the container ports its named policy ports resolve to. Classes with the same
of both form a *unit*; a unit owns *incidences* `(peer set, activity)`, one per distinct rule of
its policies. For one port:

- every distinct rule port list is evaluated once (`port_mode`), not once per profile;
- every distinct peer-set union is packed once at compile time (`peer_rows`), shared by all units
  and all ports;
- a unit's row is the OR of the peer rows of its active incidences (egress rules with named
  ports are cut to the destinations where the name resolves to the port): one gather and one
  reduction over all units at once, with no Python loop over profiles x ports.

Everything here is a value: `Compiled` and `SideRows` are never mutated. Incremental updates
(`podwall.engine.incremental`) build a new `Compiled` that shares the arrays it did not change,
append units, peer sets and classes (ids never change meaning), and extend the rows of the
ports already computed instead of recomputing them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from podwall.engine.classes import BoolArray, ClassKey, EndpointClasses, IntArray
from podwall.engine.peerindex import PeerIndex
from podwall.engine.selectors import selector_matches
from podwall.model import (
    Cluster,
    Direction,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PortQuery,
    Protocol,
)

U64Array = npt.NDArray[np.uint64]
UInt8Array = npt.NDArray[np.uint8]

PortTuple = tuple[PolicyPort, ...]
PeerKey = tuple[str, tuple[Peer, ...]]
NamedPorts = tuple[tuple[str, Protocol, int], ...]  # (name, protocol, number) that resolve here
UnitKey = tuple[tuple[int, ...], NamedPorts]  # (selecting policy ids, named ports; egress: ())
ActKey = tuple[int, NamedPorts]  # (port tuple id, destination's named ports; egress: ())

OFF, ALL, NAMED = 0, 1, 2
EVERY_PEER = 0  # peer row 0: every class (a rule without peers)


def words_for(size: int) -> int:
    """uint64 words per row over `size` classes (at least one, so empty universes still work)."""
    return max(1, -(-size // 64))


def pack_mask(mask: BoolArray, words: int) -> U64Array:
    """A boolean row as big-endian bits (numpy.packbits order), padded with zero to `words`."""
    out = np.zeros(words * 8, dtype=np.uint8)
    packed = np.packbits(mask)
    out[:len(packed)] = packed
    return out.view(np.uint64)


def every_class(size: int) -> U64Array:
    return pack_mask(np.ones(size, dtype=np.bool_), words_for(size))


def column_bits(rows: U64Array, columns: IntArray) -> BoolArray:
    """Bits `columns` of every row: shape (rows, len(columns))."""
    as_bytes = rows.view(np.uint8)
    shift = (7 - (columns & 7)).astype(np.uint8)
    result: BoolArray = ((as_bytes[:, columns >> 3] >> shift) & 1).astype(np.bool_)
    return result


def port_mode(ports: PortTuple, port: PortQuery) -> int:
    """ALL when a rule's ports admit `port` on any destination, NAMED when only through a named
    port (it depends on the destination), else OFF."""
    if not ports:
        return ALL
    named = False
    for pp in ports:
        if pp.protocol is not port.protocol:
            continue
        if pp.port is None:
            return ALL
        if isinstance(pp.port, int):
            end = pp.end_port if pp.end_port is not None else pp.port
            if pp.port <= port.port <= end:
                return ALL
        else:
            named = True
    return NAMED if named else OFF


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: NetworkPolicy
    rules: Mapping[Direction, tuple[tuple[int, int], ...]]  # (peer row, port tuple id) per rule
    named: frozenset[tuple[str, Protocol]]  # the named ports its ingress rules use


@dataclass(frozen=True, slots=True)
class Side:
    """One direction: which unit decides at each class, and what each unit is made of.

    Incidences are stored unit by unit (unit ids ascend), so the incidences of the units appended
    by an update are one tail slice.
    """

    direction: Direction
    unit_of: IntArray  # (C,): -1 when no policy isolates the class in this direction
    unit_keys: tuple[UnitKey, ...]
    unit_index: Mapping[UnitKey, int]
    inc_start: IntArray  # (units + 1,): unit u owns incidences inc_start[u]:inc_start[u + 1]
    inc_unit: IntArray
    inc_peer: IntArray
    inc_act: IntArray
    act_keys: tuple[ActKey, ...]
    act_index: Mapping[ActKey, int]
    act_tuple: IntArray  # port tuple id of every activity

    @property
    def units(self) -> int:
        return len(self.unit_keys)


@dataclass(frozen=True, slots=True)
class SideRows:
    """One direction at one port: row 0 admits every class, row 1 none, then the units' rows;
    `urow[u]` is the row of unit u."""

    words: U64Array  # (rows, words_for(C))
    urow: IntArray  # (units,)

    def owners(self, unit_of: IntArray) -> IntArray:
        """Row of every class: its unit's row, or row 0 where nothing isolates it."""
        of = np.zeros(len(unit_of), dtype=np.int64)
        isolated = unit_of >= 0
        of[isolated] = self.urow[unit_of[isolated]]
        return of


@dataclass(frozen=True)
class Compiled:
    """A cluster's policies compiled against its class universe. Immutable (caches aside)."""

    cluster: Cluster
    classes: EndpointClasses
    peer_keys: tuple[PeerKey | None, ...]  # None for EVERY_PEER
    peer_index: Mapping[PeerKey, int]
    peer_rows: U64Array  # (peer sets, words_for(C))
    port_tuples: tuple[PortTuple, ...]
    port_tuple_index: Mapping[PortTuple, int]
    policies: tuple[CompiledPolicy | None, ...]  # by policy id; None once replaced or removed
    policy_ids: Mapping[str, int]  # ns/name -> id of its live compiled policy
    by_namespace: Mapping[str, tuple[int, ...]]  # live policy ids per namespace
    sides: Mapping[Direction, Side]
    # (port tuple, port) -> mode; values never depend on the universe, so versions share it
    modes: dict[tuple[PortTuple, PortQuery], int] = field(default_factory=dict)
    resolved: dict[tuple[PortTuple, NamedPorts, PortQuery], int] = field(default_factory=dict)
    # (port tuple, port) -> named-port destinations; depends on the universe (one per version)
    masks: dict[tuple[PortTuple, PortQuery], U64Array | None] = field(default_factory=dict)
    # ns/name -> position among the targets; replacing an endpoint never moves one, so shared
    positions: dict[str, int] = field(default_factory=dict, repr=False)
    _activity: dict[tuple[Direction, PortQuery], tuple[IntArray, U64Array]] = field(
        default_factory=dict, repr=False)
    _tuple_modes: dict[PortQuery, IntArray] = field(default_factory=dict, repr=False)
    _peer_index: list[PeerIndex] = field(default_factory=list, repr=False)  # zero or one
    _columns: dict[tuple[Direction, int, int], tuple[IntArray, IntArray, BoolArray]] = field(
        default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        return self.classes.size

    @property
    def words(self) -> int:
        return words_for(self.classes.size)

    def mode(self, ports: PortTuple, port: PortQuery) -> int:
        key = (ports, port)
        hit = self.modes.get(key)
        if hit is None:
            hit = self.modes[key] = port_mode(ports, port)
        return hit

    def membership_index(self) -> PeerIndex:
        """The peer sets indexed for new classes (built on first use, extended by later versions)."""
        if not self._peer_index or self._peer_index[0].covers < len(self.peer_keys):
            known = self._peer_index[0] if self._peer_index else PeerIndex.empty()
            self._peer_index[:] = [known.extended(self.peer_keys)]
        return self._peer_index[0]

    def resolves(self, ports: PortTuple, named: NamedPorts, port: PortQuery) -> int:
        """1 when a named port of `ports` is, at a destination with `named`, the number `port`."""
        key = (ports, named, port)
        hit = self.resolved.get(key)
        if hit is None:
            hit = self.resolved[key] = int(any(
                isinstance(pp.port, str) and pp.protocol is port.protocol
                and (pp.port, port.protocol, port.port) in named for pp in ports))
        return hit

    def named_mask(self, ports: PortTuple, port: PortQuery) -> U64Array | None:
        """Destinations where one of the named ports in `ports` resolves to `port` (None: none)."""
        key = (ports, port)
        if key in self.masks:
            return self.masks[key]
        mask = np.zeros(self.size, dtype=np.bool_)
        for pp in ports:
            if isinstance(pp.port, str) and pp.protocol is port.protocol:
                mask[self.classes.with_named_port(pp.port, port.protocol, port.port)] = True
        hit = pack_mask(mask, self.words) if mask.any() else None
        self.masks[key] = hit
        return hit

    # -- activity of every incidence at one port ------------------------------------------------
    def activity(self, direction: Direction, port: PortQuery) -> tuple[IntArray, U64Array]:
        """Per activity id: 0 inactive, 1 active everywhere, 2 + k active where `masks[k]` has
        the destination (egress rules with named ports). Ingress named ports resolve at the
        unit's own classes, which the activity key carries, so they are 0 or 1."""
        side = self.sides[direction]
        hit = self._activity.get((direction, port))
        if hit is not None and len(hit[0]) == len(side.act_keys):
            return hit
        # An earlier version's activity holds for the activities it knew: extend it.
        known_codes, known_masks = hit if hit is not None else (
            np.zeros(0, dtype=np.int64), np.zeros((0, self.words), dtype=np.uint64))
        first = len(known_codes)
        act_modes = self.tuple_modes(port)[side.act_tuple[first:]]
        codes = (act_modes == ALL).astype(np.int64)
        masks: list[U64Array] = []
        for offset in np.flatnonzero(act_modes == NAMED).tolist():
            tid, named = side.act_keys[first + offset]
            ports = self.port_tuples[tid]
            if direction is Direction.INGRESS:
                codes[offset] = self.resolves(ports, named, port)
            else:
                mask = self.named_mask(ports, port)
                if mask is not None:
                    codes[offset] = 2 + len(known_masks) + len(masks)
                    masks.append(mask)
        all_codes = np.concatenate([known_codes, codes]) if first else codes
        all_masks = np.concatenate([known_masks, np.stack(masks)]) if masks else known_masks
        self._activity[(direction, port)] = (all_codes, all_masks)
        return all_codes, all_masks

    def tuple_modes(self, port: PortQuery) -> IntArray:
        """`port_mode` of every port tuple at `port` (extending an earlier version's)."""
        hit = self._tuple_modes.get(port)
        if hit is None or len(hit) < len(self.port_tuples):
            first = 0 if hit is None else len(hit)
            extra = np.array([self.mode(ports, port) for ports in self.port_tuples[first:]],
                             dtype=np.int64)
            hit = self._tuple_modes[port] = extra if hit is None else np.concatenate([hit, extra])
        return hit

    def unit_rows(self, direction: Direction, port: PortQuery,
                  first_unit: int = 0) -> tuple[IntArray, U64Array]:
        """Rows at `port` of the units from `first_unit` on that admit anything: (units, rows).
        The others admit nothing. Units no class uses get exact rows too: a later update may
        give them classes again."""
        side = self.sides[direction]
        lo = int(side.inc_start[first_unit])
        unit = side.inc_unit[lo:]
        codes, masks = self.activity(direction, port)
        code = codes[side.inc_act[lo:]]
        chosen = np.flatnonzero(code != 0)
        if not len(chosen):
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.words), dtype=np.uint64)
        rows = self.peer_rows[side.inc_peer[lo:][chosen]]
        code = code[chosen]
        masked = np.flatnonzero(code >= 2)
        if len(masked):
            rows[masked] &= masks[code[masked] - 2]
        owners = unit[chosen]
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        return owners[starts], _or_groups(rows, starts)

    def side_rows(self, direction: Direction, port: PortQuery) -> SideRows:
        """All rows of one direction at one port, with equal rows stored once."""
        side = self.sides[direction]
        units, rows = self.unit_rows(direction, port)
        distinct, inverse = unique_rows(rows)
        urow = np.ones(side.units, dtype=np.int64)
        urow[units] = 2 + inverse
        words = np.concatenate([every_class(self.size)[None, :],
                                np.zeros((1, self.words), dtype=np.uint64), distinct])
        return SideRows(words, urow)

    def updated_rows(self, direction: Direction, port: PortQuery, base: SideRows,
                     base_size: int) -> SideRows:
        """The rows at `port` of this version, from `base` (those of an earlier version with
        `base_size` classes and `len(base.urow)` units): new classes become new columns of the
        old units' rows, and appended units get rows of their own."""
        old_units = len(base.urow)
        if self.size > base_size:
            base = self._widened(direction, port, base, base_size)
        side = self.sides[direction]
        if side.units == old_units:
            return base
        units, rows = self.unit_rows(direction, port, first_unit=old_units)
        urow = np.concatenate([base.urow, np.ones(side.units - old_units, dtype=np.int64)])
        urow[units] = len(base.words) + np.arange(len(units), dtype=np.int64)
        return SideRows(np.concatenate([base.words, rows]) if len(units) else base.words, urow)

    def _touching(self, direction: Direction, base_size: int,
                  old_units: int) -> tuple[IntArray, IntArray, BoolArray]:
        """The incidences of the first `old_units` units whose peer set holds one of the classes
        from `base_size` on: (unit, activity, bits of those classes). The same at every port."""
        key = (direction, base_size, old_units)
        hit = self._columns.get(key)
        if hit is None:
            side = self.sides[direction]
            hi = int(side.inc_start[old_units])
            columns = np.arange(base_size, self.size, dtype=np.int64)
            peer_bits = column_bits(self.peer_rows, columns)
            bits = peer_bits[side.inc_peer[:hi]]
            touching = np.flatnonzero(bits.any(axis=1))
            hit = self._columns[key] = (side.inc_unit[:hi][touching], side.inc_act[:hi][touching],
                                        bits[touching])
        return hit

    def _widened(self, direction: Direction, port: PortQuery, base: SideRows,
                 base_size: int) -> SideRows:
        """`base` with columns for classes `base_size..size-1`, for the units it knows.

        Units that shared a row may differ in a new column, so the units that gain a bit move to
        appended rows, one per distinct (old row, new bits); the rows they leave stay valid."""
        old_units = len(base.urow)
        words = np.zeros((len(base.words), self.words), dtype=np.uint64)
        words[:, :base.words.shape[1]] = base.words
        words[0] = every_class(self.size)
        columns = np.arange(base_size, self.size, dtype=np.int64)
        units, acts, touching_bits = self._touching(direction, base_size, old_units)
        codes, masks = self.activity(direction, port)
        code = codes[acts]
        hit = np.flatnonzero(code != 0)
        if not len(hit):
            return SideRows(words, base.urow)
        bits = touching_bits[hit]
        code = code[hit]
        masked = np.flatnonzero(code >= 2)
        if len(masked):
            bits[masked] &= column_bits(masks, columns)[code[masked] - 2]
        unit_bits = np.zeros((old_units, len(columns)), dtype=np.bool_)
        np.logical_or.at(unit_bits, units[hit], bits)
        gaining = np.flatnonzero(unit_bits.any(axis=1))
        if not len(gaining):
            return SideRows(words, base.urow)
        keys = np.column_stack([base.urow[gaining],
                                np.packbits(unit_bits[gaining], axis=1).astype(np.int64)])
        distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
        extra = words[distinct[:, 0]]
        new_bits = np.unpackbits(distinct[:, 1:].astype(np.uint8), axis=1, count=len(columns))
        as_bytes = extra.view(np.uint8)
        for j, column in enumerate(columns.tolist()):
            as_bytes[:, column >> 3] |= (new_bits[:, j] << (7 - (column & 7))).astype(np.uint8)
        urow = base.urow.copy()
        urow[gaining] = len(words) + inverse.reshape(-1).astype(np.int64)
        return SideRows(np.concatenate([words, extra]), urow)


def _or_groups(rows: U64Array, starts: IntArray) -> U64Array:
    """OR of consecutive row groups beginning at `starts`.

    Groups are short (a unit has a handful of rules), so OR-ing the k-th member of every group
    in one vector step per k beats `bitwise_or.reduceat`, which walks the groups one by one."""
    is_start = np.zeros(len(rows), dtype=np.int64)
    is_start[starts] = 1
    group = np.cumsum(is_start) - 1
    rank = np.arange(len(rows), dtype=np.int64) - starts[group]
    out = rows[starts].copy()
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = np.flatnonzero(rank == k)
        out[group[at]] |= rows[at]
    return out


_HASH = np.random.default_rng(0x9E3779B9).integers(1, 2**63, size=1 << 12, dtype=np.uint64) | 1


def unique_rows(rows: U64Array) -> tuple[U64Array, IntArray]:
    """Distinct rows and the index of each row among them, exactly.

    Rows are hashed to one word (a random linear map mod 2^64), grouped by hash, and every row is
    compared in full with its group's representative; on a collision the slow exact path runs."""
    if not len(rows):
        return rows, np.zeros(0, dtype=np.int64)
    width = rows.shape[1]
    weights = np.resize(_HASH, width)
    with np.errstate(over="ignore"):
        hashes = rows @ weights
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    if bool((rows == rows[first[inverse]]).all()):
        return rows[first], inverse
    as_void = np.ascontiguousarray(rows).view(np.dtype((np.void, width * 8))).reshape(-1)
    _, first, inverse = np.unique(as_void, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1).astype(np.int64)


# -- building ------------------------------------------------------------------------------------


class Builder:
    """Copy-on-write construction of a `Compiled`: from scratch, or from an earlier version."""

    def __init__(self, cluster: Cluster, classes: EndpointClasses,
                 base: Compiled | None = None) -> None:
        self.cluster = cluster
        self.classes = classes
        self.peer_keys: list[PeerKey | None]
        self.peer_index: dict[PeerKey, int]
        self.peer_base: U64Array
        self.new_peer_rows: list[U64Array] = []
        if base is None:
            self.peer_keys = [None]
            self.peer_index = {}
            self.peer_base = every_class(classes.size)[None, :]
            self.port_tuples: list[PortTuple] = []
            self.port_tuple_index: dict[PortTuple, int] = {}
            self.policies: list[CompiledPolicy | None] = []
            self.policy_ids: dict[str, int] = {}
            self.by_namespace: dict[str, tuple[int, ...]] = {}
            self.sides = {d: _SideBuilder(d, np.full(classes.size, -1, dtype=np.int64))
                          for d in Direction}
            self.modes: dict[tuple[PortTuple, PortQuery], int] = {}
            self.resolved: dict[tuple[PortTuple, NamedPorts, PortQuery], int] = {}
            self.positions: dict[str, int] = {}
        else:
            self.peer_keys = list(base.peer_keys)
            self.peer_index = dict(base.peer_index)
            self.peer_base = base.peer_rows
            self.port_tuples = list(base.port_tuples)
            self.port_tuple_index = dict(base.port_tuple_index)
            self.policies = list(base.policies)
            self.policy_ids = dict(base.policy_ids)
            self.by_namespace = dict(base.by_namespace)
            self.sides = {d: _SideBuilder.of(base.sides[d]) for d in Direction}
            self.modes = base.modes
            self.resolved = base.resolved
            self.positions = base.positions
        self.words = words_for(classes.size)
        self.tuple_named = [any(isinstance(pp.port, str) for pp in t) for t in self.port_tuples]

    # -- interning -------------------------------------------------------------------------------
    def peer_row(self, namespace: str, peers: tuple[Peer, ...]) -> int:
        if not peers:
            return EVERY_PEER
        key = (namespace, peers)
        pid = self.peer_index.get(key)
        if pid is None:
            mask = np.zeros(self.classes.size, dtype=np.bool_)
            for peer in peers:
                mask[self.classes.peer(namespace, peer)] = True
            pid = self.peer_index[key] = len(self.peer_keys)
            self.peer_keys.append(key)
            self.new_peer_rows.append(pack_mask(mask, self.words))
        return pid

    def port_tuple(self, ports: PortTuple) -> int:
        tid = self.port_tuple_index.get(ports)
        if tid is None:
            tid = self.port_tuple_index[ports] = len(self.port_tuples)
            self.port_tuples.append(ports)
            self.tuple_named.append(any(isinstance(pp.port, str) for pp in ports))
        return tid

    def add_policy(self, policy: NetworkPolicy) -> int:
        rules = {d: tuple((self.peer_row(policy.namespace, rule.peers), self.port_tuple(rule.ports))
                          for rule in policy.rules(d)) for d in Direction}
        named = frozenset((pp.port, pp.protocol) for rule in policy.ingress for pp in rule.ports
                          if isinstance(pp.port, str))
        pid = len(self.policies)
        self.policies.append(CompiledPolicy(policy, rules, named))
        self.policy_ids[policy.key] = pid
        self.by_namespace[policy.namespace] = (*self.by_namespace.get(policy.namespace, ()), pid)
        return pid

    def retire_policy(self, key: str) -> int:
        pid = self.policy_ids.pop(key)
        namespace = key.split("/", 1)[0]
        self.by_namespace[namespace] = tuple(p for p in self.by_namespace[namespace] if p != pid)
        self.policies[pid] = None
        return pid

    def unit(self, direction: Direction, pids: tuple[int, ...], key: ClassKey) -> int:
        """The unit of a class with class key `key` selected by `pids` (sorted)."""
        named: NamedPorts = ()
        if direction is Direction.INGRESS:
            used: set[tuple[str, Protocol]] = set()
            for pid in pids:
                used |= self._policy(pid).named
            if used:
                named = tuple((cp.name, cp.protocol, cp.port) for cp in key.ports
                              if cp.name and (cp.name, cp.protocol) in used)
        side = self.sides[direction]
        ukey = (pids, named)
        uid = side.unit_index.get(ukey)
        if uid is None:
            terms: dict[tuple[int, int], None] = {}
            for pid in pids:
                for peer, tid in self._policy(pid).rules[direction]:
                    resolves = bool(named) and self.tuple_named[tid]
                    terms[(peer, side.act((tid, named if resolves else ())))] = None
            uid = side.add_unit(ukey, list(terms))
        return uid

    def _policy(self, pid: int) -> CompiledPolicy:
        compiled = self.policies[pid]
        if compiled is None:
            raise KeyError(f"policy id {pid} was retired")
        return compiled

    def selecting(self, direction: Direction, cid: int) -> tuple[int, ...]:
        """Live policies that select class `cid` and isolate `direction` (scalar; new classes)."""
        key = self.classes.keys[cid]
        if key.namespace is None or key.labels is None:
            return ()
        out = []
        for pid in self.by_namespace.get(key.namespace, ()):
            policy = self._policy(pid).policy
            if direction in policy.policy_types and selector_matches(policy.pod_selector, key.labels):
                out.append(pid)
        return tuple(out)

    def freeze(self, base: Compiled | None = None, same_universe: bool = False) -> Compiled:
        """The new version. Caches of `base` that still hold are carried: port modes always,
        ingress activity always (it does not depend on the universe), egress activity and
        named-port masks when the universe is the same."""
        peer_rows = (np.concatenate([self.peer_base, np.stack(self.new_peer_rows)])
                     if self.new_peer_rows else self.peer_base)
        masks: dict[tuple[PortTuple, PortQuery], U64Array | None] = {}
        activity: dict[tuple[Direction, PortQuery], tuple[IntArray, U64Array]] = {}
        tuple_modes: dict[PortQuery, IntArray] = {}
        if base is not None:
            tuple_modes = dict(base._tuple_modes)
            activity = {k: v for k, v in base._activity.items()
                        if same_universe or k[0] is Direction.INGRESS}
            if same_universe:
                masks = base.masks
        return Compiled(
            self.cluster, self.classes, tuple(self.peer_keys), self.peer_index, peer_rows,
            tuple(self.port_tuples), self.port_tuple_index, tuple(self.policies), self.policy_ids,
            self.by_namespace, {d: s.freeze() for d, s in self.sides.items()}, self.modes,
            self.resolved, masks, self.positions, activity, tuple_modes,
            list(base._peer_index) if base is not None else [])


class _SideBuilder:
    def __init__(self, direction: Direction, unit_of: IntArray) -> None:
        self.direction = direction
        self.unit_of = unit_of
        self.unit_keys: list[UnitKey] = []
        self.unit_index: dict[UnitKey, int] = {}
        self.act_keys: list[ActKey] = []
        self.act_index: dict[ActKey, int] = {}
        self.base: Side | None = None
        self.new_counts: list[int] = []
        self.new_peers: list[int] = []
        self.new_acts: list[int] = []

    @staticmethod
    def of(side: Side) -> _SideBuilder:
        out = _SideBuilder(side.direction, side.unit_of.copy())
        out.unit_keys = list(side.unit_keys)
        out.unit_index = dict(side.unit_index)
        out.act_keys = list(side.act_keys)
        out.act_index = dict(side.act_index)
        out.base = side
        return out

    def act(self, key: ActKey) -> int:
        aid = self.act_index.get(key)
        if aid is None:
            aid = self.act_index[key] = len(self.act_keys)
            self.act_keys.append(key)
        return aid

    def add_unit(self, key: UnitKey, terms: Sequence[tuple[int, int]]) -> int:
        uid = self.unit_index[key] = len(self.unit_keys)
        self.unit_keys.append(key)
        self.new_counts.append(len(terms))
        for peer, act in terms:
            self.new_peers.append(peer)
            self.new_acts.append(act)
        return uid

    def freeze(self) -> Side:
        first = len(self.unit_keys) - len(self.new_counts)
        counts = np.asarray(self.new_counts, dtype=np.int64)
        new_unit = np.repeat(np.arange(first, first + len(counts), dtype=np.int64), counts)
        new_peer = np.asarray(self.new_peers, dtype=np.int64)
        new_act = np.asarray(self.new_acts, dtype=np.int64)
        if self.base is None:
            start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            return Side(self.direction, self.unit_of, tuple(self.unit_keys), self.unit_index,
                        start, new_unit, new_peer, new_act, tuple(self.act_keys), self.act_index,
                        self._act_tuple())
        base = self.base
        offset = int(base.inc_start[-1])
        start = np.concatenate([base.inc_start, offset + np.cumsum(counts)]).astype(np.int64)
        return Side(self.direction, self.unit_of, tuple(self.unit_keys), self.unit_index, start,
                    _cat(base.inc_unit, new_unit), _cat(base.inc_peer, new_peer),
                    _cat(base.inc_act, new_act), tuple(self.act_keys), self.act_index,
                    self._act_tuple())

    def _act_tuple(self) -> IntArray:
        return np.array([tid for tid, _ in self.act_keys], dtype=np.int64)


def _cat(a: IntArray, b: IntArray) -> IntArray:
    return np.concatenate([a, b]) if len(b) else a


def compile_cluster(cluster: Cluster, classes: EndpointClasses) -> Compiled:
    """From scratch: every policy once, every class's profile, its unit."""
    builder = Builder(cluster, classes)
    selected: dict[Direction, list[list[int]]] = {d: [[] for _ in range(classes.size)]
                                                  for d in Direction}
    for policy in cluster.policies:
        pid = builder.add_policy(policy)
        targets: list[int] | None = None
        for direction in Direction:
            if direction in policy.policy_types:
                if targets is None:
                    targets = classes.policy_targets(policy.namespace, policy.pod_selector).tolist()
                chosen = selected[direction]
                for c in targets:
                    chosen[c].append(pid)
    for direction in Direction:
        unit_of = builder.sides[direction].unit_of
        for c, pids in enumerate(selected[direction]):
            if pids:
                unit_of[c] = builder.unit(direction, tuple(pids), classes.keys[c])
    return builder.freeze()


def classes_selected_by(unit_of: IntArray, unit_keys: Sequence[UnitKey], pid: int) -> IntArray:
    """Classes whose unit includes policy `pid`."""
    units = [u for u, (pids, _) in enumerate(unit_keys) if pid in pids]
    if not units:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.isin(unit_of, units)).astype(np.int64)
