"""Audit mode (`podwall.io/enforcement: audit`): the audit verdict in `check`, the audited
policies in listings and diffs, and the lab's check of the kernel's audit counters.
"""

from __future__ import annotations

from collections.abc import Sequence

from podwall.analysis.wording.verdicts import direction_line
from podwall.engine import Verdict
from podwall.model.words import plural


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
