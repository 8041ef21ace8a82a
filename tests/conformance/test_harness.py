"""The harness checks itself: a wrong table must fail, loudly and readably, through each path."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from podwall.engine import Engine
from podwall.model import PortQuery
from tests.conformance.conftest import Build
from tests.conformance.reachability import Reachability, assert_matches, policy

ISOLATE_X_A = policy("isolate-a", "x", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress]")


def test_a_wrong_expectation_fails_with_tables_and_a_diff(build: Build) -> None:
    e = build(ISOLATE_X_A)
    wrong = Reachability("TCP/80", externals=("192.0.2.10",)).expect_all_ingress("x/b", False)
    with pytest.raises(AssertionError) as failure:
        assert_matches(e, wrong)
    text = str(failure.value)
    for part in ("TCP/80 by matrix", "TCP/80 by check", "y/a -> x/a: expected allowed",
                 "expected:\n", "actual (check):\n", "comparison (X = differs):\n",
                 "(e1 = 192.0.2.10)"):
        assert part in text, part


class CheckDisagrees:
    """An engine whose scalar answer is wrong on one pair: only `check` may be blamed."""

    def __init__(self, engine: Engine, pair: tuple[str, str]) -> None:
        self.engine, self.pair = engine, pair

    def matrix(self, *args: Any, **kwargs: Any) -> Any:
        return self.engine.matrix(*args, **kwargs)

    def check(self, src: str, dst: str, port: PortQuery) -> Any:
        verdict = self.engine.check(src, dst, port)
        if (src, dst) == self.pair:
            return dataclasses.replace(verdict, allowed=not verdict.allowed)
        return verdict


def test_check_and_matrix_are_each_compared(build: Build) -> None:
    e = build(ISOLATE_X_A)
    right = Reachability("TCP/80").expect_all_ingress("x/a", False)
    assert_matches(e, right)
    with pytest.raises(AssertionError) as failure:
        assert_matches(CheckDisagrees(e, ("y/c", "x/a")), right)  # type: ignore[arg-type]
    text = str(failure.value)
    assert "TCP/80 by check: 1 of 81 pairs differ" in text
    assert "by matrix" not in text


def test_expectation_editing() -> None:
    r = Reachability("UDP/53").expect_peer("x/*", "*", False)
    assert r.table[("x/a", "x/a")], "a pod cannot block access to itself"
    assert not r.table[("x/a", "y/c")] and r.table[("y/c", "x/a")]
    with pytest.raises(KeyError):
        r.expect("x/a", "w/a", False)
    with pytest.raises(KeyError):
        r.expect_peer("q/*", "*", False)
