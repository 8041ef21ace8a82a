"""The log prefix contract (action, stage, generation) and where the ruleset logs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podwall.dataplane import compile_ruleset
from podwall.dataplane.logprefix import (
    LOG_PREFIX_MAX,
    LogPrefix,
    log_prefix,
    log_statement,
    parse_prefix,
)
from podwall.errors import QueryError
from podwall.model import Direction
from tests.dataplane.test_compile import chains, compiled, every_pod
from tests.dataplane.test_compile import engine_of as _engine_of


def rendered_prefix(namespace: str, direction: Direction | str, action: str,
                    generation: int) -> str:
    return log_prefix(namespace, direction, action).replace("@GEN@", str(generation))


@pytest.mark.parametrize("action", ["drop", "audit", "allow"])
@pytest.mark.parametrize("stage", [Direction.EGRESS, Direction.INGRESS, "forward"])
def test_prefix_round_trips(action: str, stage: Direction | str) -> None:
    text = rendered_prefix("shop", stage, action, 4294967295)
    word = stage.word if isinstance(stage, Direction) else stage
    assert text == f"pw {action} {word} g4294967295 shop"
    assert parse_prefix(text) == LogPrefix(action, word, 4294967295, "shop")


def test_prefix_fits_the_kernel_with_the_longest_names() -> None:
    text = rendered_prefix("n" * 63, Direction.INGRESS, "audit", 4294967295)
    assert len(text) <= LOG_PREFIX_MAX
    assert parse_prefix(text) == LogPrefix("audit", "ingress", 4294967295, "n" * 63)


@pytest.mark.parametrize("tier", ["admin", "baseline"])
def test_a_tier_deny_prefix_names_its_tier_and_keeps_it_with_the_longest_names(tier: str) -> None:
    text = log_prefix("shop", Direction.INGRESS, "drop", tier).replace("@GEN@", "7")
    assert text == f"pw drop ingress g7 shop {tier}"
    assert parse_prefix(text) == LogPrefix("drop", "ingress", 7, "shop", tier)
    longest = log_prefix("n" * 63, Direction.EGRESS, "audit", tier).replace("@GEN@", "4294967295")
    assert len(longest) <= LOG_PREFIX_MAX
    assert parse_prefix(longest) == LogPrefix("audit", "egress", 4294967295, "n" * 63, tier)
    # a namespace called like a tier is a namespace, not a tier
    assert parse_prefix(f"pw drop ingress g7 {tier}") == LogPrefix("drop", "ingress", 7, tier)
    with pytest.raises(ValueError):
        log_prefix("shop", Direction.INGRESS, "drop", "networkpolicy")


def test_tier_deny_chains_log_their_tier_apart() -> None:
    ruleset = compiled("cluster-tiers")
    rendered = ruleset.render(3)
    denies = {name: body for name, body in chains(rendered).items() if "tiers-deny" in name}
    assert denies, "the example has Admin and Baseline Denies"
    prefixes = {name: parse_prefix(body[-2].split('prefix "', 1)[1].rstrip('"'))
                for name, body in denies.items()}
    assert {(p.stage, p.tier) for p in prefixes.values() if p is not None} == {
        ("ingress", "admin"), ("ingress", "baseline")}
    assert all(("-baseline/" in name) == (p is not None and p.tier == "baseline")
               for name, p in prefixes.items())


@pytest.mark.parametrize("text", ["pw-drop shop egress ", "pw deny egress g1", "pw drop up g1",
                                  "pw drop egress 7", "pw drop egress g", "xpw drop egress g1"])
def test_foreign_prefixes_are_not_ours(text: str) -> None:
    assert parse_prefix(text) is None


def test_prefix_refuses_unknown_actions() -> None:
    with pytest.raises(ValueError):
        log_prefix("shop", Direction.EGRESS, "deny")


def test_drops_log_to_the_group_with_the_generation_of_the_rule() -> None:
    ruleset = compiled("three-tier")
    assert "level info" not in ruleset.template and " log prefix" not in ruleset.template
    rendered = ruleset.render(12)
    for name, body in chains(rendered).items():
        if name.startswith("pods-"):
            stage = "ingress" if name.startswith("pods-in/") else "egress"
            assert body[-2] == ('limit rate 100/second burst 200 packets log group 100 prefix '
                                f'"pw drop {stage} g12 shop"')
    assert "allow" not in "".join(line for line in rendered.splitlines() if "log group" in line)


def test_log_group_is_chosen_and_checked() -> None:
    engine = _engine_of(_three_tier_text())
    ruleset = compile_ruleset(engine, every_pod(engine), log_group=7)
    assert "log group 7 " in ruleset.text and "log group 100" not in ruleset.text
    with pytest.raises(QueryError, match="log group 70000"):
        compile_ruleset(engine, every_pod(engine), log_group=70000)


def test_log_allowed_logs_every_admission_point_once() -> None:
    engine = _engine_of(_three_tier_text())
    ruleset = compile_ruleset(engine, every_pod(engine), log_allowed=True).render(3)
    found = chains(ruleset)
    allow = log_statement("shop", Direction.INGRESS, "allow", 100, limit=False).replace(
        "@GEN@", "3")
    # every admitting line of an ingress chain logs first, wherever it is (exact set, admit
    # chain, rules without ports); egress ones never do
    for name, body in found.items():
        if name.startswith(("pods-in/", "admit-in-")):
            assert all(f"{allow} accept" in line for line in body
                       if line.endswith(" accept")), body
        if name.startswith("pods-out/"):
            assert not any("log group 100 prefix \"pw allow" in line for line in body), body
    assert any("th dport @exact4-" in line and f"{allow} accept" in line
               for body in found.values() for line in body)
    admits = [name for name in found if name.startswith(("admit-in-", "admit-out-"))]
    assert any(name.startswith("admit-in-") for name in admits)
    for name in admits:
        if name.startswith("admit-in-"):
            assert all(line.endswith(f"{allow} accept") for line in found[name]), found[name]
        else:  # egress hands on: logging there would log twice
            assert not any("log" in line for line in found[name])
    # a port open to every peer still goes through an admit chain, to be logged
    verdicts = [element.rsplit(" : ", 1)[1] for elements in re.findall(
        r"map ports-in-\d+\.g3 \{.*elements = \{ (.*) \} \}", ruleset)
        for element in elements.split(", ")]
    assert verdicts and all(v.startswith("jump admit-in-") for v in verdicts)
    assert found["egress-admitted.g3"][-1] == 'log group 100 prefix "pw allow egress g3 " accept'
    assert found["forward"][-1] == 'log group 100 prefix "pw allow forward g3 "'


def _three_tier_text() -> str:
    root = Path(__file__).resolve().parents[2] / "examples" / "three-tier"
    return "\n---\n".join(p.read_text() for p in sorted(root.glob("*.yaml")))


def test_dataplane_compile_shows_the_logging_a_lab_would_apply() -> None:
    from click.testing import CliRunner

    from podwall.cli.main import cli

    example = str(Path(__file__).resolve().parents[2] / "examples" / "three-tier")
    plain = CliRunner().invoke(cli, ["dataplane", "compile", example])
    logged = CliRunner().invoke(cli, ["dataplane", "compile", example,
                                      "--log-allowed", "--log-group", "7"])
    assert plain.exit_code == 0 and logged.exit_code == 0
    assert "pw allow" not in plain.output and "log group 100 " in plain.output
    assert 'log group 7 prefix "pw allow forward gN "' in logged.output
    assert "log group 100" not in logged.output
