"""Cluster-policy rules podwall cannot decide offline, and the cells they may change.

A `nodes` peer (node addresses live in Node objects podwall does not read) or a `domainNames`
peer (resolved at run time) never matches a pod (podwall models no host-network pods) and may or
may not match an address outside the cluster. Every verb computes its answers as if such peers
matched nothing; this module names the rules and the cells (endpoint, outside address, port)
whose answer could differ if they did, so that no verb silently allows or denies them: `check`
calls such a verdict UNDECIDED, the others list the cells beside their answer.

The cells come from the scalar evaluator (`Verdict.decided`), one query per distinct
(namespace, labels, ports) of the endpoints a rule's policy applies to: pods of one workload
share their answers, and only endpoints such a rule can reach are asked about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podwall.engine.evaluate import Evaluator
from podwall.engine.targets import ExternalHost
from podwall.engine.tiers import rule_ref, subject_matches
from podwall.engine.verdict import ClusterRuleRef
from podwall.model import Cluster, Direction, Endpoint, PortQuery


@dataclass(frozen=True, slots=True)
class OfflineRule:
    """A cluster-policy rule with a peer that cannot be decided offline (`kinds`: `nodes`,
    `domainNames`), and the policy's subject it applies to."""

    ref: ClusterRuleRef
    kinds: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.ref} ({', '.join(self.kinds)})"

    def to_json(self) -> dict[str, object]:
        return {**self.ref.to_json(), "peers": list(self.kinds)}


@dataclass(frozen=True, slots=True)
class UndecidedCell:
    """`src -> dst` on `port` cannot be decided offline: `allowed` is the answer every verb
    shows (the rules in `rules` matching nothing); they could change it."""

    src: str
    dst: str
    port: PortQuery
    allowed: bool
    rules: tuple[ClusterRuleRef, ...]

    def to_json(self) -> dict[str, object]:
        return {"from": self.src, "to": self.dst, "port": str(self.port),
                "shownAs": "allowed" if self.allowed else "denied",
                "rules": [r.to_json() for r in self.rules]}


def offline_rules(cluster: Cluster) -> tuple[OfflineRule, ...]:
    """Every rule with a `nodes` or `domainNames` peer, in the order of the input."""
    out: list[OfflineRule] = []
    for policy in cluster.cluster_policies:
        for direction in (Direction.INGRESS, Direction.EGRESS):
            for index, rule in enumerate(policy.rules(direction)):
                kinds = tuple(dict.fromkeys(p.kind.value for p in rule.peers
                                            if not p.kind.offline))
                if kinds:
                    out.append(OfflineRule(rule_ref(policy, direction, index), kinds))
    return tuple(out)


def applies_to(cluster: Cluster, rule: OfflineRule, endpoint: Endpoint) -> bool:
    """Whether the rule's policy selects `endpoint` (the rule can only act on its traffic)."""
    policy = next(p for p in cluster.cluster_policies if p.key == rule.ref.policy)
    return subject_matches(cluster, policy.subject, endpoint)


def undecided_cells(evaluator: Evaluator, endpoints: Iterable[Endpoint],
                    hosts: Sequence[ExternalHost],
                    ports: Sequence[PortQuery]) -> tuple[UndecidedCell, ...]:
    """The cells between `endpoints` and outside `hosts` on `ports` whose answer depends on a
    rule of `offline_rules` (egress from the endpoint; ingress from the host where the rule is
    an ingress rule)."""
    cluster = evaluator.cluster
    rules = offline_rules(cluster)
    if not rules or not hosts or not ports:
        return ()
    check = evaluator.check
    directions = {r.ref.direction for r in rules}
    seen: dict[tuple[object, ...], list[tuple[int, int, bool, bool, tuple[ClusterRuleRef, ...]]]] = {}
    out: list[UndecidedCell] = []
    for ep in endpoints:
        if not any(applies_to(cluster, r, ep) for r in rules):
            continue
        key = (ep.namespace, ep.labels, ep.ports)
        found = seen.get(key)
        if found is None:
            found = []
            for h, host in enumerate(hosts):
                for p, port in enumerate(ports):
                    for egress in (True, False):
                        direction = Direction.EGRESS if egress else Direction.INGRESS
                        if direction not in directions:
                            continue
                        verdict = check(ep, host, port) if egress else check(host, ep, port)
                        if verdict.decided:
                            continue
                        side = verdict.egress if egress else verdict.ingress
                        found.append((h, p, egress, verdict.allowed, side.unknown))
            seen[key] = found
        for h, p, egress, allowed, refs in found:
            host_name = str(hosts[h].ip)
            src, dst = (ep.key, host_name) if egress else (host_name, ep.key)
            out.append(UndecidedCell(src, dst, ports[p], allowed, refs))
    return tuple(out)


__all__ = ["OfflineRule", "UndecidedCell", "applies_to", "offline_rules", "undecided_cells"]
