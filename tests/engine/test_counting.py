"""Counting allowed class pairs: the factored count against brute force on both of its paths
(egress rows sparser than ingress rows, and the reverse), and its popcount on any numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine.matrix import PortVerdicts, RowTable, _popcount


@st.composite
def verdicts(draw: st.DrawFn) -> PortVerdicts:
    size = draw(st.integers(1, 70))
    tables = []
    for density in (draw(st.floats(0, 1)), draw(st.floats(0, 1))):
        rows = draw(st.integers(1, 6))
        seed = draw(st.integers(0, 2**32 - 1))
        bits = np.random.default_rng(seed).random((rows, size)) < density
        width = -(-size // 64) * 8 if draw(st.booleans()) else -(-size // 8)  # padded or not
        packed = np.zeros((rows, width), dtype=np.uint8)
        packed[:, :-(-size // 8)] = np.packbits(bits, axis=1)
        of = np.array(draw(st.lists(st.integers(0, rows - 1), min_size=size, max_size=size)),
                      dtype=np.int64)
        tables.append(RowTable(packed, of, size))
    return PortVerdicts(tables[0], tables[1])


@settings(max_examples=300, deadline=None)
@given(verdicts())
def test_factored_count_equals_brute_force(v):
    assert v.count_allowed() == v.count_allowed_dense() == int(v.dense().sum())


@pytest.mark.parametrize("swar", [False, True])
def test_popcount_with_and_without_numpy_bitwise_count(monkeypatch, swar):
    if swar:
        monkeypatch.delattr(np, "bitwise_count", raising=False)
    words = np.random.default_rng(3).integers(0, 2**64 - 1, size=(17, 5), dtype=np.uint64,
                                              endpoint=True)
    expected = [sum(bin(int(w)).count("1") for w in row) for row in words]
    assert _popcount(words).tolist() == expected


def test_distinct_rows_stay_exact_when_hashes_collide(monkeypatch):
    """With every hash weight 1, rows with equal word sums collide: the exact path must run."""
    from podwall.engine import compiled

    monkeypatch.setattr(compiled, "_HASH", np.ones(1 << 12, dtype=np.uint64))
    rows = np.array([[1, 2], [2, 1], [1, 2], [3, 0], [0, 0]], dtype=np.uint64)
    distinct, inverse = compiled.unique_rows(rows)
    assert len(distinct) == 4
    assert (distinct[inverse] == rows).all()
