"""Every sentence podwall says about policies and verdicts lives here, so the wording stays one."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from podwall.engine import DirectionVerdict, GroupVerdict, Resolved, Verdict
from podwall.engine.verdict import ClusterRuleRef
from podwall.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    Endpoint,
    LabelSelector,
    NamedPortQuery,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Port,
    PortQuery,
    Protocol,
    Rule,
    ServicePort,
)
from podwall.model.clusterpolicy import ClusterNetworkPolicy, ClusterRule
from podwall.model.words import plural

__all__ = ["plural"]  # re-exported: the one plural rule (podwall.model.words)

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


# -- pictures: `graph` and `report` ------------------------------------------------------------
# The report's JavaScript fills the same sentences as `direction_line` from these templates, so
# the browser and the terminal say the same thing (a test holds them together).
SIDE_PHRASES: dict[str, str] = {
    "where": "{direction} at {subject}:",
    "outside": "allowed ({subject} is outside the cluster: no policy applies)",
    "open": "allowed ({subject} is not isolated for {direction})",
    "admitted": "allowed by {rules}",
    "denied": "denied — isolated by {isolated}; no rule admits {peer}",
    "noPort": "denied ({subject} has no container port named {port}: nothing reaches it by it)",
}

EVERY_PORT = "every port"

OUTSIDE_NODE = "outside the cluster"


OUTSIDE_LEGEND = (f"'{OUTSIDE_NODE}' stands for the addresses outside the pod and Service CIDRs "
                  "that are no pod's or Service's IP: its arrows say which (podwall exposure "
                  "lists them per endpoint).")
BY_IP_LEGEND = ("An arrow 'by pod IP in an ipBlock' is allowed only because the pod's IP lies in "
                "an ipBlock: a rule written for addresses, which network plugins apply to pod "
                "traffic or not.")


def offline_legend_words(rules: Sequence[str]) -> str:
    """Under a picture drawn with rules whose peers cannot be decided offline."""
    return (f"Cannot be decided offline: {', '.join(rules)} (nodes or domainNames peers). They "
            f"match no pod; arrows with '{OUTSIDE_NODE}' are drawn as if they matched no "
            "address either (podwall exposure lists the connections they may change).")


def by_ip_edge_words(ports: str) -> str:
    """An arrow allowed only because the source's (or destination's) pod IP is in an ipBlock."""
    return f"{ports} (by pod IP in an ipBlock)"


def matrix_outside_words(address: str, block: str) -> str:
    """Under `matrix --outside`: what one representative address stands for."""
    return f"{address} stands for every address in {block} (every policy treats them alike)"


def outside_edge_words(addresses: str, ports: str) -> str:
    """An arrow to or from the outside: `0.0.0.0/0 except 10.0.0.0/8: TCP/443`."""
    return f"{addresses}: {ports}"


def port_set_words(ports: Iterable[Port], examined: Sequence[Port] = ()) -> str:
    """`TCP/53,80,8000-8080 · UDP/53`; `every port` when it is all of several examined ports."""
    chosen = sorted(set(ports))
    if len(examined) > 1 and len(chosen) == len(set(examined)):
        return EVERY_PORT
    groups: list[str] = []
    for protocol in Protocol:
        numbers = [p.port for p in chosen if isinstance(p, PortQuery) and p.protocol is protocol]
        names = [p.name for p in chosen if isinstance(p, NamedPortQuery)
                 and p.protocol is protocol]  # after the numbers, as they sort
        if not numbers and not names:
            continue
        spans: list[str] = []
        start = prev = numbers[0] if numbers else -2
        for n in [*numbers[1:], -1] if numbers else []:
            if n == prev + 1:
                prev = n
                continue
            spans.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = n
        groups.append(f"{protocol}/{','.join([*spans, *names])}")
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
        f"from a namespace (its dashed '{ALL_IN_NAMESPACE}' box) stands for every endpoint in it.",
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


def namespace_size_words(endpoints: int, boxes: int, implied: int = 0) -> str:
    """Under a namespace's name in the overview: `12 endpoints in 3 boxes`;
    `1 endpoint (1 implied) in 1 box` when the input did not carry some (kube-dns)."""
    marked = f" ({implied} implied)" if implied else ""
    return f"{plural(endpoints, 'endpoint')}{marked} in {plural(boxes, 'box')}"


def partly_open_words(marker: str, endpoints: int) -> str:
    """`ingress open (no policy): 4 endpoints`, when only some of a namespace is."""
    return f"{marker}: {plural(endpoints, 'endpoint')}"


def within_words(ports: str, pairs: int) -> str:
    """What a namespace's endpoints may do among themselves (overview)."""
    return f"inside: {ports} ({plural(pairs, 'pair')})"


def reaches_every_namespace_words(ports: str) -> str:
    """A namespace with an arrow to every other one (its ports: the union of theirs)."""
    return f"\u2192 reaches every other namespace: {ports}"


def reached_by_every_namespace_words(ports: str) -> str:
    return f"\u2190 reached from every other namespace: {ports}"


def pairs_words(pairs: int) -> str:
    """Under an overview arrow's ports: how many endpoint pairs it stands for."""
    return plural(pairs, "endpoint pair")


def elsewhere_words(namespace: str, *, source: bool) -> str:
    """A stand-in box for another namespace in a namespace's picture (click it to go there):
    on the left where its arrows come from, on the right where they go."""
    return f"from namespace {namespace}" if source else f"to namespace {namespace}"


OVERVIEW_LEGEND = (
    "One box per namespace; an arrow: some endpoints of one may connect to some of the other "
    "(its ports, and how many endpoint pairs). Click a namespace to see its boxes.",
    "Pairs that no policy isolates in either direction are not counted: the markers say so.",
)


def no_rules_words(direction: str) -> str:
    """A policy that isolates a direction and lists no rule for it."""
    return f"{direction}: no rules, so it admits nothing ({direction} deny)"


def selects_words(count: int) -> str:
    return "nothing in the input" if count == 0 else plural(count, "endpoint")


def whole_namespace_words(namespace: str, count: int) -> str:
    return f"every endpoint in namespace {namespace} ({count})"


# ==============================================================================================
# -- diff and lint: `podwall diff`, `podwall lint` ---------------------------------------------
# ==============================================================================================

def diff_allowed_words(rules: Sequence[str], opened: Sequence[str]) -> str:
    """Why a connection is newly allowed: the admitting rules, and sides no longer isolated."""
    parts: list[str] = []
    if rules:
        parts.append("allowed by " + ", ".join(rules))
    parts.extend(opened)
    return "; ".join(parts) if parts else "allowed"


def diff_opened_words(direction: str, end: str, policies: Sequence[str]) -> str:
    """`egress of the source no longer isolated (staging/deny removed)`: a side that was
    isolated and no longer is; `end` is "source" or "destination" (the line names them)."""
    why = f" ({', '.join(policies)})" if policies else ""
    return f"{direction} of the {end} no longer isolated{why}"


def diff_removed_words(parts: Sequence[str]) -> str:
    return "no longer admitted: " + "; ".join(parts) if parts else "no longer admitted"


def diff_named_port_words(reason: str, port: str, side: str) -> str:
    """`no longer admitted: the destination has no container port named TCP/http in NEW`: a
    named --port is resolved on each side's own containers."""
    return f"{reason}; the destination has no container port named {port} in {side}"


def diff_policy_fate_words(policy: str, fate: str) -> str:
    """`shop/api-allow removed`, `shop/api-allow changed`, `shop/api-allow ingress[0] no longer matches`."""
    return f"{policy} {fate}"


def diff_newly_isolated_words(direction: str, end: str, policies: Sequence[str]) -> str:
    """`ingress of the destination now isolated by prod/deny (added)`."""
    return f"{direction} of the {end} now isolated by {', '.join(policies)}"


def diff_endpoint_words(change: str, endpoint: str, reaches: int, reached_by: int,
                        count: int = 1) -> str:
    """`endpoint added: shop/admin (may reach 3 endpoints, reachable from 5 endpoints)`;
    `endpoints added: shop/web-* (4; each may reach ...)` for several alike."""
    def n(number: int) -> str:
        return plural(number, "endpoint")
    verb = "may reach" if change == "added" else "could reach"
    verb2 = "reachable from" if change == "added" else "was reachable from"
    if count == 1:
        return f"endpoint {change}: {endpoint} ({verb} {n(reaches)}, {verb2} {n(reached_by)})"
    return (f"endpoints {change}: {endpoint} ({count}; each {verb} {n(reaches)}, "
            f"{verb2} {n(reached_by)})")


def diff_truncated_words(shown: int, total: int) -> str:
    """The note under a Markdown diff cut to fit a pull-request comment."""
    return (f"… {total - shown} more lines not shown ({total} in all): run `podwall diff` "
            "for the full list")


def diff_summary_words(added: int, removed: int, endpoints_added: int,
                       endpoints_removed: int) -> str:
    n = plural
    return (f"{n(added, 'connection')} added, {n(removed, 'connection')} removed; "
            f"{n(endpoints_added, 'endpoint')} added, {n(endpoints_removed, 'endpoint')} removed")


def diff_outside_reason_words(change: str, direction: str, rules: Sequence[str],
                              isolated: bool, other: Sequence[str] | None) -> str:
    """Why an opening to or from the outside appears or goes. `rules`/`isolated` are of the
    side that has it (NEW when added, OLD when removed); `other` the policies isolating the
    endpoint in the other input (None: the endpoint is only in this one)."""
    side = "NEW" if change == "added" else "OLD"
    have = f"allowed by {', '.join(rules)}" if isolated else f"not isolated for {direction}"
    if change == "added":
        text = have if isolated else f"{have} in NEW"
        return f"{text}; new endpoint" if other is None else text
    if other is None:
        return f"endpoint removed; was {have}"
    now = (f"isolated by {', '.join(other)} in NEW, no rule admits it" if other
           else f"{direction} not isolated in NEW")
    return f"no longer admitted: {now} (was {have} in {side})"


def diff_outside_tier_words(change: str, direction: str, decisions: Sequence[str],
                            gone: bool, new: bool) -> str:
    """Why an opening to or from the outside appears or goes, with cluster policies: how the
    endpoint's side decides it now (`decisions`, as `check` words them), or decided it when the
    endpoint is gone (`gone`); `new`: the endpoint is only in NEW."""
    text = "; ".join(decisions)
    if gone:
        return f"endpoint removed; was {direction}: {text}"
    head = "" if change == "added" else "no longer admitted: "
    return f"{head}{direction}: {text}" + ("; new endpoint" if new else "")


def pod_ip_words(endpoint: str, address: str, block: str, rule: str, assigned: bool) -> str:
    """A pod admitted by a rule only because its IP lies in the rule's ipBlock."""
    text = (f"{endpoint} only by its IP {address}, in ipBlock {block} of {rule} (whether an "
            "ipBlock matches pod IPs differs between CNIs")
    if assigned:
        text += f"; {address} was assigned by podwall: the pod has no status.podIP"
    return text + ")"


def diff_endpoint_connection_words(change: str, rules: Sequence[str],
                                   unisolated: Sequence[str],
                                   tiered: Sequence[tuple[str, str]] = ()) -> str:
    """A connection of an endpoint only one input has: what allows it (allowed) there.
    `tiered`: the sides a cluster policy took part in, as `check` words them."""
    parts = [f"{where}: {words}" for where, words in tiered]
    if rules:
        parts.append(f"allowed by {', '.join(rules)}")
    parts.extend(f"{side} not isolated" for side in unisolated)
    text = "; ".join(parts) if parts else "allowed"
    return text if change == "added" else f"was {text}"


DIFF_CONNECTIONS_NOT_LISTED = ("  (its connections are too many to list: podwall explain "
                               "--focus NS/NAME on the input that has it)")


def diff_outside_summary_words(added: int, removed: int) -> str:
    return (f"{plural(added, 'line')} of connections with the outside added, "
            f"{removed} removed")


DIFF_NO_CHANGES = "no connectivity changes"
DIFF_MD_TITLE = "podwall diff"


# -- lint: one title per check (SARIF shortDescription, docs), then messages and fixes ----------

LINT_TITLES: dict[str, str] = {
    "PW001": "Egress isolation blocks DNS",
    "PW002": "podSelector and namespaceSelector in separate peers (OR) where one peer (AND) "
             "was likely meant",
    "PW003": "podSelector and namespaceSelector in one peer (AND) select no pod, but would in "
             "the policy's own namespace",
    "PW004": "A selector selects nothing in the input",
    "PW005": "Namespace with workloads has no default-deny ingress policy",
    "PW006": "Namespace with workloads has no default-deny egress policy",
    "PW007": "ipBlock overlaps the pod CIDR or pod IPs",
    "PW008": "Named port that no destination defines",
    "PW009": "endPort is not enforced by every CNI",
    "PW010": "Rule admits everything",
    "PW011": "Rule shadowed by a broader rule",
    "PW012": "policyTypes omitted with egress: [] does not isolate egress",
    "PW013": "Audited policy: evaluated, not enforced (podwall.io/enforcement: audit)",
    "PW014": "Cluster policy rule that an earlier rule always decides first",
    "PW015": "Admin Accept that makes a namespace's NetworkPolicies moot",
    "PW016": "Baseline policy never reached: NetworkPolicies isolate all it applies to",
    "PW017": "Two cluster policies of one tier share a priority and a subject",
    "PW018": "An Admin Deny shadows a namespace's NetworkPolicy rules",
}


def _few(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def lint_dns_words(endpoints: Sequence[str], target: str) -> tuple[str, str]:
    return (f"egress of {_few(endpoints)} is isolated and no rule admits DNS (UDP/53 or TCP/53) "
            f"to {target}: name resolution fails",
            "add an egress rule to namespace kube-system, pods with k8s-app=kube-dns, "
            "on UDP/53 and TCP/53 (or allow port 53 to all destinations)")


def lint_split_peer_words(where: str, ns_sel: str, pod_sel: str) -> tuple[str, str]:
    return (f"{where}: one peer selects {ns_sel} and a separate peer selects {pod_sel}; "
            "separate peers are ORed, so this admits every pod of those namespaces and those "
            "pods of the policy's own namespace",
            "if you meant those pods in those namespaces, put podSelector and namespaceSelector "
            "in the same list item (remove the '-' before podSelector)")


def lint_and_peer_words(where: str, pod_sel: str, ns_sel: str, own: str) -> tuple[str, str]:
    return (f"{where}: {pod_sel} in {ns_sel} selects no pod, but would select pods in the "
            f"policy's own namespace {own}",
            "if you meant those pods of the policy's own namespace (OR), split the peer into "
            "two list items or drop namespaceSelector; otherwise fix the labels")


def lint_selects_nothing_words(what: str, selector: str, where: str,
                               empty: Sequence[str] = ()) -> tuple[str, str]:
    """PW004. `empty`: label keys the selector wants with an empty value, which no rendered
    template means: `key: null` (a Helm value left unset) decodes as "" in the API server."""
    if empty:
        keys = ", ".join(empty)
        return (f"{what} {selector} selects nothing {where}: {keys} has an empty value (a "
                "template value left unset renders `null`, which the API server reads as \"\")",
                "set the value (e.g. in the chart's values), or remove the selector")
    return (f"{what} {selector} selects nothing {where} (a typo in a label?)",
            "check the labels against the pods and namespaces it should select")


def lint_no_default_deny_words(namespace: str, direction: str, endpoints: int) -> tuple[str, str]:
    return (f"namespace {namespace} has {plural(endpoints, 'endpoint')} but no policy that isolates "
            f"{direction} for every pod (podSelector: {{}}): new pods are open by default",
            f"add a default-deny policy: podSelector: {{}}, policyTypes: [{direction.title()}], "
            f"no {direction} rules")


def lint_ipblock_pods_words(where: str, block: str, hits: str) -> tuple[str, str]:
    return (f"{where}: ipBlock {block} overlaps {hits}; whether an ipBlock matches pod traffic "
            "differs between CNIs",
            "select pods with podSelector/namespaceSelector, and exclude the pod CIDR from the "
            "ipBlock with except")


def lint_named_port_words(where: str, name: str, protocol: str, scope: str) -> tuple[str, str]:
    return (f"{where}: named port {name!r} ({protocol}) is defined by no container of {scope}, "
            "so the rule admits nothing",
            "use the container port's exact name (containers[].ports[].name) or a number")


def lint_end_port_words(where: str, port: str) -> tuple[str, str]:
    return (f"{where}: port range {port} uses endPort, which some CNIs do not enforce (they "
            "ignore the range or the rule)",
            "check that your CNI supports endPort, or list the ports one by one")


def lint_admits_all_words(where: str, direction: str) -> tuple[str, str]:
    peer = "from" if direction == "ingress" else "to"
    return (f"{where} admits everything: every {'source' if direction == 'ingress' else 'destination'}"
            f" on every port ('{peer}' empty or omitted and no ports)",
            f"list the intended peers under '{peer}' and the ports, or name the policy "
            "allow-all if that is the point")


def lint_empty_list_words(where: str, direction: str, peers: bool,
                          ports: bool) -> tuple[str, str]:
    """`from: []` or `ports: []` written out: an empty list means every peer (port)."""
    peer = "from" if direction == "ingress" else "to"
    written = " and ".join(f"'{name}: []'" for name, given in ((peer, peers), ("ports", ports))
                           if given)
    return (f"{where}: {written} admits everything: an empty list means every "
            f"{'source' if direction == 'ingress' else 'destination'} and port, not none",
            f"to admit nothing, leave the {direction} list empty ({direction}: []) with "
            f"policyTypes including {direction.title()}; otherwise list the intended peers "
            "and ports")


def lint_shadowed_words(where: str, broader: str) -> tuple[str, str]:
    return (f"{where} is shadowed by {broader}: every connection it admits is already admitted "
            "there",
            "remove the narrower rule, or narrow the broader one if it admits too much")


def lint_priority_tie_words(first: str, later: str, tier: str, priority: int,
                            endpoints: Sequence[str]) -> tuple[str, str]:
    return (f"{first} and {later} share priority {priority} in the {tier} tier and both apply "
            f"to {_few(endpoints)}: the API leaves their order undefined (podwall evaluates "
            f"{first} first, by name)",
            "give them distinct priorities")


def lint_cluster_shadowed_words(where: str, by: str) -> tuple[str, str]:
    return (f"{where} never decides: {by} comes first and matches everything it matches",
            "remove the rule, or move it before the broader one if it is meant to win")


def lint_accept_moot_words(where: str, namespace: str, direction: str,
                           policies: Sequence[str]) -> tuple[str, str]:
    return (f"{where} accepts every pod on every port before any NetworkPolicy of namespace "
            f"{namespace} is consulted: {_few(policies)} never decide in-cluster {direction} "
            "there",
            "narrow the Accept (peers, protocols), or Pass to let the namespace's "
            "NetworkPolicies decide")


def lint_deny_shadows_words(where: str, namespace: str, direction: str,
                            policies: Sequence[str]) -> tuple[str, str]:
    return (f"{where} denies every pod on every port before any NetworkPolicy of namespace "
            f"{namespace} is consulted: the rules of {_few(policies)} never admit in-cluster "
            f"{direction} there",
            "narrow the Deny (peers, protocols), Pass what the namespace's NetworkPolicies "
            "should decide, or remove their rules")


def lint_baseline_unreached_words(directions: Sequence[str], endpoints: int,
                                  admin: Sequence[str] = ()) -> tuple[str, str]:
    """`admin`: the Admin rules (for every pod on every port) that decide first for the
    endpoints no NetworkPolicy isolates."""
    first = (f" or decided first by {_few(admin)} (every pod, every port)" if admin else "")
    return (f"never reached: every endpoint it applies to ({endpoints} "
            f"{'class' if endpoints == 1 else 'classes'}) is isolated by a NetworkPolicy for "
            f"{' and '.join(directions)}{first}, and both decide before Baseline",
            "remove the Baseline policy, or narrow its subject to namespaces without "
            "NetworkPolicies" + (" or Admin rules for every pod" if admin else ""))


def lint_egress_not_isolated_words() -> tuple[str, str]:
    return ("'egress: []' is present but policyTypes is omitted, so egress is NOT isolated "
            "(policyTypes defaults to [Ingress] when there are no egress rules)",
            "add policyTypes: [Ingress, Egress] (or [Egress]) to deny egress")


def lint_audited_words() -> tuple[str, str]:
    return ("audited, not enforced (podwall.io/enforcement: audit): it isolates and admits "
            "nothing now, and the data plane logs what it would drop as `audit` events; "
            "`podwall check`, `matrix --audit` and `diff --audit` show what enforcing it changes",
            "once its audit events are what you expect, remove the annotation (or set it to "
            "\"enforce\") to enforce it")


def lint_rule_where(direction: str, index: int, peer: int | None = None) -> str:
    peer_field = "from" if direction == "ingress" else "to"
    return f"{direction}[{index}]" + (f".{peer_field}[{peer}]" if peer is not None else "")


def lint_summary_words(errors: int, warnings: int, infos: int) -> str:
    n = plural
    total = errors + warnings + infos
    if not total:
        return "no findings"
    return f"{n(total, 'finding')}: {n(errors, 'error')}, {n(warnings, 'warning')}, {n(infos, 'info')}"


# -- summaries of large outputs (matrix, explain, diff) ----------------------------------------


def drill_down_words(flags: str, *, full: str = "--full") -> str:
    """How to see more than a summary; `flags` are the view's options already given."""
    given = f" (now: {flags})" if flags else ""
    return (f"Drill down{given}: -n NS for one namespace, --focus NS/NAME for one endpoint, "
            f"--from SEL / --to SEL for labels (kubectl -l syntax), {full} for everything.")


def matrix_drill_down_words(flags: str, focus: str | None = None) -> str:
    if focus is not None:
        return (f"One endpoint pairs with every other, so the grid stays wide: "
                f"`podwall explain --focus {focus}` lists what it reaches and what reaches it "
                f"by name; --full (or -o csv) prints every cell.")
    return drill_down_words(flags, full="--full (or -o csv / -o json)")


def explain_policies_counted_words(count: int) -> str:
    return (f"Policies ({count}): too many to list here; see them per namespace below, "
            "or in full with -n NS or --full.")


def explain_classes_heading_words(endpoints: int, classes: int) -> str:
    return (f"\nEndpoints ({endpoints}) in {classes} classes (endpoints that every policy "
            "treats alike), summarised: more than 50 endpoints. Counts are endpoints in view, "
            "per port.")


def explain_namespaces_heading_words(endpoints: int, namespaces: int, classes: int) -> str:
    return (f"\nEndpoints ({endpoints}) in {namespaces} namespaces and {classes} classes "
            "(endpoints that every policy treats alike), summarised per namespace:")


def explain_pairs_note_words() -> str:
    return ("  PAIRS-FROM / PAIRS-TO: pairs of distinct endpoints in view allowed on at least "
            "one port, from / to the namespace's endpoints.")


def class_members_words(count: int, kind: str) -> str:
    return f"{count} {kind}" + ("" if count == 1 else "s")


def diff_namespace_count_words(count: int) -> str:
    return f"{count} connection{'' if count == 1 else 's'}"


def diff_namespaces_heading_words(lines: int | None, limit: int) -> str:
    """Heading of a diff summarised per namespace pair (`lines` None: not computed)."""
    why = (f"{lines} lines of changes" if lines is not None
           else "too many changes to list")
    return (f"{why} (more than {limit}): per namespace pair, connections are endpoint pairs "
            "x ports:")


def diff_endpoints_per_namespace_words(change: str, namespace: str, count: int) -> str:
    return f"endpoints {change}: {count} in namespace {namespace}"


# -- audit mode -------------------------------------------------------------------------------

def audit_head_words(change: str, involved: Sequence[str]) -> str:
    """The line that introduces the audit verdict in `check` (change: AuditChange's value)."""
    by = f" ({', '.join(involved)})" if involved else ""
    if change == "denies":
        return (f"AUDIT: DENIED with the audited policies enforced{by}: allowed now, so the "
                "data plane lets it through and logs it as an `audit` event")
    if change == "allows":
        return (f"AUDIT: ALLOWED with the audited policies enforced{by}: denied now, so the "
                "data plane still drops it (a `drop` event)")
    return f"AUDIT: the same verdict with the audited policies enforced{by}"


def audit_verdict_lines(verdict: Verdict, change: str, involved: Sequence[str]) -> list[str]:
    """`check`'s lines for the audit view, under the enforced verdict's."""
    lines = [audit_head_words(change, involved)]
    if change != "none":
        lines.append("  " + direction_line(verdict.egress, verdict.dst))
        lines.append("  " + direction_line(verdict.ingress, verdict.src))
    return lines


def audit_listing_words(keys: Sequence[str]) -> str:
    """Where a verb shows the enforced view and the input has audited policies."""
    return (f"audited, not enforced: {', '.join(keys)} (--audit shows the view with them "
            "enforced)")


def audit_policy_words(audit_view: bool) -> str:
    """`explain`'s mark on an audited policy (podwall.io/enforcement: audit)."""
    if audit_view:
        return "audit: enforced in this view only (podwall.io/enforcement: audit)"
    return ("audit: evaluated, not enforced (podwall.io/enforcement: audit): it isolates and "
            "admits nothing now; --audit shows the view with it enforced")


def audit_title_words() -> str:
    """Appended to a picture's title in the audit view."""
    return "(audit view: audited policies enforced)"


def audit_diff_words(keys: Sequence[str], audit: bool, differ: bool) -> str:
    """`diff`'s note about audit mode (keys: the audited policies of either side)."""
    if not keys:
        return "audit view: no policy is audited on either side, so it is the enforced diff"
    names = ", ".join(keys)
    if audit:
        return (f"audit view: audited policies enforced on both sides ({names}); "
                + ("the enforced diff differs (without --audit)" if differ
                   else "the enforced diff is the same"))
    return (f"audited, not enforced: {names}; "
            + ("the audit view's diff differs (--audit shows it)" if differ
               else "the audit view's diff is the same"))


def audit_view_words(count: int, differ: bool) -> str:
    """The note of a verb showing the audit view (`--audit`)."""
    if not count:
        return "audit view: no policy is audited, so it is the enforced view"
    return (f"audit view: {plural(count, 'audited policy', 'audited policies')} enforced too; "
            + ("the enforced view differs (without --audit)" if differ
               else "the enforced view is the same"))


def audit_disagreement_words(counter: str, expected: int, counted: int,
                             examples: Sequence[str]) -> str:
    """`lab verify`: an audit counter that did not count what the audit view expects."""
    seen = f" (e.g. {'; '.join(examples)})" if examples else ""
    return (f"DISAGREE audit counter {counter}: the audit view expects "
            f"{plural(expected, 'audit event')}{seen}, the kernel counted "
            f"{plural(counted, 'packet')}")


def audit_verified_words(counters: int, wrong: int, events: int) -> str:
    return (f"audit view: {wrong} of {plural(counters, 'audit counter')} disagree "
            f"({plural(events, 'expected audit event')})")
# -- names that stand for several pods: Services and a snapshot's controllers ------------------

def _keys_words(keys: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def implied_words(name: str, implied: bool) -> str:
    """`kube-system/coredns (implied)`: a component the input did not carry."""
    return f"{name} (implied)" if implied else name


def implied_end_words(label: str, implied: Sequence[str]) -> str:
    """A line's end that names implied endpoints among others: `kube-system/coredns (implied)`
    for the implied endpoint alone, `kube-system/* (with implied kube-system/coredns)` for a
    group that holds it."""
    if not implied:
        return label
    if len(implied) == 1 and implied[0] == label:
        return f"{label} (implied)"
    return f"{label} (with implied {_keys_words(list(implied))})"


def resolved_words(group: Resolved, port: PortQuery | None = None,
                   service_port: ServicePort | None = None) -> str:
    """The line before a grouped verdict: what the name stands for.

    `svc/kube-system/kube-dns UDP/53 → 2 pods on UDP/53: kube-system/coredns-a, ...`;
    `shop/web (Deployment) → 3 pods: shop/web-6d4-a, ...`."""
    keys = [t.key for t in group.targets]
    pods = plural(len(keys), "pod")
    svc = group.service
    if svc is not None:
        notes = ["implied"] if svc.implied else []
        if svc.cluster_ip is not None:
            notes.append(f"{svc.cluster_ip}, assigned" if svc.cluster_ip_assigned
                         else str(svc.cluster_ip))
        name = f"{svc} ({'; '.join(notes)})" if notes else str(svc)
        where = f" {port}" if port is not None else ""
        if svc.headless:
            target = " (headless: no DNAT, the pods' own addresses)"
        elif service_port is not None:
            target = f" on {service_port.protocol}/{service_port.target_port}"
        else:
            target = ""
        if not keys:
            why = ("it has no selector" if svc.selector is None
                   else f"no pod in {svc.namespace} has the labels {svc.selector}")
            return f"{name}{where} → no pod: {why}"
        return f"{name}{where} → {pods}{target}: {_keys_words(_marked(group))}"
    ctl = group.controller
    assert ctl is not None
    if not keys:
        return f"{group.name} ({ctl.kind}) → no running pod in the input"
    return f"{group.name} ({ctl.kind}) → {pods}: {_keys_words(_marked(group))}"


def _marked(group: Resolved) -> list[str]:
    return [implied_words(t.key, isinstance(t, Endpoint) and t.implied) for t in group.targets]


def unserved_words(pod: str, reason: str) -> str:
    return f"NO PORT  {pod}: {reason}, so the Service sends it nothing on this port"


def group_verdict_lines(verdict: GroupVerdict) -> list[str]:
    """`check` for a Service or a controller: what it stands for, then the verdicts, those
    that read alike (same result, same policies and rules, same port) collapsed into one."""
    lines: list[str] = []
    for side, port in ((verdict.src, None), (verdict.dst, verdict.port)):
        if side.grouped:
            lines.append(resolved_words(side, port, verdict.service_port if port else None))
    groups: dict[tuple[object, ...], list[Verdict]] = {}
    for v in verdict.verdicts:
        signature = (v.allowed, v.same_endpoint, v.port,
                     v.egress.allowed, v.egress.applies, v.egress.isolated_by, v.egress.admitted_by,
                     v.ingress.allowed, v.ingress.applies, v.ingress.isolated_by,
                     v.ingress.admitted_by)
        groups.setdefault(signature, []).append(v)
    implied = {t.key for side in (verdict.src, verdict.dst) for t in side.targets
               if isinstance(t, Endpoint) and t.implied}
    for members in groups.values():
        srcs = [implied_words(k, k in implied) for k in dict.fromkeys(v.src for v in members)]
        dsts = [implied_words(k, k in implied) for k in dict.fromkeys(v.dst for v in members)]
        first = members[0]
        src_plain = _keys_words(list(dict.fromkeys(v.src for v in members)))
        dst_plain = _keys_words(list(dict.fromkeys(v.dst for v in members)))
        shown = replace(first, src=_keys_words(srcs), dst=_keys_words(dsts),
                        egress=replace(first.egress, subject=src_plain)
                        if first.egress.applies else first.egress,
                        ingress=replace(first.ingress, subject=dst_plain)
                        if first.ingress.applies else first.ingress)
        head, *rest = verdict_lines(shown, implied)
        lines.append(head)
        for line in rest:
            for subject in (src_plain, dst_plain):
                if ", " in subject:  # several pods: "a, b are not isolated"
                    line = line.replace(f"({subject} is not", f"({subject} are not")
            lines.append(line)
    lines.extend(unserved_words(u.pod, u.reason) for u in verdict.unserved)
    if not verdict.verdicts and not verdict.unserved:
        lines.append(f"DENIED  nothing answers at {verdict.dst.name} {verdict.port}: no pod "
                     "behind it")
    elif len(groups) > 1 or verdict.unserved:
        total = len(verdict.verdicts) + len(verdict.unserved)
        allowed = sum(1 for v in verdict.verdicts if v.allowed)
        lines.append(f"{'ALLOWED' if verdict.allowed else 'DENIED '} in all: {allowed} of "
                     f"{plural(total, 'pair')} allowed (allowed only when every pair is)")
    return lines
# -- exposure: the world outside the pods ------------------------------------------------------


def exposure_line(opening: Any) -> str:
    """`0.0.0.0/0 except 10.0.0.0/8 -> shop/web TCP/80  (shop/web-in ingress[0])` (an
    `analysis.exposure.Opening`); egress reads the other way round."""
    label = implied_end_words(opening.label, opening.implied)
    if opening.direction is Direction.INGRESS:
        text = f"{opening.addresses} -> {label} {opening.ports_text}"
    else:
        text = f"{label} -> {opening.addresses} {opening.ports_text}"
    if opening.decided:  # cluster policies: as check words it
        why = "; ".join(opening.decided)
    elif not opening.isolated:
        why = f"not isolated for {opening.direction.word}"
    else:
        why = ", ".join(str(r) for r in opening.rules)
    return f"{text}  ({why})"


EXPOSURE_UNDECIDED_HEADING = ("Cannot be decided offline (a cluster policy's nodes or "
                              "domainNames peers may match these addresses):")


def exposure_undecided_line(undecided: Any) -> str:
    """`shop/web -> 0.0.0.0/0 TCP/443  (shown as denied; admin/x egress[0] (api) may change
    it)` (an `analysis.exposure.UndecidedOpening`)."""
    from podwall.engine.outside import ports_words

    ports = ports_words(undecided.ports)
    if undecided.direction is Direction.INGRESS:
        text = f"{undecided.addresses} -> {undecided.label} {ports}"
    else:
        text = f"{undecided.label} -> {undecided.addresses} {ports}"
    shown = "allowed" if undecided.allowed else "denied"
    rules = ", ".join(str(r) for r in undecided.rules)
    return f"{text}  (shown as {shown}; {rules} may change it)"


def exposure_outside_words(pod_cidr: str, blocks: int, stray: int, service_cidr: str = "",
                           stray_services: int = 0) -> str:
    """The heading: what podwall calls outside, and in how many blocks. The Service CIDR is
    not outside: a connection to a ClusterIP is DNAT-ed to a pod before any policy sees it."""
    if service_cidr:
        text = (f"Outside the cluster: every address except the pod CIDR {pod_cidr} "
                f"(--pod-cidr), the Service CIDR {service_cidr} (--service-cidr) and the pods' "
                "and Services' IPs")
    else:
        text = (f"Outside the cluster: every address except the pod CIDR {pod_cidr} "
                "(--pod-cidr) and the pods' IPs")
    strays = []
    if stray:
        strays.append(f"{plural(stray, 'pod IP')} outside the pod CIDR: pods, not outside")
    if stray_services:
        strays.append(f"{plural(stray_services, 'ClusterIP')} outside the Service CIDR: "
                      "Services, not outside")
    if strays:
        text += f" ({'; '.join(strays)})"
    return f"{text}; {plural(blocks, 'block')} that every policy treats alike:"


_INSIDE_WORDS = {
    "pod-cidr": "it is in the pod CIDR {0} (--pod-cidr): a pod's address",
    "service-cidr": ("it is in the Service CIDR {0} (--service-cidr): a ClusterIP, DNAT-ed to "
                     "pods before any policy sees the connection (ask check --to {1} or "
                     "svc/NS/NAME for the pods behind it)"),
    "pod-ip": "it is a pod's IP",
    "service-ip": ("it is a Service's ClusterIP, DNAT-ed to pods before any policy sees the "
                   "connection (ask check --to {1} for the pods behind it)"),
}


def not_outside_words(what: str, address: str, because: tuple[str, str]) -> str:
    """`--external 10.96.0.10 is not outside the cluster: it is in the Service CIDR ...`."""
    kind, where = because
    return f"{what} is not outside the cluster: {_INSIDE_WORDS[kind].format(where, address)}"


def unassigned_cluster_ip_words(address: str, service_cidr: str) -> str:
    """`check --to 10.96.5.5` where no Service of the input has that ClusterIP."""
    return (f"note: {address} is in the Service CIDR {service_cidr} (--service-cidr) but no "
            "Service of the input has it: a connection to a ClusterIP is DNAT-ed to its pods "
            "before any policy sees it, and to an unused one it goes nowhere; this verdict "
            "judges it as an address outside the cluster (name the Service, svc/NS/NAME, or "
            "give the right --service-cidr)")


EXPOSURE_INGRESS_HEADING = "Accepted from outside (ingress: outside -> pod):"
EXPOSURE_EGRESS_HEADING = "Opened to outside (egress: pod -> outside):"
EXPOSURE_NONE = "  nothing"


def exposure_summary_words(endpoints: int, accepting: int, opening: int, closed: int) -> str:
    def verb(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    return (f"{plural(endpoints, 'endpoint')}: {verb(accepting, 'accepts', 'accept')} "
            f"connections from outside, {verb(opening, 'may', 'may')} open connections to "
            f"outside, {closed} neither")


def exposure_namespace_words(direction: Direction, namespace: str, endpoints: int,
                             addresses: str, ports: str, implied: Sequence[str] = ()) -> str:
    """A namespace's line in the summary of a big view."""
    who = f"{namespace}: {plural(endpoints, 'endpoint')}"
    if implied:
        who += f" (with implied {_keys_words(list(implied))})"
    if direction is Direction.INGRESS:
        return f"{who} accept connections from outside (in all: from {addresses} on {ports})"
    return f"{who} may open connections to outside (in all: to {addresses} on {ports})"


def assigned_address_words(endpoint: str, address: str, blocks: Sequence[str],
                           rules: Sequence[str], subject: str = "this verdict rests") -> str:
    """`check`/`explain`: a verdict that an ipBlock judges on an address podwall invented."""
    where = f" ({', '.join(rules)})" if rules else ""
    return (f"note: {endpoint} has no status.podIP: podwall assigned it {address} from "
            f"--pod-cidr, and ipBlock {'; '.join(blocks)}{where} holds that address. Whether "
            "an ipBlock matches pod IPs differs between CNIs, and the address is invented: "
            f"{subject} on it (give the pod's real IP in status.podIP, or a "
            "--pod-cidr the ipBlock does not cover)")
