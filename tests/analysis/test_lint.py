"""`podwall lint`: every check fires on its fixture and stays quiet on its twin; outputs; CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from podwall.analysis.lint import CHECKS, LintConfig, lint
from podwall.cli.main import cli
from podwall.manifests import load_cluster
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lint"
BASE = str(FIXTURES / "base.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def ids(fixture: str, config: LintConfig | None = None) -> set[str]:
    loaded = load_cluster([BASE, str(FIXTURES / fixture)], namespace="default")
    assert not [d for d in loaded.diagnostics if d.severity.name == "ERROR"], loaded.diagnostics
    return {f.id for f in lint(loaded.cluster, config)}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_check_fires_on_its_fixture(check: str) -> None:
    assert check in ids(f"{check}-fires.yaml")


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_check_is_quiet_on_its_twin(check: str) -> None:
    assert check not in ids(f"{check}-quiet.yaml")


def test_annotation_silences_the_named_checks() -> None:
    assert not {"PW004", "PW010"} & ids("ignore-annotation.yaml")


def test_config_disables_and_ignores() -> None:
    assert "PW009" not in ids("PW009-fires.yaml", LintConfig(frozenset({"PW009"})))
    ignore = LintConfig(ignore=(("PW004", "NetworkPolicy shop/db-allow"),))
    assert "PW004" not in ids("PW004-fires.yaml", ignore)


def test_config_rejects_unknown_ids() -> None:
    with pytest.raises(ValueError, match="unknown check IDs"):
        LintConfig.from_data({"disable": ["PW999"]})


def test_lint_accepts_a_load_result_for_the_report() -> None:
    loaded = load_cluster([str(ROOT / "examples" / "dns-forgotten")])
    assert [f.id for f in lint(loaded)] == [f.id for f in lint(loaded.cluster)]


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").iterdir()
                                           if p.is_dir()))
def test_examples_golden(example: str) -> None:
    code, out, _ = run("lint", f"examples/{example}")
    assert code == 0
    assert_golden(f"lint/{example}.txt", out)


def test_text_line_shape() -> None:
    _, out, _ = run("lint", BASE, "tests/fixtures/lint/PW004-fires.yaml")
    assert ("tests/fixtures/lint/PW004-fires.yaml:1: warning PW004 NetworkPolicy shop/db-allow: "
            "spec.podSelector {app=dbb} selects nothing") in out
    assert "\n    fix: " in out


def test_json_golden() -> None:
    code, out, _ = run("lint", "examples/dns-forgotten", "-o", "json")
    assert code == 0
    assert_golden("lint/dns-forgotten.json", out)
    payload = json.loads(out)
    assert payload["findings"][0].keys() == {"id", "severity", "object", "file", "line",
                                             "message", "fix"}


def test_sarif_is_valid_against_the_schema() -> None:
    schema = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0-subset.json").read_text())
    code, out, _ = run("lint", BASE, *(str(p.relative_to(ROOT))
                                       for p in sorted(FIXTURES.glob("PW*-fires.yaml"))),
                       "-o", "sarif")
    assert code == 0
    log = json.loads(out)
    jsonschema.validate(log, schema)
    run0 = log["runs"][0]
    assert {r["id"] for r in run0["tool"]["driver"]["rules"]} == set(CHECKS)
    found = {r["ruleId"] for r in run0["results"]}
    assert found <= set(CHECKS) and len(found) >= 6  # same-named fixtures replace each other
    located = next(r for r in run0["results"] if r["ruleId"] == "PW004")
    physical = located["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].startswith("tests/fixtures/lint/")
    assert physical["region"]["startLine"] >= 1
    assert {r["level"] for r in run0["results"]} == {"error", "warning", "note"}


def test_sarif_schema_rejects_a_broken_log() -> None:
    schema = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0-subset.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, schema)


def test_fail_on_exit_codes() -> None:
    dns = "examples/dns-forgotten"  # 1 error, 1 warning, 1 info
    assert run("lint", dns)[0] == 0
    assert run("lint", dns, "--fail-on", "error")[0] == 1
    assert run("lint", dns, "--fail-on", "warning")[0] == 1
    isolation = "examples/namespace-isolation"  # infos only
    assert run("lint", isolation, "--fail-on", "warning")[0] == 0
    assert run("lint", "examples/three-tier", "--fail-on", "warning")[0] == 0


def test_config_file(tmp_path: Path) -> None:
    config = tmp_path / "lint.yaml"
    config.write_text("disable: [PW001]\nignore:\n  - {check: PW005, object: Namespace app}\n")
    code, out, _ = run("lint", "examples/dns-forgotten", "--config", str(config),
                       "--fail-on", "warning")
    assert code == 0, out
    assert "PW001" not in out and "PW005" not in out and "PW006" in out
    config.write_text("disable: PW001\n")
    code, _, err = run("lint", "examples/dns-forgotten", "--config", str(config))
    assert code == 2 and "--config" in err
