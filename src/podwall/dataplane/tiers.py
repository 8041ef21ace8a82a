"""The cluster-admin tiers in the nftables table (see podwall.dataplane.compile for the rest).

A pod that a ClusterNetworkPolicy applies to gets, per direction, one *tier chain* in place of
its NetworkPolicy chain in the verdict map (`egress-by-if`, `ingress-by-if`); pods of a
namespace with the same Admin policies, the same NetworkPolicy chain and the same Baseline
policies share it:

    chain tiers-in/<ns>/<key> {                    Admin tier: every rule of every Admin policy
      <ports> <peers> accept                         that applies, in evaluation order (one
      <ports> <peers> goto tiers-deny-in/<ns>        nft rule per protocol; Deny: log with the
                                                      tier in the prefix, count into the pod's
                                                      counter, drop)
      <ports> <peers> goto <after>                   (Pass: past the rest of the Admin tier)
      goto <after>
    }
    <after> = the pods' NetworkPolicy chain (pods-in/...) when one isolates them, else
    chain tiers-in-baseline/<ns>/<key> { <Baseline rules, Pass = goto the default>; accept }

With audited NetworkPolicies the audit view gets its own `audit-tiers-...` chains, whose Deny
logs `audit` and accepts (see podwall.dataplane.compile). Egress is the same with `goto
egress-admitted` for Accept (the destination's ingress still
decides) and the default. Every chain ends in a verdict, so a `goto` never falls back into a
chain that jumped. Rules are written out per tier chain, not shared per policy: a Pass must
know where the rest of its pods' evaluation goes. Their number grows with the distinct
(namespace, Admin, NetworkPolicy, Baseline) combinations of this node's pods times the rules of
the cluster policies applying to them, never with pods.

Peers that cannot be decided offline (nodes, domainNames) match nothing here, as in the
vectorised engine; the reader warns about each.
"""

from __future__ import annotations

import numpy as np

from podwall.dataplane.addresses import FAMILY, Intervals, merge_intervals, render_intervals
from podwall.dataplane.compile import (
    COMMENT_MAX,
    _Builder,
    _quote,
    counter_map_name,
    scoped,
)
from podwall.dataplane.logprefix import log_statement
from podwall.dataplane.nftsyntax import Ident, ident, remark
from podwall.engine.tiers import subject_matches
from podwall.model import Direction, Endpoint, PolicyPort, Protocol
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    PeerKind,
    Tier,
    tier_order,
)


class TierCompiler:
    """Writes tier chains into a `_Builder` (its sets, chains and rule count)."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        cluster = builder.cluster
        self.admin = tier_order(cluster.cluster_policies, Tier.ADMIN)
        self.baseline = tier_order(cluster.cluster_policies, Tier.BASELINE)
        self.chains: dict[tuple[str, Direction, tuple[str, ...], str | None, tuple[str, ...]],
                          str] = {}
        self.deny_chains: dict[tuple[str, Direction, str], str] = {}

    def entry(self, pod: Endpoint, direction: Direction, np_chain: str | None) -> str | None:
        """The chain the pod's verdict-map entry jumps to: its tier chain, or `np_chain` (which
        may be None: nothing applies) when no cluster policy applies to it in `direction`."""
        cluster = self.b.cluster
        admin = tuple(p for p in self.admin
                      if p.rules(direction) and subject_matches(cluster, p.subject, pod))
        baseline = () if np_chain is not None else tuple(
            p for p in self.baseline
            if p.rules(direction) and subject_matches(cluster, p.subject, pod))
        if not admin and not baseline:
            return np_chain
        key = (pod.namespace, direction, tuple(p.key for p in admin), np_chain,
               tuple(p.key for p in baseline))
        found = self.chains.get(key)
        if found is None:
            found = self.chains[key] = self._chain(pod.namespace, direction, admin, np_chain,
                                                   baseline, len(self.chains))
        return found

    def _chain(self, namespace: str, direction: Direction,
               admin: tuple[ClusterNetworkPolicy, ...], np_chain: str | None,
               baseline: tuple[ClusterNetworkPolicy, ...], index: int) -> str:
        short = "in" if direction is Direction.INGRESS else "out"
        view = self.b.view
        default = (self.b.admit_ingress if direction is Direction.INGRESS
                   else f"goto {scoped(self.b.admitted_chain)}")
        after = f"goto {np_chain}" if np_chain is not None else default
        if baseline:
            name = scoped(ident(f"{view}tiers-{short}-baseline/", f"{namespace}/{index}"))
            self._write(name, f"Baseline tier for {direction.word} of pods of {namespace}: "
                        + ", ".join(p.key for p in baseline), direction, baseline, default,
                        default, namespace)
            after = f"goto {name}"
        if not admin:
            return after.removeprefix("goto ")
        name = scoped(ident(f"{view}tiers-{short}/", f"{namespace}/{index}"))
        self._write(name, f"Admin tier for {direction.word} of pods of {namespace}: "
                    + ", ".join(p.key for p in admin), direction, admin, after, after, namespace)
        return name

    def _write(self, name: Ident, note: str, direction: Direction,
               policies: tuple[ClusterNetworkPolicy, ...], passed: str, end: str,
               namespace: str) -> None:
        b = self.b
        verdicts = {
            Action.ACCEPT: (b.admit_ingress if direction is Direction.INGRESS
                            else f"goto {scoped(b.admitted_chain)}"),
            Action.PASS: passed,
        }
        lines: list[str] = []
        for policy in policies:
            for index, rule in enumerate(policy.rules(direction)):
                comment = _quote(f"{policy.key} {direction.word}[{index}] {rule.action.value}",
                                 COMMENT_MAX)
                verdict = (f"goto {self._deny_chain(namespace, direction, policy.tier.word)}"
                           if rule.action is Action.DENY else verdicts[rule.action])
                lines.extend(f"{match} {verdict} comment {comment}".lstrip()
                             for match in self._matches(rule, direction))
        lines.append(end)
        b.chain_lines.append(f"  chain {name} {{")
        b.chain_lines.append("    " + remark(note))
        b.chain_lines.extend(f"    {line}" for line in lines)
        b.chain_lines.append("  }")
        b.rules += len(lines)

    def _deny_chain(self, namespace: str, direction: Direction, tier: str) -> str:
        """Where a Deny rule sends a packet: a chain (one per tier chain's namespace, direction
        and tier) that logs it like any drop (NFLOG, the prefix contract, whose last word names
        the tier: a reader tells a tier's drop from a NetworkPolicy's by the kernel's own word)
        and counts it into the pod's drop counter, then drops; in the audit view it logs
        `audit`, counts into the audit counter and accepts. A separate chain, because `limit`
        in the Deny rule itself would make an over-rate packet skip the rule instead of being
        dropped."""
        key = (namespace, direction, tier)
        found = self.deny_chains.get(key)
        if found is not None:
            return found
        b = self.b
        short = "in" if direction is Direction.INGRESS else "out"
        which = "" if tier == "admin" else f"-{tier}"  # admin keeps its earlier name
        name = scoped(ident(f"{b.view}tiers-deny-{short}{which}/", namespace))
        where = "oifname" if direction is Direction.INGRESS else "iifname"
        if b.view:
            lines = [log_statement(namespace, direction, "audit", b.log_group, tier=tier),
                     f"counter name {where} map @{scoped(counter_map_name(direction, 'audit'))}"
                     " accept"]
        else:
            lines = [log_statement(namespace, direction, "drop", b.log_group, tier=tier),
                     f"counter name {where} map @{scoped(counter_map_name(direction))} drop"]
        b.chain_lines.append(f"  chain {name} {{")
        b.chain_lines.append("    " + remark(f"a Deny of a cluster policy ({tier} tier), "
                                             f"{direction.word} of pods of {namespace}"))
        b.chain_lines.extend(f"    {line}" for line in lines)
        b.chain_lines.append("  }")
        b.rules += len(lines)
        self.deny_chains[key] = name
        return name

    # -- matches --------------------------------------------------------------------------------
    def _intervals(self, peers: tuple[ClusterPeer, ...]) -> dict[int, Intervals]:
        """Addresses the peers match, per IP version, as merged integer intervals."""
        c = self.b.classes
        found: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        classes: set[int] = set()
        for peer in peers:
            if peer.kind is PeerKind.NETWORKS:
                for net in peer.networks:
                    found[net.version].append((int(net.network_address),
                                               int(net.broadcast_address)))
            elif peer.kind.offline:
                assert peer.namespace_selector is not None
                chosen = c.in_namespaces_matching(peer.namespace_selector)
                if peer.pod_selector is not None:
                    chosen = np.intersect1d(chosen, c.pods_matching(peer.pod_selector))
                classes.update(chosen.tolist())
        out: dict[int, Intervals] = {}
        for version in (4, 6):
            addresses = self.b.addresses[version].of_classes(sorted(classes))
            out[version] = merge_intervals([*found[version], *addresses])
        return out

    def _matches(self, rule: ClusterRule, direction: Direction) -> list[str]:
        """One nft match per alternative (peers of one IP version x one port match)."""
        b = self.b
        where = "saddr" if direction is Direction.INGRESS else "daddr"
        addresses = self._intervals(rule.peers)
        peer_parts: list[tuple[int, str]] = []
        for version, intervals in addresses.items():
            if intervals:
                keyword, type_ = FAMILY[version]
                name = b.add_set(f"peers{version}", type_, render_intervals(intervals, version),
                                 interval=True)
                peer_parts.append((version, f"{keyword} {where} @{name}"))
        if not peer_parts:
            return []  # no address can match: the rule matches nothing
        ports = _policy_ports(rule)
        within = addresses if direction is Direction.EGRESS else None
        port_parts = [(None, "", False)] if ports is None else \
            b.port_matches(ports, direction, within)
        assert port_parts is not None
        out = [port_text for _, port_text, with_peers in port_parts if with_peers]
        for peer_version, peer_text in peer_parts:
            for port_version, port_text, with_peers in port_parts:
                if with_peers or (port_version is not None and peer_version != port_version):
                    continue
                # the port first: a compare or two that most packets fail before the peer lookup
                out.append(" ".join(part for part in (port_text, peer_text) if part))
        return out


def _policy_ports(rule: ClusterRule) -> tuple[PolicyPort, ...] | None:
    """The rule's ports as NetworkPolicy ports (which the port sets already know how to
    write): a number or range of one protocol; a named port of any protocol. None: any."""
    if not rule.ports:
        return None
    out: list[PolicyPort] = []
    for port in rule.ports:
        if port.name is not None:
            out.extend(PolicyPort(protocol, port.name) for protocol in Protocol)
        else:
            assert port.protocol is not None
            out.append(PolicyPort(port.protocol, port.start,
                                  port.end if port.end != port.start else None))
    return tuple(out)
