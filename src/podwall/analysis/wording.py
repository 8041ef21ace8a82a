"""Every sentence podwall says about policies and verdicts lives here, so the wording stays one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from podwall.engine import DirectionVerdict, Verdict
from podwall.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PortQuery,
    Protocol,
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
    directions = sorted(d.word for d in policy.policy_types)
    text = " and ".join(directions)
    if not policy.policy_types_given:
        text += " (policyTypes omitted: " + (
            "egress rules are present" if Direction.EGRESS in policy.policy_types
            else "no egress rules, so egress is not isolated") + ")"
    return text


def direction_line(verdict: DirectionVerdict, peer: str) -> str:
    """One line of `check`: why this side allowed or denied."""
    where = f"{verdict.direction.word} at {verdict.subject}:"
    if not verdict.applies:
        return f"{where} allowed ({verdict.subject} is outside the cluster: no policy applies)"
    if not verdict.isolated:
        return (f"{where} allowed ({verdict.subject} is not isolated for "
                f"{verdict.direction.word})")
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


# -- pictures: `graph` and `report` ------------------------------------------------------------
# The report's JavaScript fills the same sentences as `direction_line` from these templates, so
# the browser and the terminal say the same thing (a test holds them together).
SIDE_PHRASES: dict[str, str] = {
    "where": "{direction} at {subject}:",
    "outside": "allowed ({subject} is outside the cluster: no policy applies)",
    "open": "allowed ({subject} is not isolated for {direction})",
    "admitted": "allowed by {rules}",
    "denied": "denied — isolated by {isolated}; no rule admits {peer}",
}

EVERY_PORT = "every port"


def side_words(direction: str, subject: str, peer: str, *, isolated_by: Sequence[str] = (),
               admitted_by: Sequence[str] = (), applies: bool = True) -> str:
    """One side of a verdict, without the `ingress at X:` prefix (the report's reason column)."""
    if not applies:
        return SIDE_PHRASES["outside"].format(subject=subject)
    if not isolated_by:
        return SIDE_PHRASES["open"].format(subject=subject, direction=direction)
    if admitted_by:
        return SIDE_PHRASES["admitted"].format(rules=", ".join(admitted_by))
    return SIDE_PHRASES["denied"].format(isolated=", ".join(isolated_by), peer=peer)


def port_set_words(ports: Iterable[PortQuery], examined: Sequence[PortQuery] = ()) -> str:
    """`TCP/53,80,8000-8080 · UDP/53`; `every port` when it is all of several examined ports."""
    chosen = sorted(set(ports))
    if len(examined) > 1 and len(chosen) == len(set(examined)):
        return EVERY_PORT
    groups: list[str] = []
    for protocol in Protocol:
        numbers = [p.port for p in chosen if p.protocol is protocol]
        if not numbers:
            continue
        spans: list[str] = []
        start = prev = numbers[0]
        for n in [*numbers[1:], -1]:
            if n == prev + 1:
                prev = n
                continue
            spans.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = n
        groups.append(f"{protocol}/{','.join(spans)}")
    return " · ".join(groups) if groups else "no port"


def class_words(stem: str, members: int) -> str:
    """A picture's node: `web` for one endpoint, `web ×3` for a class of three."""
    return stem if members == 1 else f"{stem} ×{members}"


OPEN_IN = "ingress open (no policy)"
OPEN_OUT = "egress open (no policy)"


def internal_words(ports: str) -> str:
    return f"all reach each other: {ports}"


def graph_legend(*, focus: str | None, omitted: bool, hubs: bool = False) -> list[str]:
    """The lines under a connectivity picture: how to read it, and what it leaves out."""
    lines = [
        "One box per group of endpoints that connect alike (same namespace, same peers on "
        "every port); ×N = N endpoints.",
        "An arrow is a connection that may be opened, labelled with its ports; an arrow to or "
        "from a namespace box stands for every endpoint in it.",
        f"{OPEN_IN} / {OPEN_OUT}: no policy isolates that direction, so it allows everything.",
    ]
    if omitted:
        lines.append(f"Arrows from an endpoint with {OPEN_OUT} to one with {OPEN_IN} are not "
                     "drawn: every such pair is allowed, on every port.")
    if hubs:
        lines.append("A small oval labelled with ports joins arrows: every box with an arrow into "
                     "it reaches every box its arrows point to, on those ports.")
    if focus is not None:
        lines.append(f"Only {focus} and what it reaches or is reached by; all of its "
                     "connections are drawn.")
    return lines


def lint_unavailable_words() -> str:
    return ("Lint is unavailable in this build of podwall (podwall.analysis.lint is not "
            "installed), so no findings are shown. This does not mean there are none.")


# The box that namespace-wide arrows start or end at, inside a namespace box.
ALL_IN_NAMESPACE = "all endpoints"


def no_rules_words(direction: str) -> str:
    """A policy that isolates a direction and lists no rule for it."""
    return f"{direction}: no rules, so it admits nothing ({direction} deny)"


def selects_words(count: int) -> str:
    return "nothing in the input" if count == 0 else (
        f"{count} endpoint" + ("" if count == 1 else "s"))


def whole_namespace_words(namespace: str, count: int) -> str:
    return f"every endpoint in namespace {namespace} ({count})"
