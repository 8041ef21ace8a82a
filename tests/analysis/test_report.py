"""`report`: the data the page looks up agrees with `check` on every pair, and the page is one
self-contained, offline file that stays small at 1,000 endpoints."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis import wording
from podwall.analysis.graph import build_graph
from podwall.analysis.render.html import report_html
from podwall.analysis.render.views import draw_views
from podwall.analysis.report import LintRow, Report, build_report, lint_function
from podwall.engine import DirectionVerdict, Engine
from podwall.manifests import load_cluster
from podwall.model import (
    Cluster,
    ContainerPort,
    Endpoint,
    Labels,
    NamedPortQuery,
    PortQuery,
    Protocol,
    build_cluster,
)
from tests.analysis.test_graph import three_tier
from tests.strategies import clusters, named_clusters, named_queries, port_queries

ROOT = Path(__file__).resolve().parents[2]
NAME = "kubernetes.io/metadata.name"


# -- reading the page's data the way report.js does -------------------------------------------------


class PageData:
    """A Python twin of the lookups in assets/report.js (kept as small as they are)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.d = data
        self.class_of = {m: i for i, c in enumerate(data["classes"]) for m in c["members"]}
        self._rows: dict[int, dict[int, int]] = {}

    def row(self, i: int) -> dict[int, int]:
        if i not in self._rows:
            out: dict[int, int] = {}
            for sid, ranges in self.d["rows"][i]:
                for part in ranges.split(","):
                    a, _, b = part.partition("-")
                    for k in range(int(a), int(b or a) + 1):
                        out[k] = sid
            self._rows[i] = out
        return self._rows[i]

    def side(self, cls: int, direction: str, peer: int, port: int) -> int | None:
        s = self.d["classes"][cls][direction]
        if s < 0:
            return None
        return self.row(self.d["sides"][s][port]).get(peer, -1)

    def lacks(self, cls: int, port: int) -> bool:
        return port in self.d["classes"][cls].get("noPort", [])

    def rules(self, sid: int | None) -> list[str]:
        return [] if sid is None or sid < 0 else [self.d["rules"][r] for r in self.d["ruleSets"][sid]]

    def tier_text(self, cls: int, direction: str, peer: int, port: int,
                  peer_name: str) -> str | None:
        """report.js's tierText: the words of check where a cluster policy applies."""
        t = self.d["classes"][cls].get("tierOut" if direction == "out" else "tierIn")
        if t is None or self.d["tierSides"][t][port] < 0:
            return None
        found: dict[int, int] = {}
        for tid, ranges in self.d["tierRows"][self.d["tierSides"][t][port]]:
            for part in ranges.split(","):
                a, _, b = part.partition("-")
                for k in range(int(a), int(b or a) + 1):
                    found[k] = tid
        if peer not in found:
            return None
        return str(self.d["tierTexts"][found[peer]]).replace("{peer}", peer_name)

    def isolated_by(self, cls: int, direction: str) -> list[str]:
        key = "isoOut" if direction == "out" else "isoIn"
        return [self.d["policies"][i] for i in self.d["classes"][cls][key]]

    def side_text(self, cls: int, direction: str, peer: int, port: int, subject: str,
                  peer_name: str) -> str:
        """As report.js writes a side (names passed in: the page uses class names)."""
        phrases: dict[str, str] = self.d["phrases"]
        words = "egress" if direction == "out" else "ingress"
        sid = self.side(cls, direction, peer, port)
        tiered = self.tier_text(cls, direction, peer, port, peer_name)
        if tiered is not None:
            text = tiered
        elif sid is None:
            text = phrases["open"].format(subject=subject, direction=words)
        elif sid == -1:
            text = phrases["denied"].format(
                isolated=", ".join(self.isolated_by(cls, direction)), peer=peer_name)
        else:
            text = phrases["admitted"].format(rules=", ".join(self.rules(sid)))
        return phrases["where"].format(direction=words, subject=subject) + " " + text


def _assert_side(page: PageData, verdict: DirectionVerdict, cls: int, direction: str, peer: int,
                 port: int) -> None:
    sid = page.side(cls, direction, peer, port)
    assert page.isolated_by(cls, direction) == list(verdict.isolated_by)
    if not verdict.isolated:
        assert sid is None
    elif verdict.allowed:
        assert sorted(page.rules(sid)) == sorted(str(r) for r in verdict.admitted_by)
    else:
        assert sid == -1


def _agree(cluster: Cluster, ports: list[PortQuery]) -> None:
    engine = Engine(cluster)
    report = build_report(engine, ports=ports)
    page = PageData(report.data)
    names = [e.key for e in cluster.endpoints]
    for p, port in enumerate(ports):
        for src in names:
            for dst in names:
                if src == dst:
                    continue
                verdict = engine.check(src, dst, port)
                cs, cd = page.class_of[src], page.class_of[dst]
                _assert_side(page, verdict.egress, cs, "out", cd, p)
                _assert_side(page, verdict.ingress, cd, "in", cs, p)
                both = page.side(cs, "out", cd, p) != -1 and page.side(cd, "in", cs, p) != -1
                assert both == verdict.allowed, (src, dst, port)


@settings(max_examples=150, deadline=None)
@given(clusters(max_endpoints=7, max_policies=5),
       st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_page_data_agrees_with_check_on_every_pair(cluster: Cluster,
                                                   ports: list[PortQuery]) -> None:
    _agree(cluster, ports)


@settings(max_examples=100, deadline=None)
@given(named_clusters(), st.lists(named_queries, min_size=1, max_size=2, unique=True))
def test_page_data_resolves_a_named_port_at_each_destination(
        cluster: Cluster, names: list[NamedPortQuery]) -> None:
    engine = Engine(cluster)
    page = PageData(build_report(engine, ports=names).data)
    keys = [e.key for e in cluster.endpoints]
    for p, name in enumerate(names):
        for dst in cluster.endpoints:
            number = name.resolve(dst.ports)
            cd = page.class_of[dst.key]
            assert page.lacks(cd, p) == (number is None), (dst.key, name)
            if number is None:
                continue
            for src in keys:
                if src == dst.key:
                    continue
                verdict = engine.check(src, dst.key, number)
                cs = page.class_of[src]
                _assert_side(page, verdict.egress, cs, "out", cd, p)
                _assert_side(page, verdict.ingress, cd, "in", cs, p)
                both = page.side(cs, "out", cd, p) != -1 and page.side(cd, "in", cs, p) != -1
                assert both == verdict.allowed, (src, dst.key, name)


def test_three_tier_data_agrees_with_check() -> None:
    _agree(three_tier(), [PortQuery(Protocol.TCP, p) for p in (53, 80, 5432, 8080)]
           + [PortQuery(Protocol.UDP, 53)])


def test_page_words_are_check_words() -> None:
    """The page's reason sentences are `podwall check`'s, from the same templates."""
    cluster = three_tier()
    engine = Engine(cluster)
    ports = [PortQuery(Protocol.TCP, p) for p in (53, 80, 5432, 8080)]
    page = PageData(build_report(engine, ports=ports).data)
    for p, port in enumerate(ports):
        for src in cluster.endpoints:
            for dst in cluster.endpoints:
                if src == dst:
                    continue
                verdict = engine.check(src.key, dst.key, port)
                cs, cd = page.class_of[src.key], page.class_of[dst.key]
                assert page.side_text(cs, "out", cd, p, src.key, dst.key) == \
                    wording.direction_line(verdict.egress, dst.key)
                assert page.side_text(cd, "in", cs, p, dst.key, src.key) == \
                    wording.direction_line(verdict.ingress, src.key)


# -- the page ---------------------------------------------------------------------------------------


def _page(report: Report) -> str:
    return report_html(report, draw_views(report))


needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed")


@needs_dot
def test_page_is_self_contained_and_offline() -> None:
    report = build_report(Engine(three_tier()), title="shop <review>")
    html = _page(report)
    assert html.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in html  # the browser refuses any fetch
    assert "<title>shop &lt;review&gt;</title>" in html
    for pattern in (r"<link\b", r"<img\b", r"<iframe\b", r"\bsrc\s*=", r"url\(", r"@import",
                    r"fetch\(", r"XMLHttpRequest", r"WebSocket"):
        assert not re.search(pattern, html), pattern
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    blob = re.search(r'<script type="application/json" id="podwall-data">(.*?)</script>', html,
                     re.DOTALL)
    assert blob is not None
    data = json.loads(blob.group(1))
    assert {k: v for k, v in data.items() if k not in ("overview", "opensOn", "hasWhole")} \
        == json.loads(json.dumps(report.data))
    assert data["opensOn"] == "whole" and data["hasWhole"]  # small: it opens on every box
    # The overview, one picture per namespace, and the whole cluster, each in a <template>.
    assert html.count("<svg") == 2 + report.counts["namespaces"] and 'id="n0"' in html


@needs_dot
def test_json_cannot_close_the_script_element() -> None:
    eps = [Endpoint("x", "a", Labels({"app": "</script><script>alert(1)</script>"}),
                    (ContainerPort(80),))]
    html = _page(build_report(Engine(build_cluster([], eps, []))))
    blob = html.split('id="podwall-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in blob and json.loads(blob)["classes"][0]["labels"].startswith("app=</script>")


@needs_dot
def test_lint_section_says_when_lint_is_unavailable() -> None:
    html = _page(build_report(Engine(three_tier()), lint=None))
    assert wording.lint_unavailable_words() in html
    rows = [LintRow("PW101", "warning", "NetworkPolicy shop/web-to-api", "policies.yaml", 54,
                    "egress to a named port", "name the port number")]
    html = _page(build_report(Engine(three_tier()), lint=rows))
    assert "PW101" in html and "policies.yaml:54" in html
    assert wording.lint_unavailable_words() not in html


def test_lint_is_wired_when_it_exists() -> None:
    found = lint_function()
    try:
        importlib.import_module("podwall.analysis.lint")
    except ImportError:
        assert found is None
    else:
        assert found is not None


@needs_dot
def test_policies_are_explained_in_words() -> None:
    html = _page(build_report(Engine(three_tier())))
    assert "ingress: no rules, so it admits nothing (ingress deny)" in html
    assert "admits from pods with app=web in namespace shop, on TCP port named &#x27;http&#x27;" \
        in html
    assert "every endpoint in namespace shop (3)" in html


# -- at 1,000 endpoints --------------------------------------------------------------------------


def generated(pods: int) -> tuple[str, Cluster]:
    """benchmarks/generate.py --pods N, through the manifest loader (cached per session)."""
    key = str(pods)
    if key not in _GENERATED:
        out = Path(tempfile.mkdtemp(prefix="podwall-gen-"))
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--pods",
                        str(pods), "--out", str(out)], check=True, capture_output=True)
        result = load_cluster([str(out)], namespace="default", pod_cidr="10.0.0.0/8")
        assert not [d for d in result.diagnostics if d.severity.name == "ERROR"]
        _GENERATED[key] = result.cluster
        shutil.rmtree(out)
    return f"benchmarks/generate.py --pods {pods}", _GENERATED[key]


def generated_1000() -> tuple[str, Cluster]:
    return generated(1000)


_GENERATED: dict[str, Cluster] = {}


REPORT_BUDGET = 3 * 1024 * 1024  # bytes; measured ~0.6 MB for 1,000 endpoints


@needs_dot
def test_report_at_1000_endpoints_stays_small(capsys: pytest.CaptureFixture[str],
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    source, cluster = generated_1000()
    assert len(cluster.endpoints) >= 1000
    started = time.perf_counter()
    report = build_report(Engine(cluster), title="1,000 endpoints")
    built = time.perf_counter()
    html = _page(report)
    drawn = time.perf_counter()
    size = len(html.encode())
    path = tmp_path_factory.mktemp("report") / "report-1000.html"
    path.write_text(html, encoding="utf-8")
    with capsys.disabled():
        print(f"\nreport at {len(cluster.endpoints)} endpoints ({source}): {size / 1024:.0f} KiB "
              f"({report.counts['classes']} classes, {report.counts['boxes']} boxes, "
              f"{len(report.graph.edges)} arrows, {len(report.graph.hubs)} hubs); data "
              f"{built - started:.2f} s, picture+page {drawn - built:.2f} s -> {path}")
    assert size < REPORT_BUDGET
    assert report.counts["boxes"] < report.counts["classes"] <= len(cluster.endpoints)


def test_graph_at_1000_endpoints_is_aggregated() -> None:
    _, cluster = generated_1000()
    graph = build_graph(Engine(cluster))
    pairs_allowed = 0
    engine = Engine(cluster)
    matrix = engine.matrix()
    for port in matrix.ports:
        pairs_allowed += int(matrix.verdicts[port].dense().sum())
    assert len(graph.nodes) < len(cluster.endpoints) / 4
    assert len(graph.edges) < pairs_allowed / 4


def test_outside_section_names_addresses_never_a_pod() -> None:
    report = build_report(Engine(three_tier()))
    html = _page(report)
    assert '<section id="outside">' in html
    assert "-&gt; shop/web TCP/80" in html  # `ADDRESSES -> shop/web TCP/80`, escaped
    data = report.to_json()["exposure"]
    (web,) = [o for o in data["ingress"] if o["endpoints"] == ["shop/web"]]
    assert web["ports"] == ["TCP/80"] and web["addresses"].startswith("0.0.0.0/0 except")
    # the picture draws the same rule from the outside node, with the addresses on the arrow
    (arrow,) = [e for e in report.graph.edges if e.src == "outside"]
    assert report.graph.nodes[arrow.dst].name == "shop/web"
    assert arrow.addresses == web["addresses"]
