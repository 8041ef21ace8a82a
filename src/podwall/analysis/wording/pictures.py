"""The words of the pictures: `graph` (DOT, Mermaid) and `report` (HTML) — legends, edge and
node labels, the namespace overview, and the templates the report's JavaScript fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from podwall.model import NamedPortQuery, Port, PortQuery, Protocol
from podwall.model.words import plural

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
