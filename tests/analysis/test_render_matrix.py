"""The streamed -o json of the matrix is byte for byte the plain JSON of Matrix.to_json()."""

from __future__ import annotations

import io
import ipaddress
import json
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis.filters import MatrixView, View
from podwall.analysis.render.matrix import matrix_json, write_matrix
from podwall.engine import DenseVerdicts, Engine, ExternalHost, Matrix, Target
from podwall.manifests import load_cluster
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PortQuery,
    Protocol,
    Rule,
    build_cluster,
)
from tests.strategies import clusters, views

ROOT = Path(__file__).resolve().parents[2]


def plain(matrix: Matrix) -> str:
    return json.dumps(matrix.to_json(), separators=(",", ":")) + "\n"


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").iterdir()))
def test_examples_with_outside_hosts(example: str) -> None:
    cluster = load_cluster([str(ROOT / "examples" / example)]).cluster
    matrix = Engine(cluster).matrix(externals=["192.0.2.10", "198.51.100.7"])
    assert matrix_json(matrix) == plain(matrix)


@settings(max_examples=60, deadline=None)
@given(clusters())
def test_random_clusters(cluster: Cluster) -> None:
    matrix = Engine(cluster).matrix([PortQuery.parse("TCP/80"), PortQuery.parse("UDP/53")],
                                    externals=["192.0.2.1"])
    assert matrix_json(matrix) == plain(matrix)


def test_rows_of_one_class_differ_only_on_the_diagonal_and_edges_are_exact() -> None:
    # one class of three endpoints that may not reach each other, and a last column reaching
    # itself: the splice around each endpoint's own `true` must be exact at both ends
    allowed = np.zeros((2, 2), dtype=np.bool_)
    allowed[1, 0] = True
    port = PortQuery.parse("TCP/1")
    matrix = Matrix(("a/x", "a/y", "a/z", "b/w"), (port,), np.array([0, 0, 0, 1], dtype=np.int64),
                    {port: DenseVerdicts(allowed)})
    data = json.loads(matrix_json(matrix))
    assert data["allowed"]["TCP/1"] == [[True, False, False, False], [False, True, False, False],
                                        [False, False, True, False], [True, True, True, True]]
    assert matrix_json(matrix) == plain(matrix)


def test_other_formats_go_to_the_stream_as_utf8() -> None:
    cluster = load_cluster([str(ROOT / "examples" / "three-tier")]).cluster
    matrix = Engine(cluster).matrix()
    out = io.BytesIO()
    write_matrix(matrix, "table", out)
    assert "✓" in out.getvalue().decode()


# -- views, summaries, streaming -------------------------------------------------------------


def _targets(cluster: Cluster, matrix: Matrix) -> tuple[Target, ...]:
    hosts = [ExternalHost(ipaddress.ip_address(n)) for n in matrix.endpoints[len(cluster.endpoints):]]
    return (*cluster.endpoints, *hosts)


def _render(matrix: Matrix, output: str, mv: MatrixView | None = None) -> str:
    out = io.BytesIO()
    write_matrix(matrix, output, out, mv)
    return out.getvalue().decode()


@settings(max_examples=80, deadline=None)
@given(clusters(max_endpoints=7), st.data())
def test_csv_md_and_json_are_the_view_cell_by_cell(cluster: Cluster, data: st.DataObject) -> None:
    view = data.draw(views(cluster))
    ports = [PortQuery.parse("TCP/80"), PortQuery.parse("UDP/53")]
    matrix = Engine(cluster).matrix(ports, externals=["192.0.2.1"])
    targets = _targets(cluster, matrix)
    mv = MatrixView(matrix, targets, view)
    names = matrix.endpoints
    n = len(names)
    expected = ["port,from,to,allowed"] + [
        f"{port},{names[i]},{names[j]},{'true' if matrix.is_allowed(port, i, j) else 'false'}"
        for port in ports for i in range(n) for j in range(n)
        if view.shows_pair(targets[i], targets[j])]
    assert _render(matrix, "csv", mv).splitlines() == expected
    rows = [i for i in range(n) if any(view.shows_pair(targets[i], t) for t in targets)]
    cols = [j for j in range(n) if any(view.shows_pair(t, targets[j]) for t in targets)]
    md = _render(matrix, "md", mv).splitlines()
    for port in ports:
        at = md.index(f"### {port}")
        assert md[at + 2] == "| from \\ to | " + " | ".join(f"`{names[j]}`" for j in cols) + " |"
        for k, i in enumerate(rows):
            cells = ["" if not view.shows_pair(targets[i], targets[j])
                     else "✅" if matrix.is_allowed(port, i, j) else "❌" for j in cols]
            assert md[at + 4 + k] == f"| `{names[i]}` |" + "".join(f" {c} |" for c in cells)
    data_json = json.loads(_render(matrix, "json", mv))
    shown = sorted(set(rows) | set(cols))
    assert data_json["endpoints"] == [names[i] for i in shown]
    assert data_json["allowed"]["TCP/80"] == [
        [matrix.is_allowed(ports[0], i, j) for j in shown] for i in shown]


def _wide(pods: int) -> Cluster:
    """`pods` endpoints in two namespaces, web -> db allowed on TCP/5432 only."""
    eps = [Endpoint("a" if i % 2 else "b", f"p{i:03d}", Labels({"app": "db" if i % 3 else "web"}))
           for i in range(pods)]
    deny = NetworkPolicy("a", "db", LabelSelector.of({"app": "db"}),
                         frozenset({Direction.INGRESS}),
                         ingress=(Rule((Peer(pod_selector=LabelSelector.of({"app": "web"})),),
                                       (PolicyPort(Protocol.TCP, 5432),)),))
    return build_cluster([], eps, [deny])


@pytest.mark.parametrize(("pods", "summarised"), [(50, False), (51, True)])
def test_table_summarises_above_the_threshold_only(pods: int, summarised: bool) -> None:
    cluster = _wide(pods)
    matrix = Engine(cluster).matrix([PortQuery.parse("TCP/5432")])
    text = _render(matrix, "table", MatrixView(matrix, cluster.endpoints, View()))
    assert ("namespace by namespace" in text) is summarised
    assert ("Drill down" in text) is summarised
    assert (f"{pods} {cluster.endpoints[-1].key}" in text) is not summarised
    full = _render(matrix, "table", MatrixView(matrix, cluster.endpoints, View(full=True)))
    assert "namespace by namespace" not in full and cluster.endpoints[-1].key in full


def test_summary_counts_namespace_pairs_exactly() -> None:
    cluster = _wide(120)
    port = PortQuery.parse("TCP/5432")
    matrix = Engine(cluster).matrix([port])
    text = _render(matrix, "table", MatrixView(matrix, cluster.endpoints, View()))
    names = matrix.endpoints
    n = len(names)
    allowed = sum(1 for i in range(n) for j in range(n) if i != j and matrix.is_allowed(port, i, j))
    assert f"TCP/5432: {allowed} of {n * (n - 1)} pairs allowed" in text
    from_a = sum(1 for i in range(n) for j in range(n) if i != j and names[i].startswith("a/")
                 and matrix.is_allowed(port, i, j))
    row = next(line for line in text.splitlines() if " a (60)" in line)
    assert row.endswith(f"  {from_a}/{60 * 119}")
    # -n narrows the summary: only pairs with an end in b
    narrowed = _render(matrix, "table", MatrixView(matrix, cluster.endpoints, View(namespace="b")))
    assert "with -n b" in narrowed


class _Sink(io.RawIOBase):
    """Counts bytes, keeps none (so tracemalloc sees the renderer, not the output)."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


_GENERATED: dict[str, Cluster] = {}


def _generated_2000() -> Cluster:
    if "c" not in _GENERATED:
        out = Path(tempfile.mkdtemp(prefix="podwall-gen-"))
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--pods",
                        "2000", "--out", str(out)], check=True, capture_output=True)
        _GENERATED["c"] = load_cluster([str(out)], pod_cidr="10.0.0.0/8").cluster
        shutil.rmtree(out)
    return _GENERATED["c"]


@pytest.mark.parametrize("output", ["csv", "md", "table"])
def test_memory_is_bounded_at_2000_pods(output: str) -> None:
    """Streamed from class rows: the peak stays far below n x n (4M cells; the whole CSV of
    one port is ~200 MB), and does not grow with the output."""
    cluster = _generated_2000()
    matrix = Engine(cluster).matrix([PortQuery.parse("TCP/8080")])
    mv = MatrixView(matrix, cluster.endpoints, View(full=output == "table"))
    sink = _Sink()
    tracemalloc.start()
    try:
        write_matrix(matrix, output, sink, mv)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n = len(cluster.endpoints)
    assert sink.size > n * n  # at least a byte per pair was written...
    assert peak < 24 * 2**20, f"{output}: peak {peak / 2**20:.1f} MiB"  # ...but never held
