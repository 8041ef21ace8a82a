"""Every sentence podwall says about policies and verdicts lives here, so the wording stays one."""

from __future__ import annotations

from podwall.engine import DirectionVerdict, Verdict
from podwall.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Rule,
)


def selector_words(selector: LabelSelector, noun: str) -> str:
    """`{}` -> "all pods"; otherwise "pods with app=web"."""
    if selector.is_empty:
        return f"all {noun}"
    return f"{noun} with {selector}"


def namespace_words(selector: LabelSelector) -> str:
    if selector.is_empty:
        return "all namespaces"
    if (len(selector.match_labels) == 1 and not selector.match_expressions
            and selector.match_labels[0][0] == NAMESPACE_NAME_LABEL):
        return f"namespace {selector.match_labels[0][1]}"
    return f"namespaces with {selector}"


def peer_words(peer: Peer, policy_namespace: str) -> str:
    if peer.ip_block is not None:
        return f"addresses in {peer.ip_block}"
    pods = ("all pods" if peer.pod_selector is None
            else selector_words(peer.pod_selector, "pods"))
    if peer.namespace_selector is None:
        return f"{pods} in namespace {policy_namespace}"
    return f"{pods} in {namespace_words(peer.namespace_selector)}"


def port_words(port: PolicyPort) -> str:
    if port.port is None:
        return f"every {port.protocol} port"
    if port.end_port is not None:
        return f"{port.protocol} ports {port.port}-{port.end_port}"
    if isinstance(port.port, str):
        return f"{port.protocol} port named {port.port!r}"
    return f"{port.protocol}/{port.port}"


def rule_words(rule: Rule, direction: Direction, policy_namespace: str) -> str:
    """"from pods with app=web in namespace prod, on TCP/5432"."""
    preposition = "from" if direction is Direction.INGRESS else "to"
    if rule.peers:
        peers = " or ".join(peer_words(p, policy_namespace) for p in rule.peers)
    else:
        peers = "anywhere (every pod and every address)"
    ports = " or ".join(port_words(p) for p in rule.ports) if rule.ports else "every port"
    return f"{preposition} {peers}, on {ports}"


def policy_scope_words(policy: NetworkPolicy) -> str:
    return f"{selector_words(policy.pod_selector, 'pods')} in namespace {policy.namespace}"


def isolation_words(policy: NetworkPolicy) -> str:
    directions = sorted(d.lower for d in policy.policy_types)
    text = " and ".join(directions)
    if not policy.policy_types_given:
        text += " (policyTypes omitted: " + (
            "egress rules are present" if Direction.EGRESS in policy.policy_types
            else "no egress rules, so egress is not isolated") + ")"
    return text


def direction_line(verdict: DirectionVerdict, peer: str) -> str:
    """One line of `check`: why this side allowed or denied."""
    where = f"{verdict.direction.lower} at {verdict.subject}:"
    if not verdict.applies:
        return f"{where} allowed ({verdict.subject} is outside the cluster: no policy applies)"
    if not verdict.isolated:
        return (f"{where} allowed ({verdict.subject} is not isolated for "
                f"{verdict.direction.lower})")
    isolated = ", ".join(verdict.isolated_by)
    if verdict.allowed:
        rules = ", ".join(str(r) for r in verdict.admitted_by)
        return f"{where} allowed by {rules}"
    return f"{where} denied — isolated by {isolated}; no rule admits {peer}"


def verdict_lines(verdict: Verdict) -> list[str]:
    head = "ALLOWED" if verdict.allowed else "DENIED "
    lines = [f"{head} {verdict.src} -> {verdict.dst} {verdict.port}"]
    if verdict.same_endpoint:
        lines.append("  a pod may always reach itself (policies never apply to its own traffic)")
        return lines
    lines.append("  " + direction_line(verdict.egress, verdict.dst))
    lines.append("  " + direction_line(verdict.ingress, verdict.src))
    return lines
