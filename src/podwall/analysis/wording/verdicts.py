"""How a verdict is explained: policies, rules, peers, ports and selectors in words, and the
lines `check` and `explain` print for each direction of a connection (which rule admits it,
which policies isolate it, which tier decided it). The other verbs quote these sentences.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from podwall.analysis.wording.exposure import assigned_address_words
from podwall.analysis.wording.names import implied_words
from podwall.engine import DirectionVerdict, Verdict
from podwall.engine.verdict import ClusterRuleRef
from podwall.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Rule,
)
from podwall.model.clusterpolicy import ClusterNetworkPolicy, ClusterRule


def named_port_words(name: str, destination: str, number: str) -> str:
    """`check --port http`: what the name is at the destination, before the verdict."""
    return f"port {name} at {destination} is {number}"


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
        name = selector.match_labels[0][1]
        if not name:  # `kubernetes.io/metadata.name: null` in a rendered chart
            return f"no namespace ({NAMESPACE_NAME_LABEL}=\"\": a namespace name is never empty)"
        return f"namespace {name}"
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


def cluster_rule_words(ref: ClusterRuleRef) -> str:
    """`admin/allow-dns egress[0] (dns) at priority 10`."""
    return f"{ref} at priority {ref.priority}"


def cluster_policy_head_words(policy: ClusterNetworkPolicy) -> str:
    """`Admin tier, priority 20: applies to pods in namespaces team=shop`."""
    return f"{policy.tier.value} tier, priority {policy.priority}: applies to {policy.subject}"


def cluster_rule_line_words(rule: ClusterRule, direction: Direction, index: int) -> str:
    """`ingress[1] (nobody-else): Deny from namespaces {} on every port`."""
    named = f" ({rule.name})" if rule.name else ""
    where = "from" if direction is Direction.INGRESS else "to"
    peers = "; ".join(str(p) for p in rule.peers)
    ports = ", ".join(str(p) for p in rule.ports) if rule.ports else "every port"
    return f"{direction.word}[{index}]{named}: {rule.action.value} {where} {peers} on {ports}"


def not_isolated_words(tiers: bool) -> str:
    """A direction no NetworkPolicy isolates: open, unless cluster policies decide."""
    if tiers:
        return "no NetworkPolicy isolates it: the cluster policies below decide, else allowed"
    return "not isolated: allows everything"


def cluster_policies_apply_words(keys: Sequence[str]) -> str:
    """The endpoint line of `explain`: cluster policies come before (Admin) and after
    (Baseline) the NetworkPolicies named above it."""
    if not keys:
        return "  cluster policies: none applies"
    return f"  cluster policies, in evaluation order: {', '.join(keys)}"


def tier_decision_words(verdict: DirectionVerdict, peer: str) -> str:
    """`denied — Pass in admin/a ingress[0] at priority 10, then Deny in ...`: a side's verdict
    with cluster policies, after its `ingress at ns/pod:` lead."""
    lead = "".join(f"Pass in {cluster_rule_words(r)}, then " for r in verdict.passed)
    verdict_word = "allowed" if verdict.allowed else "denied"
    ref = verdict.decided_by
    if ref is not None:
        tier = "Admin" if ref.tier == "admin" else "Baseline"
        text = f"{verdict_word} — {lead}{ref.action} in {cluster_rule_words(ref)} ({tier} tier)"
    elif verdict.tier == "networkpolicy":
        if verdict.allowed:
            rules = ", ".join(str(r) for r in verdict.admitted_by)
            text = f"allowed — {lead}NetworkPolicy {rules} admits"
        else:
            text = (f"denied — {lead}isolated by NetworkPolicy {', '.join(verdict.isolated_by)}; "
                    f"no rule admits {peer}")
    else:
        text = (f"allowed — {lead}not isolated by a NetworkPolicy for {verdict.direction.word}, "
                "and no Admin or Baseline rule decides")
    if verdict.unknown:
        refs = ", ".join(str(r) for r in verdict.unknown)
        if verdict.decided:
            text += (f" (whether {refs} match cannot be known offline: their nodes or "
                     "domainNames peers; the answer is the same either way)")
        else:
            text += (f" — the answer if {refs} do not match: their nodes or domainNames peers "
                     "cannot be decided offline")
    return text


def tier_direction_line(verdict: DirectionVerdict, peer: str) -> str:
    """One line of `check` with cluster policies: the deciding tier, policy, priority and rule,
    and the Pass rules followed to get there."""
    return f"{verdict.direction.word} at {verdict.subject}: {tier_decision_words(verdict, peer)}"


def offline_note_words(rules: Sequence[str], cells: Sequence[str], total: int,
                       outside_shown: bool) -> str:
    """Beside any answer computed with rules whose nodes or domainNames peers cannot be decided
    offline: which rules, and which cells (`cells`: a few `src -> dst PORT`, of `total`) they
    could change; the answer shown is the one where those peers match nothing."""
    named = ", ".join(rules)
    head = f"cannot be decided offline: {named} (nodes or domainNames peers)"
    if total:
        more = f" and {total - len(cells)} more" if total > len(cells) else ""
        return (f"{head} may change {total} cell{'s' if total != 1 else ''} shown "
                f"({', '.join(cells)}{more}), shown as if those peers matched nothing "
                "(podwall check calls them UNDECIDED)")
    if outside_shown:
        return f"{head}: no answer shown depends on them"
    return (f"{head}: they match no pod, so no answer shown depends on them; answers with "
            "addresses outside the cluster may (matrix --outside, exposure)")


def diff_offline_words(rules: Sequence[str]) -> str:
    """After `diff`, when either input has rules that cannot be decided offline."""
    return (f"cannot be decided offline: {', '.join(rules)} (nodes or domainNames peers): they "
            "match no pod; changes with addresses outside the cluster are computed as if they "
            "matched nothing, and a line they may change names them")


def offline_rule_words(kinds: Sequence[str]) -> str:
    """After an `explain` rule line whose peers include nodes or domainNames."""
    return (f"  ({' and '.join(kinds)} peers cannot be decided offline: they match no pod; "
            "with an address outside the cluster the verbs answer as if they did not match)")


def offline_endpoint_words(rules: Sequence[str]) -> str:
    """An `explain` endpoint line: rules that apply to it and cannot be decided offline."""
    return (f"  cannot be decided offline: {', '.join(rules)} (its connections with addresses "
            "outside the cluster may depend on them: podwall exposure lists them)")


def kernel_tier_disagrees_words(kernel: str) -> str:
    """Appended to a `lab logs` event whose kernel drop (its log prefix names the tier whose
    Deny chain logged, or none) is not where the engine's deciding rule is."""
    where = (f"a Deny of the {kernel} tier" if kernel
             else "a NetworkPolicy chain, not a cluster policy's Deny,")
    return (f" — but in the kernel {where} dropped it: the model and the kernel disagree "
            "(podwall lab verify)")


def diff_tier_words(added: bool, changed: Sequence[tuple[str, str]]) -> str:
    """Why a connection opened or closed with cluster policies in either input: each side
    whose verdict changed, as NEW decides it (`ingress of the destination: denied — ...`)."""
    parts = [f"{side}: {words}" for side, words in changed]
    head = "allowed" if added else "no longer admitted"
    return f"{head}: " + "; ".join(parts) if parts else head


def diff_tier_was_words(now: str, was: str) -> str:
    """A side's NEW words with what decided it in OLD, when a cluster policy decided there and
    something else decides now (`denied — ... (in OLD: allowed — Accept in ...)`)."""
    return f"{now} (in OLD: {was})"


def direction_line(verdict: DirectionVerdict, peer: str) -> str:
    """One line of `check`: why this side allowed or denied."""
    where = f"{verdict.direction.word} at {verdict.subject}:"
    if verdict.tier and verdict.applies:
        return tier_direction_line(verdict, peer)
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


def verdict_lines(verdict: Verdict, implied: Collection[str] = ()) -> list[str]:
    """`check`'s lines. `implied`: endpoint keys the input did not carry (kube-dns), marked
    `(implied)` at their first mention on every line."""
    def mark(name: str) -> str:
        return implied_words(name, name in implied)

    head = "ALLOWED" if verdict.allowed else "DENIED "
    if not verdict.decided:
        head = "UNDECIDED (cannot be decided offline)"
    lines = [f"{head} {mark(verdict.src)} -> {mark(verdict.dst)} {verdict.port}"]
    if verdict.same_endpoint:
        lines.append("  a pod may always reach itself (policies never apply to its own traffic)")
        return lines
    for side, peer in ((verdict.egress, verdict.dst), (verdict.ingress, verdict.src)):
        line = direction_line(side, mark(peer))
        where = f"{side.direction.word} at {side.subject}:"
        if side.subject in implied and line.startswith(where):
            line = f"{side.direction.word} at {mark(side.subject)}:{line[len(where):]}"
        lines.append("  " + line)
    lines.extend("  " + assigned_address_words(a.endpoint, a.address, a.blocks,
                                               [str(r) for r in a.rules])
                 for a in verdict.assigned)
    return lines
