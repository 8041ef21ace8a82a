"""`podwall exposure`: the world outside the pods — each opening to or from addresses
outside the cluster, the headings and summaries, and the note on a pod address that lies in
an ipBlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podwall.analysis.wording.names import implied_end_words, keys_words
from podwall.model import Direction
from podwall.model.words import plural


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
        who += f" (with implied {keys_words(list(implied))})"
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
