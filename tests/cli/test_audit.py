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


def test_matrix_shows_the_enforced_view_and_names_the_audited_policies() -> None:
    code, out, err = run("matrix", AUDIT, "--port", "80", "-o", "json", "--no-implied")
    assert code == 0
    data = json.loads(out)
    assert data["allowed"]["TCP/80"] == [[True, True], [False, True]]  # db, web
    assert "audited, not enforced: shop/db-allow-80, shop/deny-all" in err


def test_matrix_audit_shows_the_audit_view_and_says_it_differs() -> None:
    code, out, err = run("matrix", AUDIT, "--port", "80", "-o", "json", "--audit", "--no-implied")
    assert code == 0
    assert json.loads(out)["allowed"]["TCP/80"] == [[True, False], [True, True]]
    assert "audit view: 2 audited policies enforced too; the enforced view differs" in err


def test_audit_on_an_input_without_audited_policies_says_so() -> None:
    code, out, err = run("matrix", THREE_TIER, "--port", "80", "--audit")
    assert code == 0 and "no policy is audited" in err
    _, plain, err2 = run("matrix", THREE_TIER, "--port", "80")
    assert plain == out and err2 == ""


def test_matrix_audit_says_when_the_views_agree(tmp_path: Path) -> None:
    # an audited policy that admits everything it isolates changes no verdict
    (tmp_path / "a.yaml").write_text(
        (Path(AUDIT) / "shop.yaml").read_text().split("---\napiVersion: networking.k8s.io/v1"
                                                      "\nkind: NetworkPolicy\nmetadata:\n"
                                                      "  name: deny-all")[0])
    (tmp_path / "b.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: open\n"
        "  namespace: shop\n  annotations: {podwall.io/enforcement: audit}\n"
        "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{}]\n")
    _, _, err = run("matrix", str(tmp_path), "--audit")
    assert "audit view: 1 audited policy enforced too; the enforced view is the same" in err


def test_explain_marks_audited_policies_in_both_views() -> None:
    _, out, _ = run("explain", AUDIT)
    assert "shop/deny-all" in out
    assert "audit: evaluated, not enforced (podwall.io/enforcement: audit)" in out
    assert "shop/web  (Pod" in out and "  ingress: not isolated: allows everything" in out
    _, audit_out, _ = run("explain", AUDIT, "--audit", "--focus", "shop/web")
    assert "audit: enforced in this view only" in audit_out
    assert "  ingress: isolated by shop/deny-all" in audit_out
    _, js, _ = run("explain", AUDIT, "-o", "json")
    policies = {p["policy"]: p["enforcement"] for p in json.loads(js)["policies"]}
    assert policies == {"shop/db-allow-80": "audit", "shop/db-allow-web": "enforce",
                        "shop/deny-all": "audit"}


def test_report_audit_titles_the_page() -> None:
    _, out, err = run("report", AUDIT, "-o", "json", "--audit")
    assert json.loads(out)["title"].endswith("(audit view: audited policies enforced)")
    assert "the enforced view differs" in err


def test_diff_names_a_policy_that_becomes_enforced(tmp_path: Path) -> None:
    enforced = tmp_path / "enforced"
    enforced.mkdir()
    (enforced / "shop.yaml").write_text(
        (Path(AUDIT) / "shop.yaml").read_text().replace("enforcement: audit}",
                                                        "enforcement: enforce}"))
    code, out, err = run("diff", AUDIT, str(enforced), "--fail-on", "removed")
    assert code == 1
    assert "now isolated by shop/deny-all (enforced now, was audited)" in out
    assert "the audit view's diff differs (--audit shows it)" in err
    code, out, err = run("diff", AUDIT, str(enforced), "--audit", "--fail-on", "any")
    assert code == 0 and "no connectivity changes" in out
    assert "the enforced diff differs (without --audit)" in err


def test_lint_lists_audited_policies_as_info() -> None:
    _, out, _ = run("lint", AUDIT, "-o", "json")
    found = [(f["id"], f["severity"], f["object"]) for f in json.loads(out)["findings"]
             if f["id"] == "PW013"]
    assert found == [("PW013", "info", "NetworkPolicy shop/deny-all"),
                     ("PW013", "info", "NetworkPolicy shop/db-allow-80")]


def test_report_lists_audited_policies_marked(tmp_path: Path) -> None:
    _, out, _ = run("report", AUDIT, "-o", "json")
    assert {p["policy"]: p["enforcement"] for p in json.loads(out)["policies"]} == {
        "shop/db-allow-80": "audit", "shop/db-allow-web": "enforce", "shop/deny-all": "audit"}
    page = tmp_path / "r.html"
    run("report", AUDIT, "--out", str(page))
    assert page.read_text().count("audit: evaluated, not enforced") == 2


def test_graph_audit_draws_the_audit_view() -> None:
    _, plain, err = run("graph", AUDIT, "-o", "json", "--port", "80")
    _, audit, audit_err = run("graph", AUDIT, "-o", "json", "--port", "80", "--audit")
    assert plain != audit
    assert "audited, not enforced" in err and "the enforced view differs" in audit_err
