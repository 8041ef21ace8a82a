"""Lint findings as SARIF 2.1.0 (GitHub code scanning and other SARIF viewers read it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from podwall import __version__
from podwall.analysis import wording
from podwall.analysis.lint import CHECKS, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/podwall/podwall"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif_level(severity: str) -> str:
    return _LEVELS.get(severity, "warning")


def sarif_log(findings: Sequence[Finding]) -> dict[str, Any]:
    rule_ids = sorted(CHECKS)
    rules = [{
        "id": check_id,
        "name": check_id,
        "shortDescription": {"text": wording.LINT_TITLES[check_id]},
        "defaultConfiguration": {"level": sarif_level(CHECKS[check_id])},
    } for check_id in rule_ids]
    results: list[dict[str, Any]] = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.id,
            "ruleIndex": rule_ids.index(f.id),
            "level": sarif_level(f.severity),
            "message": {"text": f"{f.object}: {f.message}. Fix: {f.fix}"},
        }
        if f.file is not None:
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file)}}
            if f.line is not None:
                physical["region"] = {"startLine": f.line}
            result["locations"] = [{
                "physicalLocation": physical,
                "logicalLocations": [{"fullyQualifiedName": f.object}],
            }]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "podwall", "version": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "results": results,
        }],
    }


def _uri(path: str) -> str:
    """A relative URI (SARIF resolves it against the checkout root); `-` is stdin."""
    return path.replace("\\", "/").removeprefix("./")


def lint_sarif(findings: Sequence[Finding]) -> str:
    return json.dumps(sarif_log(findings), indent=2) + "\n"
