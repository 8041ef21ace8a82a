"""`-o` is the output format in every verb, and every verb that prints has `-o json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_dataplane_compile_json() -> None:
    result = CliRunner().invoke(cli, ["dataplane", "compile", "examples/three-tier", "-o", "json"])
    assert result.exit_code == 0, result.output
    model = json.loads(result.stdout)
    text = CliRunner().invoke(cli, ["dataplane", "compile", "examples/three-tier"]).stdout
    assert model["ruleset"] == text
    assert model["table"] == "table inet podwall"
    assert model["interfaces"]["shop/web"].startswith("pw-p")
    assert model["summary"]["chains"] == text.count("\n  chain ")
    assert {"name": "drop-in/shop/db", "pod": "shop/db", "direction": "ingress",
            "action": "drop"} \
        in model["counters"]
    assert model["checked"] is False


@pytest.mark.parametrize(("verb", "options"), [
    (["validate"], []), (["check"], ["--from", "shop/web", "--to", "shop/api", "--port", "8080"]),
    (["matrix"], []), (["explain"], []), (["lint"], []), (["graph"], []), (["report"], []),
    (["dataplane", "compile"], [])])
def test_every_printing_verb_has_o_json(verb: list[str], options: list[str]) -> None:
    result = CliRunner().invoke(cli, [*verb, "examples/three-tier", *options, "-o", "json"])
    assert result.exit_code == 0, (verb, result.output)
    json.loads(result.stdout)
