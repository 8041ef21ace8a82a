"""Addresses as the ruleset writes them: ipBlocks as disjoint networks, integer intervals merged
and rendered as prefixes or ranges, the addresses of endpoint classes for peer sets, and the
endpoints where a named port resolves. The compiler (podwall.dataplane.compile) and the tier
chains (podwall.dataplane.tiers) both build sets from these, so they live apart from either.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from podwall.model import Endpoint, IPBlock, IPNetwork, Protocol

Intervals = list[tuple[int, int]]


def block_networks(block: IPBlock) -> list[IPNetwork]:
    """`cidr` minus every `except`, as disjoint networks (exact: nothing more, nothing less)."""
    remaining: list[IPNetwork] = [block.cidr]
    for ex in block.excepts:
        if ex.version != block.cidr.version:
            continue
        nxt: list[IPNetwork] = []
        for net in remaining:
            if ex.subnet_of(net):  # type: ignore[arg-type]
                nxt.extend(net.address_exclude(ex))  # type: ignore[arg-type]
            elif not net.subnet_of(ex):  # type: ignore[arg-type]
                nxt.append(net)
        remaining = nxt
    return remaining


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """Sorted, disjoint intervals covering the same integers (touching ones joined)."""
    merged: list[list[int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


def ipv4_text(value: int) -> str:
    """An IPv4 address from its integer, fast (inet_ntoa)."""
    return socket.inet_ntoa(value.to_bytes(4, "big"))


def ipv6_text(value: int) -> str:
    """An IPv6 address from its integer."""
    return str(ipaddress.IPv6Address(value))


def render_intervals(intervals: Intervals, version: int) -> list[str]:
    """Addresses, prefixes where an interval is exactly one (`10.0.0.0/8`), else ranges."""
    text = ipv4_text if version == 4 else ipv6_text
    bits = 32 if version == 4 else 128
    out = []
    for low, high in intervals:
        size = high - low + 1
        if size == 1:
            out.append(text(low))
        elif size & (size - 1) == 0 and low % size == 0:
            out.append(f"{text(low)}/{bits - size.bit_length() + 1}")
        else:
            out.append(f"{text(low)}-{text(high)}")
    return out


FAMILY = {4: ("ip", "ipv4_addr"), 6: ("ip6", "ipv6_addr")}


class ClassAddresses:
    """The addresses of one IP version's endpoints, by endpoint class, for peer sets: the
    members of a few hundred classes become merged intervals with a sort of positions, not a
    Python loop over thousands of endpoints."""

    def __init__(self, endpoints: Sequence[Endpoint], class_of: npt.NDArray[np.int64],
                 classes: int, version: int) -> None:
        chosen = [(int(ep.ip), int(cid)) for ep, cid in zip(endpoints, class_of.tolist(), strict=True)
                  if ep.ip is not None and ep.ip.version == version]
        chosen.sort()
        self.values = [value for value, _ in chosen]  # sorted; Python ints (IPv6 needs 128 bits)
        owners = np.array([cid for _, cid in chosen], dtype=np.int64)
        order = np.argsort(owners, kind="stable")
        bounds = np.searchsorted(owners[order], np.arange(classes + 1))
        self.positions = [order[bounds[c]:bounds[c + 1]] for c in range(classes)]

    def of_classes(self, classes: Iterable[int]) -> Intervals:
        parts = [self.positions[c] for c in classes]
        if not parts:
            return []
        picked = np.unique(np.concatenate(parts)).tolist()  # positions, so sorted by address
        out: Intervals = []
        for position in picked:
            value = self.values[position]
            if out and value == out[-1][1] + 1:
                out[-1] = (out[-1][0], value)
            elif not out or value != out[-1][1]:
                out.append((value, value))
        return out


PROTOCOL_WORDS = {protocol: protocol.value.lower() for protocol in Protocol}


@dataclass(frozen=True, slots=True)
class NamedPortElements:
    """The endpoints where one named port resolves (one protocol, one IP version), sorted by
    address, with the number it resolves to there and their set elements: an egress rule's
    destinations are the slice of them inside its peers, found by a vectorised search rather
    than a loop over the endpoints."""

    addresses: list[int]
    ports: list[int]
    elements: list[str]
    packed: npt.NDArray[np.uint64] | None  # IPv4 addresses for numpy (IPv6 needs 128 bits)

    @classmethod
    def of(cls, version: int, entries: list[tuple[int, int, str]]) -> NamedPortElements:
        """From (address, port number, set element) per endpoint and container port."""
        entries.sort()
        addresses = [value for value, _, _ in entries]
        packed = np.array(addresses, dtype=np.uint64) if version == 4 else None
        return cls(addresses, [port for _, port, _ in entries],
                   [element for _, _, element in entries], packed)

    def positions_within(self, peers: Intervals) -> list[int]:
        """The positions of the endpoints inside `peers` (merged, sorted intervals)."""
        if not peers:
            return []
        if self.packed is not None:
            lows = np.array([low for low, _ in peers], dtype=np.uint64)
            highs = np.array([high for _, high in peers], dtype=np.uint64)
            at = np.searchsorted(lows, self.packed, side="right") - 1
            inside = (at >= 0) & (self.packed <= highs[np.maximum(at, 0)])
            return [int(i) for i in np.flatnonzero(inside).tolist()]
        starts = [low for low, _ in peers]
        chosen = []
        for position, address in enumerate(self.addresses):
            k = bisect.bisect_right(starts, address) - 1
            if k >= 0 and address <= peers[k][1]:
                chosen.append(position)
        return chosen

    def within(self, peers: Intervals) -> list[str]:
        """The elements of the endpoints inside `peers` (merged, sorted intervals)."""
        return sorted({self.elements[i] for i in self.positions_within(peers)})
