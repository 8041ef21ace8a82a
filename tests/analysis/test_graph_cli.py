"""`podwall graph` and `podwall report` on the examples: golden pictures and the CLI contract.

PODWALL_UPDATE_GOLDEN=1 rewrites tests/golden/graph/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("output", ["dot", "mermaid"])
def test_golden_pictures_of_the_examples(example: str, output: str) -> None:
    code, out, err = run("graph", f"examples/{example}", "-o", output)
    assert code == 0, err
    assert_golden(f"graph/{example}.{'dot' if output == 'dot' else 'mmd'}", out)


@pytest.mark.parametrize("output", ["dot", "mermaid"])
def test_golden_neighbourhood(output: str) -> None:
    code, out, err = run("graph", "examples/three-tier", "--focus", "shop/api", "-o", output)
    assert code == 0, err
    assert_golden(f"graph/three-tier-focus-api.{'dot' if output == 'dot' else 'mmd'}", out)


def test_port_filter_keeps_only_those_ports() -> None:
    code, out, _ = run("graph", "examples/three-tier", "--port", "TCP/5432", "--port", "5432")
    assert code == 0
    assert 'label="TCP/5432"' in out and "TCP/8080" not in out and "UDP/53" not in out


@needs_dot
def test_svg_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "shop.svg"
    code, out, err = run("graph", "examples/three-tier", "-o", "svg", "--out", str(target))
    assert code == 0 and out == "", err
    text = target.read_text()
    assert "<svg" in text and 'id="n0"' in text


def test_svg_without_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = run("graph", "examples/three-tier", "-o", "svg")
    assert code == 2
    assert "Graphviz `dot` was not found" in err and "Traceback" not in err


def test_unknown_focus_is_a_clear_error() -> None:
    code, _, err = run("graph", "examples/three-tier", "--focus", "shop/nope")
    assert code == 2 and "no endpoint 'shop/nope'" in err


def test_invalid_input_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"
                   "spec: {podSelector: {}, policyTypes: [Sideways]}\n")
    assert run("graph", str(bad))[0] == 1


@needs_dot
def test_report_writes_one_file(tmp_path: Path) -> None:
    target = tmp_path / "shop.html"
    code, out, err = run("report", "examples/three-tier", "--out", str(target))
    assert code == 0, err
    assert out == "" and "warning" not in err
    assert f"wrote {target}" in err and "4 endpoints in 2 namespaces as 4 boxes" in err
    html = target.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<title>podwall report: examples/three-tier" \
        in html


@needs_dot
def test_report_carries_the_lint_findings(tmp_path: Path) -> None:
    from podwall.analysis.report import lint_function
    from podwall.analysis.wording import lint_unavailable_words

    target = tmp_path / "dns.html"
    assert run("report", "examples/dns-forgotten", "--out", str(target))[0] == 0
    html = target.read_text()
    if lint_function() is None:
        assert lint_unavailable_words() in html
    else:
        assert lint_unavailable_words() not in html
        assert '<table class="lint">' in html and "examples/dns-forgotten/all.yaml:" in html


@needs_dot
def test_svg_of_a_2000_pod_cluster_is_drawn() -> None:
    """Graphviz's per-cluster ranking failed here ("trouble in init_rank"); newrank does not."""
    from podwall.analysis.graph import build_graph
    from podwall.analysis.render.dot import graph_dot
    from podwall.analysis.render.svg import dot_to_svg
    from podwall.engine import Engine
    from tests.analysis.test_report import generated

    _, cluster = generated(2000)
    picture = build_graph(Engine(cluster))
    svg = dot_to_svg(graph_dot(picture))
    assert svg.count('class="node"') >= len(picture.nodes)
    assert svg.count('class="edge"') == len(picture.edges)


@needs_dot
def test_report_o_file_still_works_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "old.html"
    code, _, err = run("report", "examples/three-tier", "-o", str(target))
    assert code == 0, err
    assert f"-o is the output format (html|json) now; write --out {target}" in err
    assert target.read_text().startswith("<!DOCTYPE html>")
    code, _, err = run("report", "examples/three-tier", "-o", "x.html", "--out", "y.html")
    assert code == 2 and "is not a format" in err


def test_report_json_is_the_model() -> None:
    code, out, err = run("report", "examples/dns-forgotten", "-o", "json")
    assert code == 0, err
    model = json.loads(out)
    assert model["counts"]["namespaces"] == len(model["overview"]["namespaces"])
    assert {n["id"] for n in model["graph"]["nodes"]} >= {"n0", "n1"}
    severities = [f["severity"] for f in model["lint"]]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__) and "error" in severities


def test_report_lint_table_lists_errors_first(tmp_path: Path) -> None:
    from podwall.analysis.render.html import _lint_section
    from podwall.analysis.report import LintRow, sort_lint

    rows = sort_lint([LintRow("PW009", "info", "a", "f.yaml", 1, "m", "x"),
                      LintRow("PW004", "warning", "b", "f.yaml", 2, "m", "x"),
                      LintRow("PW001", "error", "c", "g.yaml", 9, "m", "x"),
                      LintRow("PW002", "error", "d", "f.yaml", 5, "m", "x")])
    assert [r.id for r in rows] == ["PW002", "PW001", "PW004", "PW009"]
    html = _lint_section(rows)
    assert html.index("PW002") < html.index("PW001") < html.index("PW004") < html.index("PW009")


def test_graph_json_is_the_model() -> None:
    code, out, err = run("graph", "examples/three-tier", "-o", "json")
    assert code == 0, err
    model = json.loads(out)
    assert set(model) == {"ports", "focus", "omitsOpenPairs", "namespaces", "nodes", "hubs",
                          "edges"}
    names = {n["id"]: f"{n['namespace']}/{n['label']}" for n in model["nodes"]}
    arrows = {(names.get(e["from"], e["from"]), names.get(e["to"], e["to"])): e["ports"]
              for e in model["edges"]}
    assert arrows[("shop/web", "shop/api")] == ["TCP/8080"]
    assert ("shop/web", "shop/db") not in arrows


@needs_dot
def test_report_of_a_2000_pod_cluster_is_drawn() -> None:
    """Overview, one picture per namespace; the whole picture is left out at this size."""
    from podwall.analysis.render.html import report_html
    from podwall.analysis.render.views import draw_views
    from podwall.analysis.report import build_report
    from podwall.engine import Engine
    from tests.analysis.test_report import generated

    _, cluster = generated(2000)
    report = build_report(Engine(cluster))
    views = draw_views(report)
    assert views.whole is None and views.opens_on == "overview"
    assert views.overview.count('class="node"') == report.counts["namespaces"]
    assert len(views.namespaces) == report.counts["namespaces"]
    assert all(v.startswith("<svg") for v in views.namespaces)
    assert '<template id="view-overview">' in report_html(report, views)


def test_graph_namespaces() -> None:
    code, out, err = run("graph", "examples/three-tier", "--namespaces", "-o", "json")
    assert code == 0, err
    model = json.loads(out)
    assert [n["name"] for n in model["namespaces"]] == ["kube-system", "shop"]
    arrows = {(a["from"], a["to"]): (a["ports"], a["pairs"]) for a in model["arrows"]}
    # web, api and db may ask coredns for DNS; anyone may reach web on TCP/80.
    assert arrows == {("ns1", "ns0"): (["TCP/53", "UDP/53"], 3), ("ns0", "ns1"): (["TCP/80"], 1)}
    code, out, _ = run("graph", "examples/three-tier", "--namespaces")
    assert code == 0 and "label=<TCP/53 · UDP/53<br/>3 endpoint pairs>" in out
    code, out, _ = run("graph", "examples/three-tier", "--namespaces", "-o", "mermaid")
    assert code == 0 and 'ns1 -- "TCP/53 · UDP/53<br/>3 endpoint pairs" --> ns0' in out
    code, _, err = run("graph", "examples/three-tier", "--namespaces", "--focus", "shop/web")
    assert code == 2 and "pick one" in err


@needs_dot
def test_graph_namespaces_svg_of_a_2000_pod_cluster() -> None:
    from podwall.analysis.graph import boxes, class_layout
    from podwall.analysis.overview import build_overview
    from podwall.analysis.render.dot import overview_dot
    from podwall.analysis.render.svg import dot_to_svg
    from podwall.engine import Engine
    from tests.analysis.test_report import generated

    _, cluster = generated(2000)
    engine = Engine(cluster)
    matrix = engine.matrix()
    overview = build_overview(matrix, boxes(engine, matrix, class_layout(engine, matrix)))
    svg = dot_to_svg(overview_dot(overview))
    assert svg.count('class="node"') == len(overview.namespaces) >= 20
    assert svg.count('class="edge"') == len(overview.drawn)
