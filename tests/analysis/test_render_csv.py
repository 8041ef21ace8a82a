"""`matrix -o csv` is a documented contract: the same bytes as a plain writer of every shown pair.

The writer joins each row from cached class rows (`render.matrix.write_csv`); the reference here
is Python's csv module over `Matrix.is_allowed`, pair by pair, on a generated cluster with many
classes, hosts outside the cluster and every kind of view.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections import Counter

import pytest

from podwall.analysis.filters import MatrixView, View, parse_selector
from podwall.analysis.render import matrix as render
from podwall.engine import Engine, ExternalHost, Matrix, Target
from podwall.model import Cluster, parse_port_or_name
from tests.analysis.test_report import generated

EXTERNALS = ["192.0.2.10", "198.51.100.7"]
PORTS = ["TCP/8080", "UDP/53", "TCP/5432", "TCP/http"]


def reference(matrix: Matrix, targets: tuple[Target, ...], view: View) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["port", "from", "to", "allowed"])
    names = matrix.endpoints
    for port in matrix.ports:
        for i, src in enumerate(targets):
            for j, dst in enumerate(targets):
                if view.shows_pair(src, dst):
                    writer.writerow([str(port), names[i], names[j],
                                     "true" if matrix.is_allowed(port, i, j) else "false"])
    return text.getvalue().encode()


def _setup() -> tuple[Cluster, Matrix, tuple[Target, ...]]:
    _, cluster = generated(150)
    matrix = Engine(cluster).matrix([parse_port_or_name(p) for p in PORTS], externals=EXTERNALS)
    hosts = tuple(ExternalHost(ipaddress.ip_address(a)) for a in EXTERNALS)
    return cluster, matrix, (*cluster.endpoints, *hosts)


def _views(cluster: Cluster) -> list[View]:
    busy = Counter(ep.namespace for ep in cluster.endpoints).most_common(1)[0][0]
    middle = cluster.endpoints[len(cluster.endpoints) // 2].key  # splits its class off
    return [View(), View(namespace=busy), View(focus=middle),
            View(sources=parse_selector("tier in (web,api)")),
            View(namespace=busy, destinations=parse_selector("tier!=db")),
            View(focus=middle, sources=parse_selector("!tier"))]


def test_csv_is_the_plain_writer_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """Class rows are computed in blocks: the default (every class at once here), one class a
    block, and three classes a block, so blocks end inside a run of rows of one class and rows
    go back to an earlier block (the focus endpoint's own class sits inside its class's run)."""
    cluster, matrix, targets = _setup()
    assert len(set(matrix.class_of.tolist())) > 20
    assert len(matrix.endpoints) == len(cluster.endpoints) + len(EXTERNALS)
    for view in _views(cluster):
        mv = MatrixView(matrix, targets, view)
        expected = reference(matrix, targets, view)
        assert expected.count(b"\n") > 1 + len(PORTS)  # the view shows some pairs
        for classes_per_block in (0, 1, 3):
            if classes_per_block:
                monkeypatch.setattr(render, "BLOCK_CELLS",
                                    classes_per_block * len(matrix.endpoints))
            out = io.BytesIO()
            render.write_matrix(matrix, "csv", out, mv)
            assert out.getvalue() == expected, (view.flags(), classes_per_block)
