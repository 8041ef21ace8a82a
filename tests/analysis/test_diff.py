"""`podwall diff`: class-level comparison, reasons, collapsing, outputs, CI gate and --git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.analysis.diff import diff_clusters
from podwall.cli.main import cli
from podwall.engine import Engine
from podwall.manifests import load_cluster
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = "tests/fixtures/diff/old", "tests/fixtures/diff/new"
V1, V2 = "examples/three-tier", "examples/three-tier-v2"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_three_tier_golden(fmt: str, ext: str) -> None:
    code, out, _ = run("diff", V1, V2, "-o", fmt)
    assert code == 0
    assert_golden(f"diff/three-tier-v2.{ext}", out)


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_fixture_golden(fmt: str, ext: str) -> None:
    code, out, _ = run("diff", OLD, NEW, "-o", fmt)
    assert code == 0
    assert_golden(f"diff/fixture.{ext}", out)


def test_lines_reasons_and_collapse() -> None:
    _, out, _ = run("diff", OLD, NEW)
    lines = out.splitlines()
    assert lines[0].startswith("endpoint removed: staging/legacy")
    assert lines[1].startswith("endpoint added: staging/batch")
    assert ("+ staging/worker -> prod/db TCP/5432  (allowed by prod/db-allow ingress[0])"
            in lines)
    assert ("- staging/* -> prod/api TCP/80  (no longer admitted: prod/api-allow removed)"
            in lines)


def test_reverse_names_changed_policy() -> None:
    _, out, _ = run("diff", NEW, OLD)
    assert "- staging/worker -> prod/db TCP/5432  (no longer admitted: prod/db-allow changed)" in out
    assert "+ staging/* -> prod/api TCP/80  (allowed by prod/api-allow ingress[0])" in out


def test_identical_inputs_have_no_changes() -> None:
    code, out, _ = run("diff", V1, V1, "--fail-on", "any")
    assert code == 0 and out == "no connectivity changes\n"


def test_agrees_with_engine_pair_by_pair() -> None:
    old = load_cluster([OLD]).cluster
    new = load_cluster([NEW]).cluster
    result = diff_clusters(old, new)
    common = sorted({e.key for e in old.endpoints} & {e.key for e in new.endpoints})
    old_engine, new_engine = Engine(old), Engine(new)
    expected = {"added": 0, "removed": 0}
    for port in result.ports:
        for s in common:
            for d in common:
                if s == d:
                    continue
                before = old_engine.check(s, d, port).allowed
                after = new_engine.check(s, d, port).allowed
                if after and not before:
                    expected["added"] += 1
                elif before and not after:
                    expected["removed"] += 1
    assert (result.added, result.removed) == (expected["added"], expected["removed"])
    assert sum(c.count for c in result.changes if c.change == "added") == result.added


def test_fail_on_exit_codes() -> None:
    assert run("diff", OLD, NEW)[0] == 0
    assert run("diff", OLD, NEW, "--fail-on", "added")[0] == 1
    assert run("diff", OLD, NEW, "--fail-on", "removed")[0] == 1
    assert run("diff", OLD, NEW, "--fail-on", "any")[0] == 1
    # v2 closes web to in-cluster clients: coredns -> web TCP/80 goes away.
    assert run("diff", V1, V2, "--fail-on", "removed")[0] == 1
    assert run("diff", V1, V2, "--fail-on", "added")[0] == 1


def test_port_option_restricts() -> None:
    _, out, _ = run("diff", OLD, NEW, "--port", "TCP/80", "-o", "json")
    payload = json.loads(out)
    assert payload["ports"] == ["TCP/80"]
    assert {c["change"] for c in payload["changes"]} == {"removed"}


def test_needs_two_paths() -> None:
    code, _, err = run("diff", OLD)
    assert code == 2 and "OLD and NEW" in err


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_revision_against_working_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / OLD, repo / "k8s")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                       cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "old")
    shutil.rmtree(repo / "k8s")
    shutil.copytree(ROOT / NEW, repo / "k8s")
    monkeypatch.chdir(repo)
    code, out, _ = run("diff", "--git", "HEAD", "k8s", "--fail-on", "removed")
    assert code == 1
    assert "- staging/* -> prod/api TCP/80  (no longer admitted: prod/api-allow removed)" in out
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    code, out2, _ = run("diff", "--git", "HEAD", "../k8s")
    assert code == 0 and out2 == out
    code, _, err = run("diff", "--git", "no-such-rev", "../k8s")
    assert code == 2 and "unknown revision" in err
    monkeypatch.chdir(repo)
    (repo / "extra").mkdir()
    shutil.copy(ROOT / OLD / "workloads.yaml", repo / "extra" / "w.yaml")
    code, out3, _ = run("diff", "--git", "HEAD", "extra")  # not at HEAD: everything is added
    assert code == 0 and "endpoint added: prod/api" in out3
