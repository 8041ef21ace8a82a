"""The cluster-admin tiers, scalar: one direction of one connection, with every reason.

Per direction (egress at the source, ingress at the destination), as the v1alpha2
ClusterNetworkPolicy API documents it:

1. Admin tier: the policies whose subject selects the pod, by priority (lower first; ties in
   the documented order of `ClusterNetworkPolicy.order`), rules in order. The first rule that
   matches decides: Accept allows, Deny denies, Pass skips the rest of the Admin tier.
2. NetworkPolicy, unchanged: when a NetworkPolicy isolates the pod in this direction, it decides
   (allowed iff one of its rules admits).
3. Baseline tier, the same way, only when no NetworkPolicy isolates the pod (Pass there skips
   the rest of the Baseline tier).
4. Otherwise allowed.

Peers podwall cannot see offline (`nodes`: node addresses live in Node objects; `domainNames`:
resolved at run time) never match a pod (podwall models no host-network pods), and *may* match
an address outside the cluster: such a rule is "unknown". The walk takes the branch where unknown
rules do not match (that answer and its reasons are reported) and a linear pass from the end
decides whether the answer could differ if they did (then the verdict is not `decided`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from podwall.engine.selectors import selector_matches
from podwall.engine.targets import ExternalHost, Target
from podwall.engine.verdict import ClusterRuleRef
from podwall.model import Cluster, Direction, Endpoint, PortQuery
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterPort,
    ClusterRule,
    PeerKind,
    Subject,
    Tier,
    tier_order,
)

Match = bool | None  # None: cannot be decided offline


@dataclass(frozen=True, slots=True)
class TierOutcome:
    """What the cluster-policy tiers say about one direction, around the NetworkPolicy tier."""

    tier: str  # "admin", "networkpolicy", "baseline" or "default"
    allowed: bool
    decided_by: ClusterRuleRef | None
    passed: tuple[ClusterRuleRef, ...]
    unknown: tuple[ClusterRuleRef, ...]
    decided: bool


def subject_matches(cluster: Cluster, subject: Subject, endpoint: Endpoint) -> bool:
    ns = cluster.namespace(endpoint.namespace)
    if not selector_matches(subject.namespace_selector, ns.labels):
        return False
    return subject.pod_selector is None or selector_matches(subject.pod_selector, endpoint.labels)


def peer_matches(cluster: Cluster, peer: ClusterPeer, other: Target) -> Match:
    kind = peer.kind
    if kind is PeerKind.NETWORKS:
        ip = other.ip
        return ip is not None and any(ip.version == n.version and ip in n for n in peer.networks)
    if not isinstance(other, Endpoint):
        return None if not kind.offline else False
    if not kind.offline:
        return False  # a pod is neither a node nor a domain name
    assert peer.namespace_selector is not None
    if not selector_matches(peer.namespace_selector, cluster.namespace(other.namespace).labels):
        return False
    return peer.pod_selector is None or selector_matches(peer.pod_selector, other.labels)


def port_matches(port: ClusterPort, query: PortQuery, destination: Target) -> bool:
    if port.name is not None:
        if isinstance(destination, ExternalHost):
            return False
        return any(cp.name == port.name and cp.protocol is query.protocol
                   and cp.port == query.port for cp in destination.ports)
    return port.protocol is query.protocol and port.start <= query.port <= port.end


def rule_matches(cluster: Cluster, rule: ClusterRule, other: Target, query: PortQuery,
                 destination: Target) -> Match:
    if rule.ports and not any(port_matches(p, query, destination) for p in rule.ports):
        return False
    found: Match = False
    for peer in rule.peers:
        hit = peer_matches(cluster, peer, other)
        if hit:
            return True
        if hit is None:
            found = None
    return found


def rule_ref(policy: ClusterNetworkPolicy, direction: Direction, index: int) -> ClusterRuleRef:
    rule = policy.rules(direction)[index]
    return ClusterRuleRef(policy.tier.word, policy.priority, policy.key, direction, index,
                          rule.action.value, rule.name)


class TierEvaluator:
    """The tiers for single queries; per endpoint the policies whose subject selects it are
    cached, in evaluation order."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.admin = tier_order(cluster.cluster_policies, Tier.ADMIN)
        self.baseline = tier_order(cluster.cluster_policies, Tier.BASELINE)
        self._applying: dict[tuple[str, Tier, Direction], tuple[ClusterNetworkPolicy, ...]] = {}

    def applying(self, endpoint: Endpoint, tier: Tier,
                 direction: Direction) -> tuple[ClusterNetworkPolicy, ...]:
        """The policies of `tier` that select `endpoint` and have `direction` rules, in order."""
        key = (endpoint.key, tier, direction)
        hit = self._applying.get(key)
        if hit is None:
            hit = tuple(p for p in (self.admin if tier is Tier.ADMIN else self.baseline)
                        if p.rules(direction) and subject_matches(self.cluster, p.subject, endpoint))
            self._applying[key] = hit
        return hit

    def outcome(self, direction: Direction, subject: Endpoint, other: Target, query: PortQuery,
                destination: Target, networkpolicy: Callable[[], bool | None]) -> TierOutcome:
        """Walk the tiers. `networkpolicy()` is the NetworkPolicy tier's answer, None when no
        NetworkPolicy isolates `subject` in `direction`."""
        admin = self._steps(self.applying(subject, Tier.ADMIN, direction), direction, other,
                            query, destination)
        np_answer = networkpolicy()
        baseline = self._steps(self.applying(subject, Tier.BASELINE, direction), direction,
                               other, query, destination)
        # the answer of every position, from the end (unknown rules: both branches)
        after_baseline: Match = True
        for ref, match in reversed(baseline):
            after_baseline = _position(ref, match, after_baseline, True)
        after_admin: Match = np_answer if np_answer is not None else after_baseline
        start = after_admin
        for ref, match in reversed(admin):
            start = _position(ref, match, start, after_admin)
        # the reported branch: unknown rules do not match
        passed: list[ClusterRuleRef] = []
        unknown: list[ClusterRuleRef] = []
        for steps, tier in ((admin, "admin"), (None, "networkpolicy"), (baseline, "baseline")):
            if steps is None:
                if np_answer is not None:
                    return TierOutcome(tier, np_answer, None, tuple(passed), tuple(unknown),
                                       start is not None)
                continue
            for ref, match in steps:
                if match is None:
                    unknown.append(ref)
                elif match:
                    if ref.action == Action.PASS.value:
                        passed.append(ref)
                        break
                    return TierOutcome(tier, ref.action == Action.ACCEPT.value, ref,
                                       tuple(passed), tuple(unknown), start is not None)
        return TierOutcome("default", True, None, tuple(passed), tuple(unknown), start is not None)

    def _steps(self, policies: tuple[ClusterNetworkPolicy, ...], direction: Direction,
               other: Target, query: PortQuery,
               destination: Target) -> list[tuple[ClusterRuleRef, Match]]:
        """The rules of the tier up to the first that certainly matches, with their match."""
        out: list[tuple[ClusterRuleRef, Match]] = []
        for policy in policies:
            for index, rule in enumerate(policy.rules(direction)):
                match = rule_matches(self.cluster, rule, other, query, destination)
                if match is False:
                    continue
                out.append((rule_ref(policy, direction, index), match))
                if match:
                    return out
        return out


def _position(ref: ClusterRuleRef, match: Match, following: Match, tier_end: Match) -> Match:
    """The answer from a rule on: its action when it matches (Pass: the answer after the tier),
    the following rule's when it does not, and None when it may or may not and they differ."""
    if ref.action == Action.ACCEPT.value:
        taken: Match = True
    elif ref.action == Action.DENY.value:
        taken = False
    else:
        taken = tier_end
    if match:
        return taken
    return taken if taken == following else None
