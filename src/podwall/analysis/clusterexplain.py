"""`explain` for the cluster-admin tiers: every ClusterNetworkPolicy in plain words, and which of
them apply to an endpoint, in evaluation order. Kept apart from `explain` (which reads
NetworkPolicies) so each stays small; the words live in `wording`."""

from __future__ import annotations

from podwall.analysis import wording
from podwall.engine.offline import applies_to, offline_rules
from podwall.engine.tiers import subject_matches
from podwall.model import Cluster, Direction, Endpoint
from podwall.model.clusterpolicy import ClusterNetworkPolicy, Tier, tier_order


def ordered(cluster: Cluster) -> tuple[ClusterNetworkPolicy, ...]:
    """Admin then Baseline, each in evaluation order."""
    return (*tier_order(cluster.cluster_policies, Tier.ADMIN),
            *tier_order(cluster.cluster_policies, Tier.BASELINE))


def cluster_policy_lines(cluster: Cluster) -> list[str]:
    """The "Cluster policies" section (empty without any)."""
    policies = ordered(cluster)
    if not policies:
        return []
    lines = [f"\nCluster policies ({len(policies)}), in evaluation order"]
    for p in policies:
        where = f"  [{p.source}]" if p.source else ""
        lines.append(f"\n{p.key}{where}")
        lines.append("  " + wording.cluster_policy_head_words(p))
        for direction in (Direction.INGRESS, Direction.EGRESS):
            for i, rule in enumerate(p.rules(direction)):
                lines.append("  " + wording.cluster_rule_line_words(rule, direction, i))
                kinds = list(dict.fromkeys(q.kind.value for q in rule.peers if not q.kind.offline))
                if kinds:
                    lines.append("  " + wording.offline_rule_words(kinds))
    return lines


def applying(cluster: Cluster, endpoint: Endpoint) -> tuple[str, ...]:
    """`admin/allow-dns (priority 10)` for every cluster policy whose subject selects it."""
    return tuple(f"{p.key} (priority {p.priority})" for p in ordered(cluster)
                 if subject_matches(cluster, p.subject, endpoint))


def offline(cluster: Cluster, endpoint: Endpoint) -> tuple[str, ...]:
    """The rules applying to the endpoint whose nodes or domainNames peers cannot be decided
    offline (`admin/egress-control egress[0] (api) (domainNames)`)."""
    return tuple(str(r) for r in offline_rules(cluster) if applies_to(cluster, r, endpoint))
