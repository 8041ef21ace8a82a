"""A NetworkPolicy selection chain as a dispatch on the destination port (see
podwall.dataplane.compile for the table around it).

A connection's first packet used to walk the rules of every policy that selects its pods, one
nft rule each, every rule a lookup in a peer set and one in a port set. On this machine that
walk cost the ruleset ~10% of the node's new-connection rate, and the port sets, which are
concatenated `inet_proto . inet_service` interval sets (the kernel's pipapo backend), were the
dearest lookups of all (measured: docs/performance.md). The union of all those rules is what
decides (order never matters), so a selection chain now asks that union directly:

    chain pods-in/<ns>/<policies> {
      ip saddr . meta l4proto . th dport @exact4-K accept   one lookup for ports with few peers
      meta l4proto tcp th dport vmap @ports-in-N     one lookup: port -> what may reach it
      meta l4proto udp th dport vmap @ports-in-M
      ip saddr @peers4-K accept                      rules without ports (every protocol)
      <log> <count> drop
    }
    map ports-in-N { type inet_service : verdict; flags interval;
                     elements = { 80 : jump admit-in-3, 443 : accept, 8000-8100 : jump ... } }
    chain admit-in-3 { # peers of <rules>; ip saddr @peers4-7 accept; ip6 saddr @peers6-1 accept }

The ports of every rule of the chain's policies are cut into disjoint segments per protocol;
each segment maps to the peers of the rules that cover it: straight to the admitting verdict
when one of them allows everyone, else to an `admit-*` chain that looks the source (for
egress, the destination) up in one interval set per IP version, their union, while that is
small, else in each rule's own set (`admit_groups`). So the first packet pays about two lookups
per direction, both in single-field sets (hash or rbtree, never the pipapo of concatenated
intervals), whatever the number of rules. A segment whose peers do not match returns, and the
rules without ports still get their turn before the drop. A single port whose peers are at most
EXACT_PEERS addresses (pods, mostly) is written out instead, `address . protocol . port`, in
the chain's exact set (a hash, looked up first): one lookup decides it; measured on the
benchmark node, that took the rate from 93.8% to 95.5% of conntrack only.

Named ports resolve on the destination. Egress: each destination endpoint inside a rule's peers
where the name resolves adds its address to its port's segment. Ingress: the destination is one
of the chain's own pods, so pods that resolve the chain's names differently get chains of their
own (replicas share one; `pods-in/<ns>/<policies>/2` is the second such variant).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING

from podwall.dataplane.addresses import (
    FAMILY,
    PROTOCOL_WORDS,
    Intervals,
    ipv4_text,
    ipv6_text,
    merge_intervals,
    render_intervals,
)
from podwall.dataplane.compile import (
    COMMENT_MAX,
    _quote,
    _short,
    counter_map_name,
    scoped,
    selection_chain_name,
)
from podwall.dataplane.logprefix import log_statement
from podwall.dataplane.nftsyntax import Ident, remark
from podwall.model import Direction, Endpoint, NetworkPolicy, Protocol

if TYPE_CHECKING:
    from podwall.dataplane.compile import _Builder

# The addresses a rule's peers match, per IP version (4, 6); None: every address.
Peers = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] | None
# A single port whose peers are at most EXACT_PEERS addresses is written out as `address .
# protocol . port` elements of the chain's exact set (a hash: one lookup decides, no port map,
# no admit chain); at most EXACT_PER_CHAIN addresses a chain, so its size stays bounded.
EXACT_PEERS = 256
EXACT_PER_CHAIN = 1024


def peers_of(by_version: dict[int, Intervals] | None) -> Peers:
    """`Peers` from intervals per IP version (None stays None: every address)."""
    if by_version is None:
        return None
    return (tuple(by_version.get(4, ())), tuple(by_version.get(6, ())))


def is_empty(peers: Peers) -> bool:
    return peers is not None and not peers[0] and not peers[1]


def union(parts: Iterable[Peers]) -> Peers:
    """The addresses any of `parts` match (None, every address, absorbs the rest)."""
    v4: list[tuple[int, int]] = []
    v6: list[tuple[int, int]] = []
    for part in parts:
        if part is None:
            return None
        v4.extend(part[0])
        v6.extend(part[1])
    return (tuple(merge_intervals(v4)), tuple(merge_intervals(v6)))


@dataclass(frozen=True, slots=True)
class Box:
    """What one rule (or one resolved named port of it) allows: these ports of one protocol,
    from (ingress) or to (egress) these peers."""

    protocol: Protocol
    low: int
    high: int
    peers: Peers
    rule: str = ""  # which rule, for the reader of the ruleset: `shop/db-allow-api ingress[0]`


@dataclass(frozen=True, slots=True)
class Segment:
    """Ports `low`..`high` of one protocol and the peers of the rules that cover them: the
    segments of a chain are disjoint, so each is one element of its port map. `parts` are the
    distinct peers of those rules ((None,): every address), `rules` their names."""

    low: int
    high: int
    parts: tuple[Peers, ...]
    rules: tuple[str, ...] = ()

    @property
    def peers(self) -> Peers:
        """Every address some rule of the segment allows."""
        return union(self.parts)


def _distinct(parts: Iterable[Peers]) -> tuple[Peers, ...]:
    """`parts` without repeats, in their order ((None,) when one is every address)."""
    found = tuple(dict.fromkeys(parts))
    return (None,) if None in found else found


def port_segments(boxes: Sequence[Box]) -> dict[Protocol, list[Segment]]:
    """Disjoint port segments per protocol, each with the distinct peers of the boxes that
    cover it; neighbouring segments with the same peers are joined, uncovered ports left out.

    Boxes with the same ports are grouped first, so the cost grows with the distinct port
    ranges (a handful), not with the boxes (an egress named port adds one per destination).
    """
    by_range: dict[tuple[Protocol, int, int], list[Box]] = {}
    for box in boxes:
        if not is_empty(box.peers):
            by_range.setdefault((box.protocol, box.low, box.high), []).append(box)
    ranges: dict[Protocol, list[tuple[int, int, tuple[Peers, ...], set[str]]]] = {}
    for (protocol, low, high), grouped in by_range.items():
        ranges.setdefault(protocol, []).append(
            (low, high, _distinct(b.peers for b in grouped), {b.rule for b in grouped if b.rule}))
    out: dict[Protocol, list[Segment]] = {}
    for protocol in sorted(ranges, key=lambda p: p.value):
        items = ranges[protocol]
        cuts = sorted({item[0] for item in items} | {item[1] + 1 for item in items})
        segments: list[Segment] = []
        for low, next_low in pairwise(cuts):
            high = next_low - 1
            covering = [item for item in items if item[0] <= low and high <= item[1]]
            if not covering:
                continue
            parts = _distinct(part for item in covering for part in item[2])
            rules = sorted(set().union(*(item[3] for item in covering)))
            last = segments[-1] if segments else None
            if (last is not None and last.high == low - 1
                    and frozenset(last.parts) == frozenset(parts)):
                segments[-1] = Segment(last.low, high, last.parts,
                                       tuple(sorted({*last.rules, *rules})))
            else:
                segments.append(Segment(low, high, parts, tuple(rules)))
        out[protocol] = segments
    return out


def admit_groups(parts: tuple[Peers, ...], small: int = 64) -> tuple[Peers, ...]:
    """The peer sets an admit chain looks up, one rule each: the union of `parts` when it is
    small (one lookup), else the parts themselves, which are the rules' own sets and shared by
    content across chains (a union of large sets would be a new large set per port and
    chain: it doubled the benchmark node's set elements)."""
    if len(parts) == 1 or None in parts:
        return (union(parts),)
    if sum(len(part[0]) + len(part[1]) for part in parts if part is not None) <= small:
        return (union(parts),)
    return parts


def named_resolution(pod: Endpoint, policies: Sequence[NetworkPolicy],
                     direction: Direction) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
    """How `pod` resolves the named ports of `policies`' ingress rules (protocol, name, its
    port numbers); () for egress, where the destination is not the chain's pod. Pods that
    resolve alike can share a chain."""
    if direction is not Direction.INGRESS:
        return ()
    names = sorted({(pp.protocol.value, pp.port) for policy in policies
                    for rule in policy.rules(direction) for pp in rule.ports
                    if isinstance(pp.port, str)})
    return tuple((protocol, name, tuple(sorted(
        cp.port for cp in pod.ports if cp.name == name and cp.protocol.value == protocol)))
        for protocol, name in names)


def peer_match(peers: Peers, where: str) -> list[tuple[int, str]]:
    """(IP version, `ip saddr`/`ip6 daddr`...) for the versions `peers` holds addresses of."""
    assert peers is not None
    return [(version, f"{FAMILY[version][0]} {where}")
            for version, intervals in zip((4, 6), peers, strict=True) if intervals]


def address_count(parts: Sequence[Peers]) -> int | None:
    """How many addresses `parts` hold at most (None: every address)."""
    if None in parts:
        return None
    return sum(high - low + 1 for part in parts if part is not None
               for intervals in part for low, high in intervals)


def exact_elements(segment: Segment, protocol: Protocol) -> dict[int, list[str]]:
    """The `address . protocol . port` elements of a one-port segment, per IP version."""
    peers = segment.peers
    assert peers is not None and segment.low == segment.high
    out: dict[int, list[str]] = {4: [], 6: []}
    for version, intervals in zip((4, 6), peers, strict=True):
        text = ipv4_text if version == 4 else ipv6_text
        out[version] = [f"{text(address)} . {PROTOCOL_WORDS[protocol]} . {segment.low}"
                        for low, high in intervals for address in range(low, high + 1)]
    return out


def port_text(segment: Segment) -> str:
    return str(segment.low) if segment.low == segment.high else f"{segment.low}-{segment.high}"


class SelectionWriter:
    """Writes a builder's NetworkPolicy selection chains (with their port maps and admit
    chains) into its sets, maps, chains and rule count (podwall.dataplane.compile)."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.selection_chains: dict[tuple[object, ...], str] = {}
        self.variants: dict[tuple[str, Direction, tuple[str, ...]], int] = {}
        self.admit_chains: dict[tuple[Direction, frozenset[Peers], str], Ident] = {}
        self.admit_parts: dict[Ident, tuple[Peers, ...]] = {}
        self.admit_rules: dict[Ident, set[str]] = {}
        self.map_names: dict[tuple[str, bool, tuple[str, ...]], Ident] = {}
        self.map_elements = 0

    def admit_verdict(self, direction: Direction, namespace: str) -> str:
        """What a packet that a rule admits gets: ingress is the base chain's last word (accept,
        or the audit view first); egress must still meet the destination's ingress. With
        --log-allowed an ingress admit logs first (only a connection's first packet gets here:
        conntrack accepted the rest before)."""
        if direction is Direction.EGRESS:
            return f"goto {scoped(self.b.admitted_chain)}"
        if self.b.log_allowed:
            logged = log_statement(namespace, direction, "allow", self.b.log_group, limit=False)
            return f"{logged} {self.b.admit_ingress}"
        return self.b.admit_ingress

    def named_destinations(self, protocol: Protocol, name: str, peers: Peers) -> list[Box]:
        """An egress named port: one box per port number it resolves to on the endpoints inside
        `peers` (every endpoint when None), holding the addresses of those endpoints."""
        boxes: list[Box] = []
        for version in (4, 6):
            where_named = self.b.named_index(False).get((name, protocol, version))
            if where_named is None:
                continue
            if peers is None:
                positions = list(range(len(where_named.addresses)))
            else:
                positions = where_named.positions_within(list(peers[0 if version == 4 else 1]))
            by_port: dict[int, list[tuple[int, int]]] = {}
            for position in positions:
                address = where_named.addresses[position]
                by_port.setdefault(where_named.ports[position], []).append((address, address))
            for port, addresses in by_port.items():
                merged = tuple(merge_intervals(addresses))
                boxes.append(Box(protocol, port, port,
                                 (merged, ()) if version == 4 else ((), merged)))
        return boxes

    def allowed(self, policies: Sequence[NetworkPolicy], direction: Direction,
                resolution: Sequence[tuple[str, str, tuple[int, ...]]],
                ) -> tuple[list[Box], list[tuple[Peers, str]]]:
        """What the rules of `policies` allow in `direction`: boxes of ports and peers, and the
        peers of the rules without ports (every protocol, every port), with the rules' names."""
        named = {(protocol, name): numbers for protocol, name, numbers in resolution}
        boxes: list[Box] = []
        any_port: list[tuple[Peers, str]] = []
        for policy in policies:
            for index, rule in enumerate(policy.rules(direction)):
                label = f"{policy.key} {direction.word}[{index}]"
                peers = peers_of(self.b.peer_intervals(policy, rule.peers)) if rule.peers else None
                if is_empty(peers):
                    continue  # no address can match
                if not rule.ports:
                    any_port.append((peers, label))
                    continue
                for pp in rule.ports:
                    if pp.port is None:
                        boxes.append(Box(pp.protocol, 0, 65535, peers, label))
                    elif isinstance(pp.port, int):
                        end = pp.end_port if pp.end_port is not None else pp.port
                        boxes.append(Box(pp.protocol, pp.port, end, peers, label))
                    elif direction is Direction.INGRESS:  # resolved on the chain's pods
                        boxes.extend(Box(pp.protocol, number, number, peers, label)
                                     for number in named.get((pp.protocol.value, pp.port), ()))
                    else:
                        boxes.extend(replace(box, rule=label) for box in
                                     self.named_destinations(pp.protocol, pp.port, peers))
        return boxes, any_port

    def peer_rules(self, peers: Peers, where: str, admit: str, note: str = "") -> list[str]:
        """`ip saddr @peers4-N <admit>` per IP version `peers` holds (`<admit>` alone: any),
        with `note` as their comment when given."""
        comment = f" comment {_quote(note, COMMENT_MAX)}" if note else ""
        if peers is None:
            return [f"{admit}{comment}"]
        lines = []
        for version, match in peer_match(peers, where):
            name = self.b.add_set(f"peers{version}", FAMILY[version][1],
                                render_intervals(list(peers[0 if version == 4 else 1]), version),
                                interval=True)
            lines.append(f"{match} @{name} {admit}{comment}")
        return lines

    def admit_chain(self, direction: Direction, parts: tuple[Peers, ...], admit: str,
                    rules: Sequence[str]) -> str:
        """The chain a port segment jumps to: its peers admitted, everyone else returns to the
        selection chain (shared by every segment with the same peers and verdict; written by
        `write_admit_chains`, once every rule it stands for is known)."""
        key = (direction, frozenset(parts), admit)
        name = self.admit_chains.get(key)
        if name is None:
            name = self.admit_chains[key] = self.b.numbered(
                f"{self.b.view}admit-{_short(direction)}")
            self.admit_parts[name] = parts
            self.admit_rules[name] = set()
        self.admit_rules[name].update(rules)
        return name

    def write_admit_chains(self) -> None:
        """Each admit chain, with the rules it stands for as a remark (the reader of `nft list
        ruleset` still sees which rule admits what)."""
        for (direction, _, admit), name in self.admit_chains.items():
            where = "saddr" if direction is Direction.INGRESS else "daddr"
            lines = [line for peers in admit_groups(self.admit_parts[name])
                     for line in self.peer_rules(peers, where, admit)]
            self.b.chain_lines.append(f"  chain {name} {{")
            rules = sorted(self.admit_rules[name])
            if rules:
                self.b.chain_lines.append("    " + remark("peers of " + ", ".join(rules)))
            self.b.chain_lines.extend(f"    {line}" for line in lines)
            self.b.chain_lines.append("  }")
            self.b.rules += len(lines)

    def add_map(self, kind: str, type_: str, elements: Sequence[str], *,
                interval: bool) -> Ident:
        """A verdict map, shared by identical content, named `<kind>-<n>`."""
        key = (type_, interval, tuple(elements))
        found = self.map_names.get(key)
        if found is not None:
            return found
        name = self.map_names[key] = self.b.numbered(kind)
        flags = " flags interval;" if interval else ""
        self.b.map_lines.append(
            f"  map {name} {{ type {type_};{flags} elements = {{ {', '.join(elements)} }} }}")
        self.map_elements += len(elements)
        return name

    def dispatch_lines(self, direction: Direction, namespace: str, boxes: Sequence[Box],
                       any_port: Sequence[tuple[Peers, str]]) -> tuple[list[str], bool]:
        """The deciding lines of a selection chain: the exact set, a port map per protocol, then
        the rules without ports (see podwall.dataplane.dispatch); and whether they admit every
        packet (a rule without peers or ports: nothing is left to drop)."""
        admit = self.admit_verdict(direction, namespace)
        plain = "log " not in admit  # a verdict a map element can hold
        where = "saddr" if direction is Direction.INGRESS else "daddr"
        everywhere = union(peers for peers, _ in any_port) if any_port else ((), ())
        note = ", ".join(sorted({label for _, label in any_port}))
        if everywhere is None:  # some rule admits every peer on every port
            return [f"{admit} comment {_quote(note, COMMENT_MAX)}"], True
        lines = []
        exact: dict[int, list[str]] = {4: [], 6: []}
        exact_rules: set[str] = set()
        budget = EXACT_PER_CHAIN
        maps: list[str] = []
        for protocol, all_segments in port_segments(boxes).items():
            segments = []
            for segment in all_segments:
                count = address_count(segment.parts) if segment.low == segment.high else None
                if count is not None and count <= min(EXACT_PEERS, budget):
                    budget -= count
                    for version, found in exact_elements(segment, protocol).items():
                        exact[version] += found
                    exact_rules.update(segment.rules)
                else:
                    segments.append(segment)
            if not segments:
                continue
            elements = [
                f"{port_text(segment)} : "
                + (admit if segment.parts == (None,) and plain
                   else f"jump {self.admit_chain(direction, segment.parts, admit, segment.rules)}")
                for segment in segments]
            name = self.add_map(f"ports-{_short(direction)}", "inet_service : verdict", elements,
                                interval=any(s.low != s.high for s in segments))
            maps.append(f"meta l4proto {PROTOCOL_WORDS[protocol]} th dport vmap @{name}")
        for version in (4, 6):
            if exact[version]:
                keyword, type_ = FAMILY[version]
                name = self.b.add_set(f"exact{version}", f"{type_} . inet_proto . inet_service",
                                      sorted(set(exact[version])), interval=False)
                lines.append(f"{keyword} {where} . meta l4proto . th dport @{name} {admit}")
        if lines:  # what the exact sets stand for, for the reader of the ruleset
            lines.insert(0, remark("peers of " + ", ".join(sorted(exact_rules))))
        lines += maps
        if not is_empty(everywhere):
            lines += self.peer_rules(everywhere, where, admit, note)
        return lines, False

    def chain(self, pod: Endpoint, direction: Direction,
              policies: tuple[NetworkPolicy, ...]) -> str:
        """The chain of the pods of `pod`'s namespace that exactly `policies` isolate (and that
        resolve their ingress named ports alike)."""
        resolution = named_resolution(pod, policies, direction)
        names = tuple(p.name for p in policies)
        key = (pod.namespace, direction, names, resolution)
        name = self.selection_chains.get(key)
        if name is not None:
            return name
        crowd = (pod.namespace, direction, names)
        variant = self.variants[crowd] = self.variants.get(crowd, 0) + 1
        name = self.selection_chains[key] = scoped(
            selection_chain_name(pod.namespace, names, direction, self.b.view, variant))
        boxes, any_port = self.allowed(policies, direction, resolution)
        body, admits_all = self.dispatch_lines(direction, pod.namespace, boxes, any_port)
        where = "iifname" if direction is Direction.EGRESS else "oifname"
        if admits_all:
            pass  # every peer on every port: nothing is left to drop
        elif self.b.view:  # the audit view: log what it would drop, count it, and let it pass
            body += [log_statement(pod.namespace, direction, "audit", self.b.log_group),
                     f"counter name {where} map @{scoped(counter_map_name(direction, 'audit'))}"
                     " accept"]
        else:
            body += [log_statement(pod.namespace, direction, "drop", self.b.log_group),
                     f"counter name {where} map @{scoped(counter_map_name(direction))} drop"]
        self.b.chain_lines.append(f"  chain {name} {{")
        audited = self.b.audited
        self.b.chain_lines.append("    " + remark(
            ("audit view: " if self.b.view else "")
            + f"{direction.word} of the pods of {pod.namespace} isolated by "
            + ", ".join(p.name + (" (audit)" if p.key in audited else "") for p in policies)))
        self.b.chain_lines.extend(f"    {line}" for line in body)
        self.b.chain_lines.append("  }")
        self.b.rules += sum(1 for line in body if not line.startswith("#"))
        return name


__all__ = [
    "EXACT_PEERS",
    "EXACT_PER_CHAIN",
    "Box",
    "Peers",
    "Segment",
    "SelectionWriter",
    "is_empty",
    "named_resolution",
    "peer_match",
    "peers_of",
    "port_segments",
    "port_text",
    "union",
]
