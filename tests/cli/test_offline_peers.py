"""nodes and domainNames peers cannot be decided offline: every verb says so, names the rules,
and (where it shows addresses outside the cluster) the cells they may change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from tests.engine.test_offline import NO_EXTERNAL

ROOT = Path(__file__).resolve().parents[2]
RULES = "admin/no-external egress[0] (allow-api) (domainNames)"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """OLD: the cluster-tiers example; NEW: it with a policy with domainNames/nodes peers."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "examples/cluster-tiers", old)
    shutil.copytree(ROOT / "examples/cluster-tiers", new)
    (new / "no-external.yaml").write_text(NO_EXTERNAL)
    return old, new


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--no-implied"], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_matrix_names_the_rules_and_the_cells(inputs: tuple[Path, Path]) -> None:
    _, new = inputs
    code, out, err = run("matrix", str(new), "--outside", "--port", "TCP/443")
    assert code == 0
    assert f"podwall: cannot be decided offline: {RULES}" in err
    assert " cells shown (shop/db -> 0.0.0.1 TCP/443" in err
    code, out, _ = run("matrix", str(new), "--outside", "--port", "TCP/443", "-o", "json")
    matrix = json.loads(out)
    found = matrix["cannotDecideOffline"]
    assert [r["name"] for r in found["rules"]] == ["allow-api", "deny-nodes"]
    cells = {(c["from"], c["to"]): c["shownAs"] for c in found["cells"]}
    assert cells[("shop/db", "0.0.0.1")] == cells[("shop/web", "0.0.0.1")] == "denied"
    assert {src for src, _ in cells} == {"shop/db", "shop/web"}  # the policy's subject only
    # each cell is shown as the matrix shows it (as if the peers matched nothing)
    from podwall.engine import Engine
    from podwall.manifests import load_cluster
    from podwall.model import PortQuery

    engine = Engine(load_cluster([str(new)], implied=False).cluster)
    for (src, dst), shown in cells.items():
        assert engine.check(src, dst, PortQuery.parse("TCP/443")).allowed == (shown == "allowed")
        assert not engine.check(src, dst, PortQuery.parse("TCP/443")).decided
    # pods only: nothing shown depends on them, and it says so
    code, out, err = run("matrix", str(new), "--port", "TCP/443")
    assert "they match no pod, so no answer shown depends on them" in err


def test_explain_marks_the_rules_and_the_endpoints(inputs: tuple[Path, Path]) -> None:
    _, new = inputs
    _, out, _ = run("explain", str(new))
    assert "(domainNames peers cannot be decided offline" in out
    assert "(nodes peers cannot be decided offline" in out
    web = out.split("\nshop/web ", 1)[1].split("\n\n", 1)[0]
    assert f"cannot be decided offline: {RULES}" in web
    blog = out.split("\nblog/blog ", 1)[1].split("\n\n", 1)[0]
    assert "cannot be decided offline" not in blog
    _, out, _ = run("explain", str(new), "-o", "json")
    endpoints = {e["endpoint"]: e for e in json.loads(out)["endpoints"]}
    assert endpoints["shop/web"]["cannotDecideOffline"][0] == RULES
    assert endpoints["blog/blog"]["cannotDecideOffline"] == []


def test_exposure_lists_the_undecided_connections(inputs: tuple[Path, Path]) -> None:
    _, new = inputs
    _, out, _ = run("exposure", str(new), "--port", "TCP/443")
    section = out.split("Cannot be decided offline", 1)[1]
    assert "\n  shop/* -> 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16" in section
    assert ("TCP/443  (shown as denied; admin/no-external egress[0] (allow-api), "
            "admin/no-external egress[1] (deny-nodes) may change it)") in section
    _, out, _ = run("exposure", str(new), "--port", "TCP/443", "-o", "json")
    undecided = json.loads(out)["cannotDecideOffline"]
    assert ("shop/*", "denied") in {(u["label"], u["shownAs"]) for u in undecided}
    assert all(u["label"] == "shop/*" and u["direction"] == "egress" for u in undecided)


def test_graph_legend_and_json_name_the_rules(inputs: tuple[Path, Path]) -> None:
    _, new = inputs
    _, out, _ = run("graph", str(new), "-o", "json")
    assert json.loads(out)["cannotDecideOffline"][0] == RULES
    _, out, _ = run("graph", str(new), "-o", "mermaid")
    assert "Cannot be decided offline" in out or "cannot be decided offline" in out.lower()


def test_diff_lines_and_note_name_the_rules(inputs: tuple[Path, Path]) -> None:
    old, new = inputs
    _, out, err = run("diff", str(old), str(new), "--port", "TCP/443")
    assert "the answer if admin/no-external egress[0] (allow-api)" in out
    assert f"podwall: cannot be decided offline: {RULES} in NEW" in err
    _, out, _ = run("diff", str(old), str(new), "--port", "TCP/443", "-o", "json")
    found = json.loads(out)["cannotDecideOffline"]
    assert [(r["input"], r["name"]) for r in found] == [("new", "allow-api"), ("new", "deny-nodes")]


def test_report_outside_section_lists_them(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    _, new = inputs
    page = tmp_path / "r.html"
    code, _, err = run("report", str(new), "--port", "TCP/443", "-o", str(page))
    assert code == 0, err
    html = page.read_text()
    assert "Cannot be decided offline" in html
