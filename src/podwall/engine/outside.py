"""The world outside the pods, cut into pieces that every policy treats alike.

An address outside the cluster is judged by one thing only: which `ipBlock`s (and cluster
policies' `networks`) contain it (it has no labels, no namespace, no named ports, and no policy
isolates it). So the ipBlocks and networks of all policies partition the address space into
*blocks*: maximal sets of addresses that lie in exactly the same ipBlocks. Every address of a
block gets the same verdict on every connection, and one representative address answers for
all of them (as netpol-analyzer and network-config-analyzer partition the address space).

What counts as outside: every IPv4 and IPv6 address except the pod CIDR (`--pod-cidr`: the
cluster's pod network, whose addresses belong to pods today or tomorrow), the Service CIDR
(`--service-cidr`: ClusterIPs, which kube-proxy DNATs to pods before any policy sees the
packet, so they are pods in disguise, never the outside world) and the IPs of the input's
endpoints and Services (a pod outside the pod CIDR, from its `status.podIP`, or a ClusterIP
outside the Service CIDR, is still a pod or a Service: it is never chosen as a representative,
and a block made of such IPs only is not outside).

The cluster-admin tiers' `networks` peers cut blocks as ipBlocks do (a ClusterNetworkPolicy
that denies 169.254.169.254/32 treats that address apart from the rest).

Ports are partitioned the same way: per protocol, the numbers where some policy port range
(cluster policies' too) or some container port starts or ends cut 1..65535 into intervals over
which every verdict with the outside is constant (a named port matches an outside host never,
and a pod only at its own container port's number, which is an interval of its own).
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podwall.model import (
    Cluster,
    IPAddress,
    IPBlock,
    IPNetwork,
    PortQuery,
    Protocol,
)

_TOP = {4: 1 << 32, 6: 1 << 128}
_ANY = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}


def _span(net: IPNetwork) -> tuple[int, int]:
    """[first, last + 1) of a network, as integers."""
    return int(net.network_address), int(net.network_address) + net.num_addresses


@dataclass(frozen=True, slots=True)
class AddressSet:
    """A set of addresses: sorted, disjoint, non-adjacent half-open intervals per IP version.

    Canonical, so `==` means "the same addresses". `str` is the shorter of "CIDR except CIDR,
    ..." (the smallest network holding the set, minus its holes) and the list of CIDRs.
    """

    v4: tuple[tuple[int, int], ...] = ()
    v6: tuple[tuple[int, int], ...] = ()

    @staticmethod
    def of(intervals: Iterable[tuple[int, int, int]]) -> AddressSet:
        """From (version, start, end) half-open intervals, in any order, overlapping or not."""
        by: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for version, start, end in intervals:
            if start < end:
                by[version].append((start, end))
        return AddressSet(_merge(by[4]), _merge(by[6]))

    @staticmethod
    def network(net: IPNetwork) -> AddressSet:
        return AddressSet.of([(net.version, *_span(net))])

    def intervals(self, version: int) -> tuple[tuple[int, int], ...]:
        return self.v4 if version == 4 else self.v6

    @property
    def empty(self) -> bool:
        return not self.v4 and not self.v6

    def contains(self, address: IPAddress) -> bool:
        spans = self.intervals(address.version)
        value = int(address)
        at = bisect.bisect_right(spans, (value, _TOP[6] + 1)) - 1
        return at >= 0 and spans[at][0] <= value < spans[at][1]

    def union(self, other: AddressSet) -> AddressSet:
        return AddressSet(_merge([*self.v4, *other.v4]), _merge([*self.v6, *other.v6]))

    def minus(self, other: AddressSet) -> AddressSet:
        return AddressSet(_subtract(self.v4, other.v4), _subtract(self.v6, other.v6))

    def size(self, version: int) -> int:
        return sum(b - a for a, b in self.intervals(version))

    def cidrs(self, version: int | None = None) -> list[IPNetwork]:
        """The set as the fewest CIDRs (per version, IPv4 first)."""
        out: list[IPNetwork] = []
        for v in ((4, 6) if version is None else (version,)):
            for a, b in self.intervals(v):
                out.extend(_cidrs(v, a, b))
        return out

    def words(self, version: int) -> str:
        spans = self.intervals(version)
        if not spans:
            return ""
        plain = [str(n) for n in _collapse(version, spans)]
        cover = _cover(version, spans[0][0], spans[-1][1])
        lo, hi = _span(cover)
        holes = _subtract(((lo, hi),), spans)
        holed = [str(n) for a, b in holes for n in _cidrs(version, a, b)]
        if holed and len(holed) + 1 < len(plain):
            return f"{cover} except {', '.join(holed)}"
        return ", ".join(plain)

    def __str__(self) -> str:
        parts = [w for w in (self.words(4), self.words(6)) if w]
        return "; ".join(parts) if parts else "no address"


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def _subtract(spans: Sequence[tuple[int, int]],
              holes: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    j = 0
    for a, b in spans:
        while j < len(holes) and holes[j][1] <= a:
            j += 1
        k = j
        start = a
        while k < len(holes) and holes[k][0] < b:
            if holes[k][0] > start:
                out.append((start, holes[k][0]))
            start = max(start, holes[k][1])
            k += 1
        if start < b:
            out.append((start, b))
    return tuple(out)


def _cidrs(version: int, a: int, b: int) -> list[IPNetwork]:
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return list(ipaddress.summarize_address_range(cls(a), cls(b - 1)))


def _collapse(version: int, spans: Sequence[tuple[int, int]]) -> list[IPNetwork]:
    return [n for a, b in spans for n in _cidrs(version, a, b)]


def _cover(version: int, a: int, b: int) -> IPNetwork:
    """The smallest network holding [a, b)."""
    bits = 32 if version == 4 else 128
    prefix = bits
    while prefix > 0 and (a >> (bits - prefix)) != ((b - 1) >> (bits - prefix)):
        prefix -= 1
    base = a >> (bits - prefix) << (bits - prefix)
    if version == 4:
        return ipaddress.IPv4Network((base, prefix))
    return ipaddress.IPv6Network((base, prefix))


@dataclass(frozen=True, slots=True)
class Block:
    """Outside addresses that lie in exactly the ipBlocks `within` (indexes into
    `Outside.ipblocks`); `representative` is one of them that is no pod's IP."""

    index: int
    addresses: AddressSet
    within: tuple[int, ...]
    representative: IPAddress

    @property
    def name(self) -> str:
        return f"b{self.index + 1}"


@dataclass(frozen=True)
class Outside:
    """The partition of the outside world: blocks, and what is inside (excluded)."""

    ipblocks: tuple[IPBlock, ...]
    blocks: tuple[Block, ...]
    pod_cidr: IPNetwork
    stray_pod_ips: tuple[IPAddress, ...]  # endpoint IPs outside the pod CIDR (still pods)
    service_cidr: IPNetwork | None = None
    # ClusterIPs outside the Service CIDR (still Services: DNAT-ed to pods)
    stray_service_ips: tuple[IPAddress, ...] = ()

    @property
    def everything(self) -> AddressSet:
        out = AddressSet()
        for b in self.blocks:
            out = out.union(b.addresses)
        return out

    def block_of(self, address: IPAddress) -> Block | None:
        """The block holding an outside address (None: in the pod or Service CIDR, or a pod's
        or a Service's IP)."""
        if self.inside_because(address) is not None:
            return None
        for b in self.blocks:
            if b.addresses.contains(address):
                return b
        return None

    def inside_because(self, address: IPAddress) -> tuple[str, str] | None:
        """Why an address is not outside: ("pod-cidr" | "service-cidr", the CIDR) or
        ("pod-ip" | "service-ip", the address); None when it is outside."""
        if address.version == self.pod_cidr.version and address in self.pod_cidr:
            return "pod-cidr", str(self.pod_cidr)
        if self.service_cidr is not None and address.version == self.service_cidr.version \
                and address in self.service_cidr:
            return "service-cidr", str(self.service_cidr)
        if address in self.stray_pod_ips:
            return "pod-ip", str(address)
        if address in self.stray_service_ips:
            return "service-ip", str(address)
        return None

    def union(self, indexes: Iterable[int]) -> AddressSet:
        out = AddressSet()
        for i in indexes:
            out = out.union(self.blocks[i].addresses)
        return out


def ipblocks_of(clusters: Iterable[Cluster]) -> tuple[IPBlock, ...]:
    """Every distinct ipBlock of the clusters' policies, in order of appearance, then each
    network of the cluster-admin tiers' `networks` peers (as an ipBlock without excepts)."""
    seen: dict[IPBlock, None] = {}
    for cluster in clusters:
        for policy in cluster.policies:
            for rule in (*policy.ingress, *policy.egress):
                for peer in rule.peers:
                    if peer.ip_block is not None:
                        seen.setdefault(peer.ip_block, None)
    for cluster in clusters:
        for cnp in cluster.cluster_policies:
            for crule in (*cnp.ingress, *cnp.egress):
                for cpeer in crule.peers:
                    for network in cpeer.networks:
                        seen.setdefault(IPBlock(network), None)
    return tuple(seen)


def partition(clusters: Sequence[Cluster] | Cluster) -> Outside:
    """Blocks of the addresses outside `clusters` (one, or several judged together, as `diff`
    does: the first one's pod and Service CIDRs; every cluster's endpoint and Service IPs are
    inside)."""
    group = (clusters,) if isinstance(clusters, Cluster) else tuple(clusters)
    ipblocks = ipblocks_of(group)
    pod_cidr, service_cidr = group[0].pod_cidr, group[0].service_cidr
    pod_ips = {ep.ip for c in group for ep in c.endpoints if ep.ip is not None}
    stray = _sorted_ips(ip for ip in pod_ips if ip not in pod_cidr)
    service_ips = {s.cluster_ip for c in group for s in c.services if s.cluster_ip is not None}
    stray_services = _sorted_ips(ip for ip in service_ips
                                 if ip not in service_cidr and ip not in pod_ips)
    stray_ints: set[tuple[int, int]] = {(ip.version, int(ip))
                                        for ip in (*stray, *stray_services)}
    inside = AddressSet.network(pod_cidr).union(AddressSet.network(service_cidr))
    pieces: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}
    for version in (4, 6):
        cuts = {0, _TOP[version]}
        for block in ipblocks:
            if block.cidr.version != version:
                continue
            for net in (block.cidr, *block.excepts):
                cuts.update(_span(net))
        ordered = sorted(cuts)
        spans = list(itertools.pairwise(ordered))
        outside = _subtract(spans, inside.intervals(version))
        for a, b in outside:
            probe = _address(version, a)
            within = tuple(i for i, block in enumerate(ipblocks) if block.contains(probe))
            pieces.setdefault(within, []).append((version, a, b))
    blocks: list[Block] = []
    for within, spans_of in sorted(pieces.items(), key=lambda kv: _first(kv[1])):
        addresses = AddressSet.of(spans_of)
        rep = _representative(addresses, stray_ints)
        if rep is None:
            continue  # pod and Service IPs only: nothing outside
        blocks.append(Block(len(blocks), addresses, within, rep))
    return Outside(ipblocks, tuple(blocks), pod_cidr, stray, service_cidr, stray_services)


def _sorted_ips(ips: Iterable[IPAddress]) -> tuple[IPAddress, ...]:
    return tuple(sorted(ips, key=lambda a: (a.version, int(a))))


def _first(spans: list[tuple[int, int, int]]) -> tuple[int, int]:
    version, a, _ = min(spans)
    return version, a


def _address(version: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def _representative(addresses: AddressSet, taken: set[tuple[int, int]]) -> IPAddress | None:
    """An address of the set that is no pod's IP: the first such, past network-looking ends
    (x.x.x.0 reads as a network, so prefer start + 1 when the span has room)."""
    for version in (4, 6):
        for a, b in addresses.intervals(version):
            for value in range(a + (1 if b - a > 2 else 0), min(b, a + len(taken) + 3)):
                if (version, value) not in taken:
                    return _address(version, value)
            for value in range(a, b):
                if (version, value) not in taken:
                    return _address(version, value)
    return None


# -- ports --------------------------------------------------------------------------------------

MAX_PORT = 65535


@dataclass(frozen=True, slots=True, order=True)
class PortRange:
    """`protocol` ports `first..last` (both included)."""

    protocol: Protocol
    first: int
    last: int

    @property
    def representative(self) -> PortQuery:
        return PortQuery(self.protocol, self.first)

    def __str__(self) -> str:
        if self.first == 1 and self.last == MAX_PORT:
            return f"{self.protocol}/*"
        if self.first == self.last:
            return f"{self.protocol}/{self.first}"
        return f"{self.protocol}/{self.first}-{self.last}"


def port_partition(clusters: Sequence[Cluster] | Cluster) -> tuple[PortRange, ...]:
    """Per protocol, the port intervals over which no verdict with the outside changes."""
    group = (clusters,) if isinstance(clusters, Cluster) else tuple(clusters)
    cuts: dict[Protocol, set[int]] = {p: {1, MAX_PORT + 1} for p in Protocol}
    for cluster in group:
        for ep in cluster.endpoints:
            for cp in ep.ports:
                cuts[cp.protocol].update((cp.port, cp.port + 1))
        for policy in cluster.policies:
            for rule in (*policy.ingress, *policy.egress):
                for pp in rule.ports:
                    if isinstance(pp.port, int):
                        end = pp.end_port if pp.end_port is not None else pp.port
                        cuts[pp.protocol].update((pp.port, end + 1))
        for cnp in cluster.cluster_policies:
            for crule in (*cnp.ingress, *cnp.egress):
                for cport in crule.ports:
                    if cport.name is None and cport.protocol is not None:
                        cuts[cport.protocol].update((cport.start, cport.end + 1))
    out: list[PortRange] = []
    for protocol in Protocol:
        ordered = sorted(c for c in cuts[protocol] if 1 <= c <= MAX_PORT + 1)
        out.extend(PortRange(protocol, a, b - 1) for a, b in itertools.pairwise(ordered))
    return tuple(out)


def merged_ranges(ranges: Iterable[PortRange]) -> list[PortRange]:
    """Sorted, with adjacent and overlapping ranges of a protocol joined."""
    merged: list[PortRange] = []
    for r in sorted(ranges):
        if merged and merged[-1].protocol is r.protocol and merged[-1].last + 1 >= r.first:
            merged[-1] = PortRange(r.protocol, merged[-1].first, max(r.last, merged[-1].last))
        else:
            merged.append(r)
    return merged


def ports_words(ranges: Iterable[PortRange]) -> str:
    """`TCP/80, TCP/8000-8080, UDP/*`; adjacent ranges merged; `every port` for all of them."""
    merged = merged_ranges(ranges)
    if len(merged) == len(Protocol) and all(str(r).endswith("/*") for r in merged):
        return "every port"
    return ", ".join(str(r) for r in merged)


def any_network(version: int) -> IPNetwork:
    return _ANY[version]
