"""`podwall lint`: every check fires on its fixture and stays quiet on its twin; outputs; CI gate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from podwall.analysis.lint import CHECK_NAMES, CHECKS, Finding, LintConfig, lint
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


def test_every_check_has_a_firing_and_a_quiet_fixture() -> None:
    for check in CHECKS:
        assert (FIXTURES / f"{check}-fires.yaml").exists()
        assert (FIXTURES / f"{check}-quiet.yaml").exists()


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("PW*-fires*.yaml")))
def test_check_fires_on_its_fixture(fixture: str) -> None:
    assert fixture[:5] in ids(fixture)


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("PW*-quiet*.yaml")))
def test_check_is_quiet_on_its_twin(fixture: str) -> None:
    assert fixture[:5] not in ids(fixture)


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
    errors = re.search(r"(\d+) errors?\b", out.splitlines()[-1])
    assert code == (1 if errors and int(errors.group(1)) else 0)  # errors fail, nothing else
    assert_golden(f"lint/{example}.txt", out)


def test_text_line_shape() -> None:
    _, out, _ = run("lint", BASE, "tests/fixtures/lint/PW004-fires.yaml")
    assert ("tests/fixtures/lint/PW004-fires.yaml:1: warning PW004 NetworkPolicy shop/db-allow: "
            "spec.podSelector {app=dbb} selects nothing") in out
    assert "\n    fix: " in out


def test_json_golden() -> None:
    code, out, _ = run("lint", "examples/dns-forgotten", "-o", "json", "--fail-on", "never")
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
    assert code == 1  # errors among the findings
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
    assert run("lint", dns)[0] == 1  # errors fail without a flag
    assert run("lint", dns, "--fail-on", "never")[0] == 0
    assert run("lint", dns, "--fail-on", "error")[0] == 1
    assert run("lint", dns, "--fail-on", "warning")[0] == 1
    isolation = "examples/namespace-isolation"  # infos only
    assert run("lint", isolation, "--fail-on", "warning")[0] == 0
    assert run("lint", isolation)[0] == 0
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


def findings(fixture: str, config: LintConfig | None = None) -> list[Finding]:
    loaded = load_cluster([BASE, str(FIXTURES / fixture)], namespace="default")
    return lint(loaded.cluster, config)


def test_empty_list_is_named_for_what_it_is() -> None:
    [found] = [f for f in findings("PW010-fires-empty-from.yaml") if f.id == "PW010"]
    assert "'from: []' admits everything" in found.message


def test_shadowing_across_policies_names_the_broader_rule() -> None:
    [found] = [f for f in findings("PW011-fires-across-policies.yaml") if f.id == "PW011"]
    assert found.object == "NetworkPolicy shop/db-allow"
    assert "shop/allow-same-namespace ingress[0]" in found.message
    assert found.severity == "info"


def test_config_globs_and_wildcard_check() -> None:
    every = LintConfig(ignore=(("*", "NetworkPolicy shop/*"),))
    assert not [f for f in findings("PW004-fires.yaml", every) if f.object.startswith("Netw")]
    namespaces = LintConfig.from_data({"ignore": [{"check": "PW005", "object": "Namespace s*"}]})
    assert "PW005" not in {f.id for f in findings("PW005-fires.yaml", namespaces)}


def test_annotation_star_silences_everything(tmp_path: Path) -> None:
    text = (FIXTURES / "ignore-annotation.yaml").read_text().replace('"PW004, PW010"', '"*"')
    policy = tmp_path / "p.yaml"
    policy.write_text(text)
    loaded = load_cluster([BASE, str(policy)], namespace="default")
    assert not [f for f in lint(loaded.cluster) if f.object == "NetworkPolicy shop/db-allow"]


def test_namespace_findings_point_at_a_workload_without_a_namespace_manifest(
        tmp_path: Path) -> None:
    pods = tmp_path / "pods.yaml"
    pods.write_text("# no Namespace object\n---\napiVersion: v1\nkind: Pod\n"
                    "metadata: {name: web, namespace: shop}\n"
                    "spec: {containers: [{name: web, image: x}]}\n")
    found = {f.id: f for f in lint(load_cluster([str(pods)]).cluster)}
    assert (found["PW005"].file, found["PW005"].line) == (str(pods), 3)


def test_sarif_rules_locations_and_fingerprints(tmp_path: Path) -> None:
    from podwall.analysis.render.sarif import sarif_log

    absolute = tmp_path / "with space.yaml"
    absolute.write_text((FIXTURES / "PW004-fires.yaml").read_text())
    loaded = load_cluster([BASE, str(absolute)], namespace="default")
    log = sarif_log(lint(loaded.cluster))
    schema = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0-subset.json").read_text())
    jsonschema.validate(log, schema)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["name"] for r in rules] == [CHECK_NAMES[c] for c in sorted(CHECKS)]
    results = log["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert absolute.as_uri() in uris and all(" " not in u for u in uris)
    prints = [r["partialFingerprints"]["podwallFinding/v1"] for r in results]
    assert len(set(prints)) == len(prints)
    again = sarif_log(lint(load_cluster([BASE, str(absolute)], namespace="default").cluster))
    assert [r["partialFingerprints"] for r in again["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in results]


def test_sarif_schema_is_strict_about_unknown_properties() -> None:
    schema = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0-subset.json").read_text())
    log: dict[str, Any] = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                                       "results": [{"message": {"text": "m"},
                                                                    "level": "info"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, schema)  # SARIF levels are none/note/warning/error
    log["runs"][0]["results"][0]["level"] = "note"
    jsonschema.validate(log, schema)
    log["runs"][0]["results"][0]["severity"] = "note"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, schema)
