"""Compile a cluster into an `inet` nftables table for a routed node (Calico-style).

Shape (see docs/dataplane.md):

    table inet podwall {
      set peers-N { type ipv4_addr; flags interval; elements = {...} }      peers, deduplicated
      set ports-N { type inet_proto . inet_service; flags interval; ... }   protocol/port ranges
      set dports-N { type ipv4_addr . inet_proto . inet_service; ... }      egress named ports
      counter drop-<n>-in {}  counter drop-<n>-out {}                       per pod, per direction
      map egress-by-if  { type ifname : verdict; elements = { "if" : jump pod-<n>-out, ... } }
      map ingress-by-if { type ifname : verdict; ... }
      chain pod-<n>-out { <rule> return; ...; limit ... log ...; counter name ...; drop }
      chain pod-<n>-in  { <rule> accept; ...; log; counter; drop }
      chain forward { type filter hook forward priority filter; policy accept;
                      ct state established,related accept; ct state invalid drop;
                      iifname vmap @egress-by-if; oifname vmap @ingress-by-if }
    }

Egress chains `return` on a match so that ingress at the destination is still checked; pods that
no policy isolates have no entry in the maps, so per-packet work is two map lookups plus the rules
of the two pods involved: it does not grow with the number of pods or policies. Sizes grow with
pods + policies + rules, never with pairs. Drop, never reject: probes tell drops by timeouts.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from podwall.engine import Engine
from podwall.engine.classes import EndpointClasses
from podwall.engine.evaluate import Evaluator
from podwall.model import (
    Direction,
    Endpoint,
    IPBlock,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Protocol,
    Rule,
)

TABLE = "podwall"
Network = ipaddress.IPv4Network


@dataclass(frozen=True, slots=True)
class Ruleset:
    """The compiled text plus the counts that show it grows linearly."""

    text: str
    chains: int
    rules: int
    sets: int
    set_elements: int

    def summary(self) -> str:
        return (f"{self.chains} chains, {self.rules} rules, {self.sets} sets with "
                f"{self.set_elements} elements")


def _interval_elements(intervals: Iterable[tuple[int, int]]) -> list[str]:
    """Merge integer address intervals; render as nft set elements (`a.b.c.d` or `a-b`)."""
    merged: list[list[int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [_ip(low) if low == high else f"{_ip(low)}-{_ip(high)}" for low, high in merged]


def _ip(value: int) -> str:
    return socket.inet_ntoa(value.to_bytes(4, "big"))


def block_networks(block: IPBlock) -> list[Network]:
    """`cidr` minus every `except`, as disjoint networks (IPv4 only here)."""
    if block.cidr.version != 4:
        return []
    remaining: list[Network] = [block.cidr]
    for ex in block.excepts:
        nxt: list[Network] = []
        for net in remaining:
            if ex.subnet_of(net):  # type: ignore[arg-type]
                nxt.extend(net.address_exclude(ex))  # type: ignore[arg-type]
            elif not net.subnet_of(ex):  # type: ignore[arg-type]
                nxt.append(net)
        remaining = nxt
    return remaining


class _Builder:
    def __init__(self, engine: Engine, interfaces: Mapping[str, str]) -> None:
        self.engine = engine
        self.evaluator: Evaluator = engine.evaluator
        self.cluster = engine.cluster
        # Peers resolve through endpoint classes (one selector evaluation per class, not per pod).
        self.classes = EndpointClasses(self.cluster)
        self.members: list[list[Endpoint]] = [[] for _ in range(self.classes.size)]
        for ep, cid in zip(self.cluster.endpoints, self.classes.class_of.tolist(), strict=True):
            self.members[cid].append(ep)
        self.interfaces = interfaces
        self.sets: dict[tuple[str, tuple[str, ...]], str] = {}
        self.set_lines: list[str] = []
        self.elements = 0
        self.rules = 0
        self.address_cache: dict[tuple[str | None, tuple[Peer, ...]], list[str]] = {}

    def named_set(self, kind: str, type_: str, elements: list[str], interval: bool) -> str:
        key = (type_, tuple(elements))
        name = self.sets.get(key)
        if name is None:
            name = self.sets[key] = f"{kind}-{len(self.sets)}"
            flags = " flags interval;" if interval else ""
            body = ", ".join(elements)
            self.set_lines.append(
                f"  set {name} {{ type {type_};{flags} elements = {{ {body} }} }}")
            self.elements += len(elements)
        return name

    def peer_addresses(self, policy: NetworkPolicy, rule: Rule) -> list[str] | None:
        """Source/destination addresses a rule's peers match; None = every address.

        Integer intervals, merged: ipaddress objects are far too slow for thousands of pods.
        """
        if not rule.peers:
            return None
        depends_on_namespace = any(p.ip_block is None and p.namespace_selector is None
                                   for p in rule.peers)
        key = (policy.namespace if depends_on_namespace else None, rule.peers)
        hit = self.address_cache.get(key)
        if hit is not None:
            return hit
        intervals: list[tuple[int, int]] = []
        for peer in rule.peers:
            if peer.ip_block is not None:
                intervals.extend((int(n.network_address), int(n.broadcast_address))
                                 for n in block_networks(peer.ip_block))
                continue
            for ep in self.peer_endpoints(policy, (peer,)):
                if ep.ip is not None and ep.ip.version == 4:
                    value = int(ep.ip)
                    intervals.append((value, value))
        hit = self.address_cache[key] = _interval_elements(intervals)
        return hit

    def peer_endpoints(self, policy: NetworkPolicy, peers: tuple[Peer, ...]) -> list[Endpoint]:
        """Endpoints any of `peers` matches (every endpoint when there are no peers)."""
        if not peers:
            return list(self.cluster.endpoints)
        ids: set[int] = set()
        for peer in peers:
            ids.update(self.classes.peer(policy.namespace, peer).tolist())
        return [ep for cid in sorted(ids) for ep in self.members[cid]]

    def ports_for(self, ports: tuple[PolicyPort, ...],
                  destination: Endpoint | None) -> list[str] | None:
        """protocol . port elements, named ports resolved on `destination` (none without one);
        None = any port."""
        if not ports:
            return None
        out: list[str] = []
        for pp in ports:
            proto = pp.protocol.value.lower()
            if pp.port is None:
                out.append(f"{proto} . 0-65535")
            elif isinstance(pp.port, int):
                end = pp.end_port if pp.end_port is not None else pp.port
                out.append(f"{proto} . {pp.port}" if end == pp.port else f"{proto} . {pp.port}-{end}")
            elif destination is not None:
                out.extend(f"{proto} . {cp.port}" for cp in destination.ports
                           if cp.name == pp.port and cp.protocol is pp.protocol)
        return sorted(set(out))

    def has_named(self, ports: tuple[PolicyPort, ...]) -> bool:
        return any(isinstance(pp.port, str) for pp in ports)

    def ingress_rule(self, policy: NetworkPolicy, rule: Rule, pod: Endpoint) -> str | None:
        parts: list[str] = []
        addresses = self.peer_addresses(policy, rule)
        if addresses is not None:
            if not addresses:
                return None
            parts.append(f"ip saddr @{self.named_set('peers', 'ipv4_addr', addresses, True)}")
        ports = self.ports_for(rule.ports, pod)
        if ports is not None:
            if not ports:
                return None
            name = self.named_set("ports", "inet_proto . inet_service", ports, True)
            parts.append(f"meta l4proto . th dport @{name}")
        return " ".join([*parts, "accept"])

    def egress_rule(self, policy: NetworkPolicy, rule: Rule) -> str | None:
        addresses = self.peer_addresses(policy, rule)
        if rule.ports and self.has_named(rule.ports):
            # Named ports resolve on each destination pod: address . protocol . port elements.
            elements: list[str] = []
            for ep in self.peer_endpoints(policy, rule.peers):
                if ep.ip is None or ep.ip.version != 4:
                    continue
                for element in self.ports_for(rule.ports, ep) or ():
                    elements.append(f"{ep.ip} . {element}")
            numeric = tuple(pp for pp in rule.ports if not isinstance(pp.port, str))
            lines = []
            if elements:
                name = self.named_set("dports", "ipv4_addr . inet_proto . inet_service",
                                      sorted(set(elements)), True)
                lines.append(f"ip daddr . meta l4proto . th dport @{name} return")
            if numeric:
                sub = self.egress_rule(policy, Rule(rule.peers, numeric))
                if sub:
                    lines.append(sub)
            return "\n".join(lines) or None
        parts: list[str] = []
        if addresses is not None:
            if not addresses:
                return None
            parts.append(f"ip daddr @{self.named_set('peers', 'ipv4_addr', addresses, True)}")
        ports = self.ports_for(rule.ports, None)
        if ports is not None:
            if not ports:
                return None
            name = self.named_set("ports", "inet_proto . inet_service", ports, True)
            parts.append(f"meta l4proto . th dport @{name}")
        return " ".join([*parts, "return"])

    def pod_chain(self, index: int, pod: Endpoint, direction: Direction,
                  policies: tuple[NetworkPolicy, ...]) -> list[str]:
        suffix = "in" if direction is Direction.INGRESS else "out"
        lines = [f"  chain pod-{index}-{suffix} {{",
                 f"    # {pod.key} {direction.word}: isolated by "
                 + ", ".join(p.key for p in policies)]
        for policy in policies:
            for i, rule in enumerate(policy.rules(direction)):
                text = (self.ingress_rule(policy, rule, pod) if direction is Direction.INGRESS
                        else self.egress_rule(policy, rule))
                if text:
                    for line in text.splitlines():
                        lines.append(f"    {line} comment \"{policy.key} {direction.word}[{i}]\"")
                        self.rules += 1
        lines.append(f"    limit rate 5/second log prefix \"pw-drop {pod.key} {direction.word} \" "
                     "level info")
        lines.append(f"    counter name drop-{index}-{suffix} drop")
        lines.append("  }")
        self.rules += 2
        return lines


def compile_ruleset(engine: Engine, interfaces: Mapping[str, str],
                    table: str = TABLE) -> Ruleset:
    """The whole table for the pods in `interfaces` (endpoint key -> host-side interface).

    Only those pods get chains (they are this node's pods); peers may be any endpoint.
    """
    b = _Builder(engine, interfaces)
    chains: list[str] = []
    counters: list[str] = []
    egress_map: list[str] = []
    ingress_map: list[str] = []
    local = [ep for ep in engine.cluster.endpoints if ep.key in interfaces]
    for index, pod in enumerate(local):
        ifname = interfaces[pod.key]
        for direction, target in ((Direction.EGRESS, egress_map), (Direction.INGRESS, ingress_map)):
            policies = engine.selecting(pod, direction)
            if not policies:
                continue
            suffix = "in" if direction is Direction.INGRESS else "out"
            chains.extend(b.pod_chain(index, pod, direction, policies))
            counters.append(f"  counter drop-{index}-{suffix} {{ comment \"{pod.key} {direction.word}\" }}")
            target.append(f"\"{ifname}\" : jump pod-{index}-{suffix}")
    lines = [f"table inet {table} {{"]
    lines.extend(b.set_lines)
    lines.extend(counters)
    for name, entries in (("egress-by-if", egress_map), ("ingress-by-if", ingress_map)):
        body = f" elements = {{ {', '.join(entries)} }}" if entries else ""
        lines.append(f"  map {name} {{ type ifname : verdict;{body} }}")
    lines.extend(chains)
    lines += [
        "  chain forward {",
        "    type filter hook forward priority filter; policy accept;",
        "    ct state established,related accept",
        "    ct state invalid drop",
        "    iifname vmap @egress-by-if",
        "    oifname vmap @ingress-by-if",
        "  }",
        "}",
    ]
    b.rules += 4
    chain_count = sum(1 for line in chains if line.startswith("  chain ")) + 1
    return Ruleset("\n".join(lines) + "\n", chain_count, b.rules, len(b.sets), b.elements)


__all__ = ["TABLE", "Protocol", "Ruleset", "block_networks", "compile_ruleset"]
