"""Lint findings as SARIF 2.1.0 (GitHub code scanning and other SARIF viewers read it)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from podwall import __version__
from podwall.analysis import wording
from podwall.analysis.lint import CHECK_NAMES, CHECKS, Finding

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
        "name": CHECK_NAMES[check_id],
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
            "partialFingerprints": {"podwallFinding/v1": _fingerprint(f)},
        }
        location: dict[str, Any] = {"logicalLocations": [
            {"fullyQualifiedName": f.object, "kind": "resource"}]}
        if f.file is not None:
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file)}}
            if f.line is not None:
                physical["region"] = {"startLine": f.line}
            location = {"physicalLocation": physical, **location}
        result["locations"] = [location]
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
    """A URI reference for a file: relative paths stay relative (GitHub resolves them against
    the checkout root), absolute ones become `file://` URIs; other characters are escaped."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(path.replace("\\", "/").removeprefix("./"), safe="/-._~!$&'()*+,;=:@")


def _fingerprint(f: Finding) -> str:
    """Stable across runs and line moves: the check, the object and the message."""
    return hashlib.sha256(f"{f.id}\0{f.object}\0{f.message}".encode()).hexdigest()[:32]


def lint_sarif(findings: Sequence[Finding]) -> str:
    return json.dumps(sarif_log(findings), indent=2) + "\n"
