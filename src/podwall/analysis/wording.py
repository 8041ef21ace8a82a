"""Every sentence podwall says about policies and verdicts lives here, so the wording stays one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from podwall.engine import DirectionVerdict, Verdict
from podwall.model import (
    NAMESPACE_NAME_LABEL,
    Direction,
    LabelSelector,
    NamedPortQuery,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Port,
    PortQuery,
    Protocol,
    Rule,
)
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


OUTSIDE_LEGEND = (f"'{OUTSIDE_NODE}' stands for the addresses outside the pod CIDR that are no "
                  "pod's IP: its arrows say which (podwall exposure lists them per endpoint).")
BY_IP_LEGEND = ("An arrow 'by pod IP in an ipBlock' is allowed only because the pod's IP lies in "
                "an ipBlock: a rule written for addresses, which network plugins apply to pod "
                "traffic or not.")


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


def namespace_size_words(endpoints: int, boxes: int) -> str:
    """Under a namespace's name in the overview: `12 endpoints in 3 boxes`."""
    return f"{plural(endpoints, 'endpoint')} in {plural(boxes, 'box')}"


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


def pod_ip_words(endpoint: str, address: str, block: str, rule: str, assigned: bool) -> str:
    """A pod admitted by a rule only because its IP lies in the rule's ipBlock."""
    text = (f"{endpoint} only by its IP {address}, in ipBlock {block} of {rule} (whether an "
            "ipBlock matches pod IPs differs between CNIs")
    if assigned:
        text += f"; {address} was assigned by podwall: the pod has no status.podIP"
    return text + ")"


def diff_endpoint_connection_words(change: str, rules: Sequence[str],
                                   unisolated: Sequence[str]) -> str:
    """A connection of an endpoint only one input has: what allows it (allowed) there."""
    parts = [f"allowed by {', '.join(rules)}"] if rules else []
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


def lint_selects_nothing_words(what: str, selector: str, where: str) -> tuple[str, str]:
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


def lint_egress_not_isolated_words() -> tuple[str, str]:
    return ("'egress: []' is present but policyTypes is omitted, so egress is NOT isolated "
            "(policyTypes defaults to [Ingress] when there are no egress rules)",
            "add policyTypes: [Ingress, Egress] (or [Egress]) to deny egress")


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


# -- exposure: the world outside the pods ------------------------------------------------------


def exposure_line(opening: Any) -> str:
    """`0.0.0.0/0 except 10.0.0.0/8 -> shop/web TCP/80  (shop/web-in ingress[0])` (an
    `analysis.exposure.Opening`); egress reads the other way round."""
    if opening.direction is Direction.INGRESS:
        text = f"{opening.addresses} -> {opening.label} {opening.ports_text}"
    else:
        text = f"{opening.label} -> {opening.addresses} {opening.ports_text}"
    if not opening.isolated:
        why = f"not isolated for {opening.direction.word}"
    else:
        why = ", ".join(str(r) for r in opening.rules)
    return f"{text}  ({why})"


def exposure_outside_words(pod_cidr: str, blocks: int, stray: int) -> str:
    """The heading: what podwall calls outside, and in how many blocks."""
    text = (f"Outside the cluster: every address except the pod CIDR {pod_cidr} (--pod-cidr) "
            "and the pods' IPs")
    if stray:
        text += f" ({plural(stray, 'pod IP')} outside the pod CIDR: pods, not outside)"
    return f"{text}; {plural(blocks, 'block')} that every policy treats alike:"


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
                             addresses: str, ports: str) -> str:
    """A namespace's line in the summary of a big view."""
    who = f"{namespace}: {plural(endpoints, 'endpoint')}"
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
