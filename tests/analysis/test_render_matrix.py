"""The streamed -o json of the matrix is byte for byte the plain JSON of Matrix.to_json()."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from podwall.analysis.render.matrix import matrix_json, write_matrix
from podwall.engine import DenseVerdicts, Engine, Matrix
from podwall.manifests import load_cluster
from podwall.model import Cluster, PortQuery
from tests.strategies import clusters

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
