"""`podwall diff` output: text (one line per change), JSON, Markdown for a pull-request comment."""

from __future__ import annotations

import json
from collections.abc import Callable

from podwall.analysis import wording
from podwall.analysis.diff import Diff, NamespaceChange
from podwall.analysis.diff_endpoints import ADDED, ConnectionChange

# GitHub rejects comments over 65536 characters; leave room for the heading and the note.
MD_BUDGET = 60_000
# Beyond this many lines, text output is summarised per namespace pair (unless --full).
LINE_LIMIT = 200
# Beyond this many changed (class, class) pairs, lines and reasons are not even computed.
DETAIL_LIMIT = 20 * LINE_LIMIT


def change_line(change: ConnectionChange) -> str:
    """`+ shop/admin -> shop/db TCP/5432  (allowed by shop/db-allow-api ingress[0])`."""
    src = wording.implied_end_words(change.src, change.src_implied)
    dst = wording.implied_end_words(change.dst, change.dst_implied)
    return f"{change.sign} {src} -> {dst} {wording.port_set_words(change.ports)}  ({change.reason})"


def _lines(diff: Diff) -> list[str]:
    lines: list[str] = []
    for e in diff.endpoints:
        lines.append(wording.diff_endpoint_words(
            e.change, wording.implied_end_words(e.endpoint, e.implied), e.reaches,
            e.reached_by, e.count))
        lines.extend(change_line(c) for c in e.connections)
        if not e.listed:
            lines.append(wording.DIFF_CONNECTIONS_NOT_LISTED)
    lines.extend(change_line(c) for c in diff.changes)
    lines.extend(c.line() for c in diff.outside)
    return lines


def _summary(diff: Diff) -> str:
    text = wording.diff_summary_words(diff.added, diff.removed, diff.endpoints_added,
                                      diff.endpoints_removed)
    if diff.outside:
        text += "; " + wording.diff_outside_summary_words(diff.outside_added,
                                                          diff.outside_removed)
    return text


def namespace_line(change: NamespaceChange) -> str:
    """`+ shop -> prod  1234 connections on TCP/80, TCP/443`."""
    return (f"{change.sign} {change.src} -> {change.dst}  "
            f"{wording.diff_namespace_count_words(change.count)} on "
            f"{wording.port_set_words(change.ports)}")


def summarised(diff: Diff, full: bool = False) -> bool:
    """Whether text shows namespace pairs rather than lines (too many lines, or not computed)."""
    if not diff.detailed:
        return True
    listed = sum(len(e.connections) for e in diff.endpoints)
    return not full and len(diff.endpoints) + listed + len(diff.changes) > LINE_LIMIT


def _summary_lines(diff: Diff, flags: str) -> list[str]:
    lines: list[str] = []
    if len(diff.endpoints) > LINE_LIMIT:
        per_ns: dict[tuple[str, str], int] = {}
        for e in diff.endpoints:
            key = (e.change, e.endpoint.partition("/")[0])
            per_ns[key] = per_ns.get(key, 0) + e.count
        lines.extend(wording.diff_endpoints_per_namespace_words(change, ns, count)
                     for (change, ns), count in sorted(per_ns.items(),
                                                       key=lambda kv: (kv[0][0] == ADDED, kv[0][1])))
    else:
        lines.extend(_lines(Diff(diff.ports, diff.endpoints, ())))
    lines.extend(c.line() for c in diff.outside)
    lines.append(wording.diff_namespaces_heading_words(
        len(diff.changes) if diff.detailed else None, LINE_LIMIT))
    lines.extend(namespace_line(n) for n in diff.namespaces)
    lines.extend(["", _summary(diff), wording.drill_down_words(flags)])
    return lines


def diff_text(diff: Diff, full: bool = False, flags: str = "") -> str:
    if diff.empty:
        return wording.DIFF_NO_CHANGES + "\n"
    if summarised(diff, full):
        return "\n".join(_summary_lines(diff, flags)) + "\n"
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
    lines = _lines(diff) if diff.detailed else _summary_lines(diff, "")
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
