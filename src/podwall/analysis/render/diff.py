"""`podwall diff` output: text (one line per change), JSON, Markdown for a pull-request comment."""

from __future__ import annotations

import json
from collections.abc import Callable

from podwall.analysis import wording
from podwall.analysis.diff import ADDED, REMOVED, ConnectionChange, Diff


def _ports(change: ConnectionChange) -> str:
    return wording.port_set_words(change.ports)


def change_line(change: ConnectionChange) -> str:
    """`+ shop/admin -> shop/db TCP/5432  (allowed by shop/db-allow-api ingress[0])`."""
    return f"{change.sign} {change.src} -> {change.dst} {_ports(change)}  ({change.reason})"


def _lines(diff: Diff) -> list[str]:
    lines = [wording.diff_endpoint_words(e.change, e.endpoint, e.reaches, e.reached_by)
             for e in diff.endpoints]
    lines.extend(change_line(c) for c in diff.changes)
    return lines


def _summary(diff: Diff) -> str:
    return wording.diff_summary_words(
        diff.added, diff.removed, sum(1 for e in diff.endpoints if e.change == ADDED),
        sum(1 for e in diff.endpoints if e.change == REMOVED))


def diff_text(diff: Diff) -> str:
    if diff.empty:
        return wording.DIFF_NO_CHANGES + "\n"
    return "\n".join([*_lines(diff), "", _summary(diff)]) + "\n"


def diff_json(diff: Diff) -> str:
    return json.dumps(diff.to_json(), indent=2) + "\n"


def diff_md(diff: Diff) -> str:
    head = f"### {wording.DIFF_MD_TITLE}\n\n"
    if diff.empty:
        return head + wording.DIFF_NO_CHANGES + "\n"
    ports = ", ".join(str(p) for p in diff.ports)
    body = "\n".join(_lines(diff))
    return (f"{head}**{_summary(diff)}** (ports examined: {ports})\n\n"
            f"```diff\n{body}\n```\n")


RENDERERS: dict[str, Callable[[Diff], str]] = {"text": diff_text, "json": diff_json, "md": diff_md}
