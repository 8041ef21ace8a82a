"""The scalar evaluator: one connection, with every reason. Used by `check` and `explain`.

It follows the Kubernetes reference literally, rule by rule, so it doubles as the oracle that the
vectorised matrix (`podwall.engine.matrix`) is property-tested against.
"""

from __future__ import annotations

from collections import defaultdict

from podwall.engine.selectors import selector_matches
from podwall.engine.targets import ExternalHost, Target, resolve_target
from podwall.engine.tiers import TierEvaluator
from podwall.engine.verdict import AssignedAddress, DirectionVerdict, RuleRef, Verdict
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    IPAddress,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PortQuery,
    Rule,
)


class Evaluator:
    """Answers single queries fast: policies are indexed by namespace, selections are cached."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._by_namespace: dict[str, list[NetworkPolicy]] = defaultdict(list)
        for policy in cluster.policies:
            self._by_namespace[policy.namespace].append(policy)
        self._selecting: dict[tuple[str, Direction], tuple[NetworkPolicy, ...]] = {}
        self.tiers = TierEvaluator(cluster) if cluster.cluster_policies else None

    # -- selection -----------------------------------------------------------------------
    def selecting(self, endpoint: Endpoint, direction: Direction) -> tuple[NetworkPolicy, ...]:
        """Policies of the endpoint's namespace that select it and isolate `direction`."""
        key = (endpoint.key, direction)
        hit = self._selecting.get(key)
        if hit is None:
            hit = tuple(
                p for p in self._by_namespace.get(endpoint.namespace, ())
                if direction in p.policy_types and selector_matches(p.pod_selector, endpoint.labels)
            )
            self._selecting[key] = hit
        return hit

    def policies_in(self, namespace: str) -> tuple[NetworkPolicy, ...]:
        return tuple(self._by_namespace.get(namespace, ()))

    # -- matching ------------------------------------------------------------------------
    def peer_matches(self, policy: NetworkPolicy, peer: Peer, other: Target) -> bool:
        if peer.ip_block is not None:
            return peer.ip_block.contains(other.ip) if other.ip is not None else False
        if not isinstance(other, Endpoint):
            return False  # pod and namespace selectors only ever select pods
        if peer.namespace_selector is None:
            if other.namespace != policy.namespace:
                return False
        else:
            ns = self.cluster.namespace(other.namespace)
            if not selector_matches(peer.namespace_selector, ns.labels):
                return False
        return peer.pod_selector is None or selector_matches(peer.pod_selector, other.labels)

    def rule_matches(self, policy: NetworkPolicy, rule: Rule, other: Target,
                     port: PortQuery, destination: Target) -> bool:
        if rule.ports and not any(port_matches(pp, port, destination) for pp in rule.ports):
            return False
        return not rule.peers or any(self.peer_matches(policy, p, other) for p in rule.peers)

    # -- verdicts ------------------------------------------------------------------------
    def direction_verdict(self, direction: Direction, subject: Target, other: Target,
                          port: PortQuery, destination: Target) -> DirectionVerdict:
        if not isinstance(subject, Endpoint):
            return DirectionVerdict(direction, subject.key, True, applies=False)
        policies = self.selecting(subject, direction)
        admitted: tuple[RuleRef, ...] = ()
        if policies:
            admitted = tuple(
                RuleRef(policy.key, direction, index)
                for policy in policies
                for index, rule in enumerate(policy.rules(direction))
                if self.rule_matches(policy, rule, other, port, destination)
            )
        isolated_by = tuple(p.key for p in policies)
        if self.tiers is None:
            return DirectionVerdict(direction, subject.key, not policies or bool(admitted),
                                    isolated_by=isolated_by, admitted_by=admitted)
        tiers = self.tiers.outcome(direction, subject, other, port, destination,
                                   lambda: bool(admitted) if policies else None)
        return DirectionVerdict(direction, subject.key, tiers.allowed, isolated_by=isolated_by,
                                admitted_by=admitted, tier=tiers.tier,
                                decided_by=tiers.decided_by, passed=tiers.passed,
                                unknown=tiers.unknown, decided=tiers.decided)

    def check(self, src: Target | str, dst: Target | str, port: PortQuery) -> Verdict:
        source = resolve_target(self.cluster, src) if isinstance(src, str) else src
        target = resolve_target(self.cluster, dst) if isinstance(dst, str) else dst
        egress = self.direction_verdict(Direction.EGRESS, source, target, port, target)
        ingress = self.direction_verdict(Direction.INGRESS, target, source, port, target)
        same = isinstance(source, Endpoint) and source == target
        allowed = same or (egress.allowed and ingress.allowed)
        assigned: tuple[AssignedAddress, ...] = ()
        if not same:
            assigned = tuple(a for a in (
                self.assigned_address(Direction.EGRESS, source, target, port, target),
                self.assigned_address(Direction.INGRESS, target, source, port, target))
                if a is not None)
        return Verdict(source.key, target.key, port, allowed, egress, ingress, same_endpoint=same,
                       assigned=assigned)

    def assigned_address(self, direction: Direction, subject: Target, other: Target,
                         port: PortQuery, destination: Target) -> AssignedAddress | None:
        """When `other` has an address podwall assigned and some rule of the side (on this
        port) has an ipBlock whose cidr holds it (matched, or cut out by an except), that side's
        answer rests on the invented address: say so."""
        if not isinstance(subject, Endpoint) or not isinstance(other, Endpoint) \
                or not other.ip_assigned or other.ip is None:
            return None
        blocks: dict[str, None] = {}
        rules: list[RuleRef] = []
        for policy in self.selecting(subject, direction):
            for index, rule in enumerate(policy.rules(direction)):
                if rule.ports and not any(port_matches(pp, port, destination)
                                          for pp in rule.ports):
                    continue
                hits = [p.ip_block for p in rule.peers if p.ip_block is not None
                        and p.ip_block.cidr.version == other.ip.version
                        and other.ip in p.ip_block.cidr]
                if hits:
                    rules.append(RuleRef(policy.key, direction, index))
                    blocks.update((str(b), None) for b in hits)
        if not rules:
            return None
        return AssignedAddress(other.key, str(other.ip), tuple(blocks), tuple(rules))


def port_matches(policy_port: PolicyPort, port: PortQuery, destination: Target) -> bool:
    """A named port matches when the destination pod has a container port of that name and
    protocol whose number is the queried one (resolution happens on the destination)."""
    if policy_port.protocol is not port.protocol:
        return False
    spec = policy_port.port
    if spec is None:
        return True
    if isinstance(spec, int):
        end = policy_port.end_port if policy_port.end_port is not None else spec
        return spec <= port.port <= end
    if isinstance(destination, ExternalHost):
        return False
    return any(
        cp.name == spec and cp.protocol is port.protocol and cp.port == port.port
        for cp in destination.ports
    )


def external(ip: IPAddress) -> ExternalHost:
    return ExternalHost(ip)
