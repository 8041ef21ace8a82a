"""What `podwall lint` says: one title per check (SARIF shortDescription, docs), then each
check's message and fix, where a finding is, and the summary line.
"""

from __future__ import annotations

from collections.abc import Sequence

from podwall.model.words import plural

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
