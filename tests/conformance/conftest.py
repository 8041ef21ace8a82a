"""Fixtures of the conformance suite: the shared x/y/z cluster and an engine builder."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from podwall.engine import Engine
from tests.conformance.reachability import cluster_yaml, engine_for

Build = Callable[..., Engine]


@pytest.fixture(scope="session")
def cluster() -> str:
    """The Namespace/Pod YAML every case shares (generated once per session)."""
    return cluster_yaml()


@pytest.fixture
def build(cluster: str) -> Build:
    """`build(*policy_docs, extra="", shuffle_seed=None)` -> an Engine over the shared cluster."""
    assert cluster.count("kind: Pod\n") == 9

    def make(*policies: str, extra: str = "", shuffle_seed: int | None = None) -> Engine:
        docs: Sequence[str] = [d for d in policies if d.strip()]
        return engine_for(list(docs), extra=extra, shuffle_seed=shuffle_seed)

    return make
