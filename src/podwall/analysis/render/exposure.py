"""`podwall exposure` output: text (one line per opening), JSON (always complete), Markdown."""

from __future__ import annotations

import json

from podwall.analysis import wording
from podwall.analysis.exposure import Exposure, per_namespace
from podwall.analysis.filters import SUMMARY_THRESHOLD
from podwall.engine.outside import ports_words
from podwall.model import Direction

BLOCK_LIMIT = 20  # beyond this many blocks, text names only how many (unless --full)


def summarises(result: Exposure, full: bool) -> bool:
    return not full and len(result.shown) > SUMMARY_THRESHOLD


def _heading(result: Exposure, full: bool) -> list[str]:
    o = result.outside
    lines = [wording.exposure_outside_words(
        str(o.pod_cidr), len(o.blocks), len(o.stray_pod_ips),
        "" if o.service_cidr is None else str(o.service_cidr), len(o.stray_service_ips))]
    if full or len(o.blocks) <= BLOCK_LIMIT:
        for b in o.blocks:
            lines.append(f"  {b.name}  {b.addresses}")
    return lines


def _summary(result: Exposure) -> str:
    closed = len(result.shown) - len(result.accepting | result.opening)
    return wording.exposure_summary_words(len(result.shown), len(result.accepting),
                                          len(result.opening), closed)


def exposure_text(result: Exposure, full: bool = False, flags: str = "") -> str:
    lines = _heading(result, full)
    if summarises(result, full):
        per_ns = per_namespace(result)
        for direction, heading in ((Direction.INGRESS, wording.EXPOSURE_INGRESS_HEADING),
                                   (Direction.EGRESS, wording.EXPOSURE_EGRESS_HEADING)):
            lines.append(heading)
            items = [n for n in per_ns if n.direction is direction]
            lines.extend("  " + wording.exposure_namespace_words(
                direction, n.namespace, n.endpoints, str(n.addresses), ports_words(n.ports),
                n.implied)
                for n in items)
            if not items:
                lines.append(wording.EXPOSURE_NONE)
        if result.undecided:
            lines.append(wording.EXPOSURE_UNDECIDED_HEADING)
            lines.extend("  " + u.line() for u in result.undecided)
        lines.append(_summary(result))
        lines.append(wording.drill_down_words(flags))
        return "\n".join(lines) + "\n"
    for direction, heading in ((Direction.INGRESS, wording.EXPOSURE_INGRESS_HEADING),
                               (Direction.EGRESS, wording.EXPOSURE_EGRESS_HEADING)):
        lines.append(heading)
        openings = result.of(direction)
        lines.extend("  " + o.line() for o in openings)
        if not openings:
            lines.append(wording.EXPOSURE_NONE)
    if result.undecided:
        lines.append(wording.EXPOSURE_UNDECIDED_HEADING)
        lines.extend("  " + u.line() for u in result.undecided)
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"


def exposure_json(result: Exposure) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def exposure_md(result: Exposure, full: bool = False, flags: str = "") -> str:
    lines = ["## podwall exposure", ""]
    if summarises(result, full):
        return "\n".join(lines) + "\n```\n" + exposure_text(result, full, flags) + "```\n"
    lines.append(_cell(_heading(result, full)[0]))
    lines.append("")
    for direction, heading in ((Direction.INGRESS, wording.EXPOSURE_INGRESS_HEADING),
                               (Direction.EGRESS, wording.EXPOSURE_EGRESS_HEADING)):
        lines.append(f"### {heading}")
        lines.append("")
        items = result.of(direction)
        if not items:
            lines.extend(["nothing", ""])
            continue
        lines.append("| from | to | ports | admitted by |")
        lines.append("|---|---|---|---|")
        for o in items:
            outside = f"`{o.addresses}`"
            marked = wording.implied_end_words(o.label, o.implied)
            pods = f"`{o.label}`{marked[len(o.label):]}"
            src, dst = (outside, pods) if direction is Direction.INGRESS else (pods, outside)
            rules = (", ".join(str(r) for r in o.rules) if o.isolated
                     else f"not isolated for {direction.word}")
            lines.append(f"| {_cell(src)} | {_cell(dst)} | {_cell(o.ports_text)} | "
                         f"{_cell(rules)} |")
        lines.append("")
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"
