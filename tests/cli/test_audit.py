"""Audit mode in every verb's CLI: both verdicts shown where they differ, nothing else changed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from podwall.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
AUDIT = str(ROOT / "tests" / "fixtures" / "manifests" / "audit")
THREE_TIER = str(ROOT / "examples" / "three-tier")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_check_prints_the_audit_verdict_when_it_differs() -> None:
    code, out, _ = run("check", AUDIT, "--from", "shop/db", "--to", "shop/web", "--port", "80",
                       "--expect", "allow")
    assert code == 0  # --expect judges the enforced verdict
    lines = out.splitlines()
    assert lines[0] == "ALLOWED shop/db -> shop/web TCP/80"
    assert lines[3].startswith("AUDIT: DENIED with the audited policies enforced (shop/deny-all)")
    assert "`audit` event" in lines[3]
    assert lines[5] == "  ingress at shop/web: denied — isolated by shop/deny-all; no rule admits shop/db"


def test_check_says_when_an_audited_policy_would_allow() -> None:
    _, out, _ = run("check", AUDIT, "--from", "shop/web", "--to", "shop/db", "--port", "80")
    assert out.startswith("DENIED ")
    assert "AUDIT: ALLOWED with the audited policies enforced" in out
    assert "allowed by shop/db-allow-80 ingress[0]" in out


def test_check_json_adds_keys_and_keeps_the_enforced_ones() -> None:
    _, out, _ = run("check", AUDIT, "--from", "shop/db", "--to", "shop/web", "--port", "80",
                    "-o", "json")
    data = json.loads(out)
    assert data["allowed"] is True and data["ingress"]["isolatedBy"] == []
    assert data["auditChange"] == "denies"
    assert data["auditedPolicies"] == ["shop/deny-all"]
    assert data["audit"]["allowed"] is False
    assert data["audit"]["ingress"]["isolatedBy"] == ["shop/deny-all"]


def test_check_without_audited_policies_is_unchanged() -> None:
    _, out, _ = run("check", THREE_TIER, "--from", "shop/web", "--to", "shop/db", "--port",
                    "5432", "-o", "json")
    assert "audit" not in json.loads(out)
    _, text, _ = run("check", THREE_TIER, "--from", "shop/web", "--to", "shop/db", "--port", "5432")
    assert "AUDIT" not in text


def test_validate_accepts_the_annotation_and_counts_audited_policies() -> None:
    code, out, _ = run("validate", AUDIT)
    assert code == 0
    assert out.strip().endswith("3 policies (2 audited)")
    _, js, _ = run("validate", AUDIT, "-o", "json")
    assert json.loads(js)["audited"] == 2
