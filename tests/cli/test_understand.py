"""The CLI contract of validate, check, matrix and explain (scripts and CI depend on it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
THREE_TIER = str(EXAMPLES / "three-tier")


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # golden output shows paths relative to the project


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_is_valid_without_warnings(example: str) -> None:
    code, out, err = run("validate", f"examples/{example}")
    assert code == 0, err
    assert out.startswith("valid: 0 errors, 0 warnings"), out + err


def test_check_denied_shows_both_directions_with_reasons() -> None:
    code, out, _ = run("check", "examples/three-tier", "--from", "shop/web", "--to", "shop/db",
                       "--port", "TCP/5432")
    assert code == 0
    assert_golden("cli/check-web-db.txt", out)
    assert out.startswith("DENIED  shop/web -> shop/db TCP/5432")
    assert "isolated by shop/db-allow-api, shop/default-deny; no rule admits shop/web" in out


def test_check_allowed_names_the_rule_on_both_sides() -> None:
    code, out, _ = run("check", "examples/three-tier", "--from", "shop/api", "--to", "shop/db",
                       "--port", "5432")
    assert code == 0
    assert "ALLOWED shop/api -> shop/db TCP/5432" in out
    assert "egress at shop/api: allowed by shop/api-allow egress[0]" in out
    assert "ingress at shop/db: allowed by shop/db-allow-api ingress[0]" in out


def test_check_expect_is_a_ci_gate() -> None:
    base = ["check", "examples/three-tier", "--from", "shop/web", "--to", "shop/db",
            "--port", "TCP/5432"]
    assert run(*base, "--expect", "deny")[0] == 0
    code, _, err = run(*base, "--expect", "allow")
    assert code == 1 and "expected allow, got deny" in err


def test_check_json() -> None:
    code, out, _ = run("check", "examples/dns-forgotten", "--from", "app/frontend",
                       "--to", "kube-system/coredns", "--port", "udp/53", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert data["allowed"] is False
    assert data["egress"]["isolatedBy"] == ["app/frontend-egress"]
    assert data["ingress"]["isolated"] is False


def test_check_unknown_endpoint_is_a_clear_error() -> None:
    code, _, err = run("check", THREE_TIER, "--from", "shop/nope", "--to", "shop/db",
                       "--port", "80")
    assert code == 2
    assert "no endpoint 'shop/nope'" in err and "Traceback" not in err


def test_check_bad_port_is_a_usage_error() -> None:
    code, _, err = run("check", THREE_TIER, "--from", "shop/web", "--to", "shop/db",
                       "--port", "ICMP/1")
    assert code == 2 and "protocol must be TCP, UDP or SCTP" in err


def test_matrix_json_contract() -> None:
    code, out, _ = run("matrix", "examples/three-tier", "--port", "TCP/5432", "--port", "udp/53",
                       "--external", "192.0.2.10", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["endpoints", "ports", "allowed"]
    assert data["endpoints"] == ["kube-system/coredns", "shop/api", "shop/db", "shop/web",
                                 "192.0.2.10"]
    assert data["ports"] == ["TCP/5432", "UDP/53"]
    grid = data["allowed"]["TCP/5432"]
    names = data["endpoints"]
    assert grid[names.index("shop/api")][names.index("shop/db")] is True
    assert grid[names.index("shop/web")][names.index("shop/db")] is False
    assert all(grid[i][i] for i in range(len(names)))
    dns = data["allowed"]["UDP/53"]
    assert dns[names.index("shop/web")][names.index("kube-system/coredns")] is True
    assert dns[names.index("shop/web")][names.index("192.0.2.10")] is False


def test_matrix_agrees_with_check_for_every_pair() -> None:
    _code, out, _ = run("matrix", "examples/three-tier", "-o", "json")
    data = json.loads(out)
    from podwall.engine import Engine
    from podwall.manifests import load_cluster
    from podwall.model import PortQuery
    engine = Engine(load_cluster(["examples/three-tier"]).cluster)
    for port in data["ports"]:
        for i, src in enumerate(data["endpoints"]):
            for j, dst in enumerate(data["endpoints"]):
                verdict = engine.check(src, dst, PortQuery.parse(port))
                assert data["allowed"][port][i][j] == verdict.allowed, (src, dst, port)


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_matrix_formats_golden(fmt: str) -> None:
    code, out, _ = run("matrix", "examples/three-tier", "-o", fmt)
    assert code == 0
    assert_golden(f"cli/matrix-three-tier.{fmt}", out)


def test_explain_golden_text_and_json() -> None:
    code, out, _ = run("explain", "examples/three-tier")
    assert code == 0
    assert_golden("cli/explain-three-tier.txt", out)
    code, out, _ = run("explain", "examples/namespace-isolation", "-o", "json")
    assert code == 0
    data = json.loads(out)
    api = next(e for e in data["endpoints"] if e["endpoint"] == "team-b/api")
    assert api["isolatedBy"]["ingress"] == ["team-b/api-from-team-a",
                                            "team-b/same-namespace-only"]
    assert "team-a/client" in api["reachableFrom"]["TCP/8080"]


def test_invalid_input_exits_1_with_field_paths_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: db\n"
        "  namespace: prod\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n"
        "    - ipBlock:\n        cidr: 10.0.0.0/24\n        except: [192.168.0.0/24]\n")
    for verb in (["validate"], ["matrix"], ["explain"]):
        code, out, err = run(*verb, str(bad))
        assert code == 1, verb
        assert (f"{bad}:12: NetworkPolicy prod/db: spec.ingress[0].from[0].ipBlock.except[0]: "
                'Invalid value: "192.168.0.0/24"') in err
        assert "Traceback" not in out + err


def test_missing_path_is_exit_2() -> None:
    code, _, err = run("validate", "no/such/dir")
    assert code == 2 and "no such file or directory" in err


def test_stdin_input() -> None:
    text = (EXAMPLES / "dns-forgotten" / "all.yaml").read_text()
    code, _out, err = run("validate", "-", input=text)
    assert code == 0, err


def test_every_verb_has_help_with_examples() -> None:
    for verb in ("validate", "check", "matrix", "explain"):
        code, out, _ = run(verb, "--help")
        assert code == 0 and "Examples:" in out, verb


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "podwall", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "podwall" in proc.stdout
