"""`podwall lint` for the cluster-admin tiers (PW014-PW017), kept apart from the NetworkPolicy
checks of `analysis.lint`, which registers them.

Like the others, every check is conservative: it fires only when the input shows the problem.
Selection goes through the engine's endpoint classes (one member stands for its class); rule
coverage (PW014) is syntactic: equal or broader selectors, contained networks and port ranges.

- PW017 priority tie: two policies of one tier at the same priority that both have rules for
  one direction and both apply to some endpoint (the API leaves their order undefined;
  podwall's order is by name).
- PW014 shadowed rule: an earlier rule (same policy, or a policy of the same tier earlier in
  evaluation order whose subject covers this one's) matches everything this rule matches, so
  this rule never decides.
- PW015 Admin Accept that makes NetworkPolicies moot: an Admin Accept for every pod on every
  port, reached before any other Admin rule, applies to every pod a namespace's NetworkPolicies
  isolate in that direction: those NetworkPolicies never decide in-cluster traffic there.
- PW016 Baseline never reached: every endpoint a Baseline policy applies to is, in each
  direction the policy has rules for, isolated by a NetworkPolicy, or decided first by an Admin
  Accept or Deny for every pod on every port (when the Baseline rules name pods only).
- PW018 NetworkPolicy rules shadowed by a higher-priority Deny: an Admin Deny for every pod on
  every port, reached before any other Admin rule, applies to every pod a namespace's
  NetworkPolicies isolate in that direction: their rules never admit in-cluster traffic there.

`default_denied` makes PW005/PW006 (no default deny) tier-aware: a namespace whose every
endpoint a Baseline or Admin policy denies by default (a Deny for every pod on every port, the
catch-all a cluster admin writes instead of a NetworkPolicy per namespace) has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from podwall.analysis import wording
from podwall.engine.classes import EndpointClasses
from podwall.engine.evaluate import Evaluator
from podwall.engine.tiers import subject_matches
from podwall.model import Cluster, Direction, Endpoint, LabelSelector
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

# check id -> (default severity, SARIF name)
CLUSTER_CHECKS: dict[str, tuple[str, str]] = {
    "PW017": ("warning", "ClusterPolicyPriorityTie"),
    "PW014": ("info", "ClusterRuleShadowed"),
    "PW015": ("warning", "AdminAcceptMakesNetworkPoliciesMoot"),
    "PW016": ("info", "BaselineNeverReached"),
    "PW018": ("warning", "AdminDenyShadowsNetworkPolicies"),
}

T = TypeVar("T")  # what a finding is (analysis.lint's Finding; this module does not import it)
Emit = Callable[[str, ClusterNetworkPolicy, tuple[str, str]], T]


def cluster_object(policy: ClusterNetworkPolicy) -> str:
    """`ClusterNetworkPolicy allow-dns`: what a finding names (and `ignore` globs match)."""
    return f"{policy.kind} {policy.name}"


class ClusterLinter:
    def __init__(self, cluster: Cluster, classes: EndpointClasses, members: Sequence[list[int]],
                 evaluator: Evaluator) -> None:
        self.cluster = cluster
        self.classes = classes
        self.members = members
        self.evaluator = evaluator
        # one endpoint per non-empty class
        self.reps: list[Endpoint] = [cluster.endpoints[m[0]] for m in members if m]

    def checks(self, emit: Emit[T]) -> dict[str, Callable[[], Iterable[T]]]:
        return {"PW017": lambda: self.ties(emit), "PW014": lambda: self.shadowed(emit),
                "PW015": lambda: self.moot(emit, Action.ACCEPT),
                "PW016": lambda: self.baseline_unreached(emit),
                "PW018": lambda: self.moot(emit, Action.DENY)}

    def applies_to(self, policy: ClusterNetworkPolicy) -> list[Endpoint]:
        return [ep for ep in self.reps if subject_matches(self.cluster, policy.subject, ep)]

    # PW017
    def ties(self, emit: Emit[T]) -> Iterable[T]:
        for tier in Tier:
            ordered = tier_order(self.cluster.cluster_policies, tier)
            for i, first in enumerate(ordered):
                for later in ordered[i + 1:]:
                    if later.priority != first.priority:
                        break
                    if not any(first.rules(d) and later.rules(d) for d in Direction):
                        continue  # one has only ingress rules, the other only egress
                    both = [ep.key for ep in self.applies_to(first)
                            if subject_matches(self.cluster, later.subject, ep)]
                    if both:
                        yield emit("PW017", later, wording.lint_priority_tie_words(
                            first.key, later.key, tier.value, first.priority, both))

    # PW014
    def shadowed(self, emit: Emit[T]) -> Iterable[T]:
        for tier in Tier:
            ordered = tier_order(self.cluster.cluster_policies, tier)
            for pi, policy in enumerate(ordered):
                for direction in Direction:
                    for ri, rule in enumerate(policy.rules(direction)):
                        by = self._earlier_cover(ordered, pi, direction, ri, rule)
                        if by is not None:
                            yield emit("PW014", policy, wording.lint_cluster_shadowed_words(
                                f"{direction.word}[{ri}]", by))

    def _earlier_cover(self, ordered: Sequence[ClusterNetworkPolicy], pi: int,
                       direction: Direction, ri: int, rule: ClusterRule) -> str | None:
        policy = ordered[pi]
        for qi in range(pi + 1):
            other = ordered[qi]
            if other is not policy and not _subject_covers(other.subject, policy.subject):
                continue
            rules = other.rules(direction)
            for k, earlier in enumerate(rules[:ri] if other is policy else rules):
                if _rule_covers(earlier, rule):
                    where = f"{direction.word}[{k}]" if other is policy \
                        else f"{other.key} {direction.word}[{k}]"
                    return f"{where} ({earlier.action.value}, priority {other.priority})"
        return None

    # PW015 (an Admin Accept), PW018 (an Admin Deny)
    def moot(self, emit: Emit[T], action: Action) -> Iterable[T]:
        admin = tier_order(self.cluster.cluster_policies, Tier.ADMIN)
        for direction in Direction:
            isolated_ns: dict[str, list[Endpoint]] = {}
            for rep in self.reps:
                if self.evaluator.selecting(rep, direction):
                    isolated_ns.setdefault(rep.namespace, []).append(rep)
            for namespace, reps in sorted(isolated_ns.items()):
                for policy, index in self._first_rules(admin, direction, reps):
                    rule = policy.rules(direction)[index]
                    if rule.action is action and not rule.ports and any(
                            _every_pod(peer) for peer in rule.peers):
                        names = sorted({p.key for r in reps
                                        for p in self.evaluator.selecting(r, direction)})
                        words = (wording.lint_accept_moot_words if action is Action.ACCEPT
                                 else wording.lint_deny_shadows_words)
                        yield emit("PW015" if action is Action.ACCEPT else "PW018", policy,
                                   words(f"{direction.word}[{index}]", namespace,
                                         direction.word, names))

    def _first_rules(self, admin: Sequence[ClusterNetworkPolicy], direction: Direction,
                     reps: list[Endpoint]) -> list[tuple[ClusterNetworkPolicy, int]]:
        """The one Admin rule every rep reaches first, when it is the same for all of them."""
        firsts = set()
        for rep in reps:
            first = next(((p, 0) for p in admin if p.rules(direction)
                          and subject_matches(self.cluster, p.subject, rep)), None)
            if first is None:
                return []
            firsts.add((first[0].key, first[1]))
        if len(firsts) != 1:
            return []
        key, index = firsts.pop()
        return [(p, index) for p in admin if p.key == key]

    # PW016
    def baseline_unreached(self, emit: Emit[T]) -> Iterable[T]:
        for policy in tier_order(self.cluster.cluster_policies, Tier.BASELINE):
            reps = self.applies_to(policy)
            if not reps:
                continue
            directions = [d for d in Direction if policy.rules(d)]
            admin: dict[str, None] = {}  # the Admin rules that decide first instead
            unreached = bool(directions)
            for rep in reps:
                for d in directions:
                    if self.evaluator.selecting(rep, d):
                        continue
                    first = self._admin_decides_every_pod(rep, d)
                    if first is None or not all(peer.kind in (PeerKind.NAMESPACES, PeerKind.PODS)
                                                for r in policy.rules(d) for peer in r.peers):
                        unreached = False
                        break
                    admin[first] = None
                if not unreached:
                    break
            if unreached:
                yield emit("PW016", policy, wording.lint_baseline_unreached_words(
                    [d.word for d in directions], len(reps), list(admin)))

    def _admin_decides_every_pod(self, rep: Endpoint, direction: Direction) -> str | None:
        """The Admin rule `rep` reaches first in `direction` when it is an Accept or a Deny for
        every pod on every port (then no pod peer of a Baseline rule is ever consulted)."""
        for policy in tier_order(self.cluster.cluster_policies, Tier.ADMIN):
            rules = policy.rules(direction)
            if rules and subject_matches(self.cluster, policy.subject, rep):
                rule = rules[0]
                if (rule.action is not Action.PASS and not rule.ports
                        and any(_every_pod(peer) for peer in rule.peers)):
                    return f"{policy.key} {direction.word}[0] ({rule.action.value})"
                return None
        return None


def default_denied(cluster: Cluster, by_ns: dict[str, list[Endpoint]],
                   direction: Direction) -> set[str]:
    """Namespaces whose every endpoint a Baseline or Admin policy with a catch-all Deny for
    `direction` (every pod, every port) applies to: they have a default deny, written by the
    cluster admin (PW005/PW006 stay quiet)."""
    catch_all = [p for p in cluster.cluster_policies
                 if any(r.action is Action.DENY and not r.ports
                        and any(_every_pod(peer) for peer in r.peers)
                        for r in p.rules(direction))]
    if not catch_all:
        return set()
    return {ns for ns, endpoints in by_ns.items()
            if endpoints and all(any(subject_matches(cluster, p.subject, ep) for p in catch_all)
                                 for ep in endpoints)}


# -- syntactic coverage ---------------------------------------------------------------------------

def _covers(broad: LabelSelector | None, narrow: LabelSelector | None) -> bool:
    if broad is None or broad.is_empty:
        return True
    if narrow is None:
        return False
    return (set(broad.match_labels) <= set(narrow.match_labels)
            and set(broad.match_expressions) <= set(narrow.match_expressions))


def _subject_covers(broad: Subject, narrow: Subject) -> bool:
    return (_covers(broad.namespace_selector, narrow.namespace_selector)
            and (broad.pod_selector is None or _covers(broad.pod_selector, narrow.pod_selector)))


def _every_pod(peer: ClusterPeer) -> bool:
    return (peer.kind in (PeerKind.NAMESPACES, PeerKind.PODS)
            and _covers(peer.namespace_selector, None) and _covers(peer.pod_selector, None))


def _peer_covers(broad: ClusterPeer, narrow: ClusterPeer) -> bool:
    if broad == narrow:
        return True
    if broad.kind is PeerKind.NETWORKS:
        return narrow.kind is PeerKind.NETWORKS and all(
            any(n.version == b.version and n.subnet_of(b) for b in broad.networks)  # type: ignore[arg-type]
            for n in narrow.networks)
    if broad.kind not in (PeerKind.NAMESPACES, PeerKind.PODS) or \
            narrow.kind not in (PeerKind.NAMESPACES, PeerKind.PODS):
        return False
    if not _covers(broad.namespace_selector, narrow.namespace_selector):
        return False
    if broad.kind is PeerKind.NAMESPACES:
        return True
    return narrow.kind is PeerKind.PODS and _covers(broad.pod_selector, narrow.pod_selector)


def _port_covers(broad: ClusterPort, narrow: ClusterPort) -> bool:
    if broad.name is not None or narrow.name is not None:
        return broad == narrow
    return broad.protocol is narrow.protocol and broad.start <= narrow.start <= narrow.end <= broad.end


def _rule_covers(broad: ClusterRule, narrow: ClusterRule) -> bool:
    if not all(any(_peer_covers(b, n) for b in broad.peers) for n in narrow.peers):
        return False
    return not broad.ports or (bool(narrow.ports) and all(
        any(_port_covers(b, n) for b in broad.ports) for n in narrow.ports))

