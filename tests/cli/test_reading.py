"""How every verb reads its input: --field-validation (kubectl's --validate) on every verb that
reads manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

TYPO = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
        "spec:\n  podSelector: {}\n  ingres: []\n---\napiVersion: v1\nkind: Pod\n"
        "metadata: {name: web, namespace: a}\nspec:\n  containers:\n  - name: c\n"
        "    ports: [{containerPort: 80}]\n")


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("verb", [["validate"], ["matrix"], ["explain"], ["lint"], ["graph"],
                                  ["check", "--from", "a/web", "--to", "a/web", "--port", "80"]])
def test_an_unknown_field_fails_every_verb_unless_relaxed(verb: list[str]) -> None:
    code, _out, err = run(*verb, "-", input=TYPO)
    assert code == 1 and 'spec.ingres: unknown field "ingres": did you mean "ingress"?' in err, err
    code, _out, err = run(*verb, "-", "--field-validation=warn", input=TYPO)
    assert code == 0 and "warning: NetworkPolicy a/p: spec.ingres: unknown field" in err, err
    for relaxed in ("--field-validation=ignore", "--validate=false"):
        code, _out, err = run(*verb, "-", relaxed, input=TYPO)
        assert code == 0 and "ingres" not in err, err


def test_validate_true_is_strict_and_a_bad_value_is_a_usage_error() -> None:
    assert run("validate", "-", "--validate=true", input=TYPO)[0] == 1
    code, _out, err = run("validate", "-", "--field-validation=lenient", input=TYPO)
    assert code == 2 and "lenient" in err


def test_a_helm_chart_error_says_how_to_pipe_it_into_this_very_command(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("name: web\nversion: 0.1.0\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.yaml").write_text("{{ if .Values.x }}\n")
    code, _out, err = run("matrix", str(tmp_path))
    assert code == 1 and err.count("\n") == 2, err  # the one error and the summary
    assert f"helm template RELEASE {tmp_path} | podwall matrix -" in err
