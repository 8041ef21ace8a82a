"""`podwall exposure`: the world outside the pods — each opening to or from addresses
outside the cluster, the headings and summaries, and the note on a pod address that lies in
an ipBlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podwall.model import Direction
from podwall.model.words import plural


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
