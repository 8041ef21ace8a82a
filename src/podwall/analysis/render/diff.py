"""`podwall diff` output: text (one line per change), JSON, Markdown for a pull-request comment."""

from __future__ import annotations

import json
from collections.abc import Callable

from podwall.analysis import wording
from podwall.analysis.diff import ConnectionChange, Diff

# GitHub rejects comments over 65536 characters; leave room for the heading and the note.
MD_BUDGET = 60_000


def change_line(change: ConnectionChange) -> str:
    """`+ shop/admin -> shop/db TCP/5432  (allowed by shop/db-allow-api ingress[0])`."""
    return (f"{change.sign} {change.src} -> {change.dst} "
            f"{wording.port_set_words(change.ports)}  ({change.reason})")


def _lines(diff: Diff) -> list[str]:
    lines = [wording.diff_endpoint_words(e.change, e.endpoint, e.reaches, e.reached_by, e.count)
             for e in diff.endpoints]
    lines.extend(change_line(c) for c in diff.changes)
    return lines


def _summary(diff: Diff) -> str:
    return wording.diff_summary_words(diff.added, diff.removed, diff.endpoints_added,
                                      diff.endpoints_removed)


def diff_text(diff: Diff) -> str:
    if diff.empty:
        return wording.DIFF_NO_CHANGES + "\n"
    return "\n".join([*_lines(diff), "", _summary(diff)]) + "\n"


def diff_json(diff: Diff) -> str:
    return json.dumps(diff.to_json(), indent=2) + "\n"


def diff_md(diff: Diff, budget: int = MD_BUDGET) -> str:
    """A heading, the summary and a ```diff block (GitHub colours + and - lines), cut to fit
    in one pull-request comment with a note saying how much was left out."""
    head = f"### {wording.DIFF_MD_TITLE}\n\n"
    if diff.empty:
        return head + wording.DIFF_NO_CHANGES + "\n"
    ports = ", ".join(str(p) for p in diff.ports)
    lines = _lines(diff)
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        shown.append(line)
        used += len(line) + 1
    body = "\n".join(shown)
    note = ("" if len(shown) == len(lines)
            else f"\n{wording.diff_truncated_words(len(shown), len(lines))}\n")
    return (f"{head}**{_summary(diff)}** (ports examined: {ports})\n\n"
            f"```diff\n{body}\n```\n{note}")


RENDERERS: dict[str, Callable[[Diff], str]] = {"text": diff_text, "json": diff_json, "md": diff_md}
