"""What `podwall diff` says: why a connection is newly allowed or denied, what happened to
each policy and endpoint, the outside's changes and the summary line.
"""

from __future__ import annotations

from collections.abc import Sequence

from podwall.model.words import plural


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
