"""`podwall lint` output: text (FILE:LINE: severity ID object: message, then the fix) and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from podwall.analysis import wording
from podwall.analysis.lint import Finding, count_by_severity


def finding_lines(finding: Finding) -> list[str]:
    where = f"{finding.location}: " if finding.location else ""
    return [f"{where}{finding.severity} {finding.id} {finding.object}: {finding.message}",
            f"    fix: {finding.fix}"]


def _summary(findings: Sequence[Finding]) -> str:
    counts = count_by_severity(findings)
    return wording.lint_summary_words(counts["error"], counts["warning"], counts["info"])


def lint_text(findings: Sequence[Finding]) -> str:
    lines = [line for f in findings for line in finding_lines(f)]
    if lines:
        lines.append("")
    lines.append(_summary(findings))
    return "\n".join(lines) + "\n"


def lint_json(findings: Sequence[Finding]) -> str:
    counts = count_by_severity(findings)
    return json.dumps({"summary": counts, "findings": [f.to_json() for f in findings]},
                      indent=2) + "\n"
