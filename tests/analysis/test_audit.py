"""Audit mode in the analysis: both views through the engine, and how they differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.analysis.audit import AuditChange, audit_check, change_of
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import Cluster, PortQuery, Protocol

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "manifests" / "audit"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return load_cluster([str(FIXTURE)]).cluster


def judge(cluster: Cluster, src: str, dst: str, port: int) -> tuple[bool, bool, str, tuple[str, ...]]:
    av = audit_check(Engine(cluster), Engine(cluster.audit_view()), src, dst,
                     PortQuery(Protocol.TCP, port))
    return av.enforced.allowed, av.audit.allowed, av.change.value, av.involved


def test_an_audited_deny_all_does_not_isolate_now_but_denies_under_audit(cluster: Cluster) -> None:
    assert judge(cluster, "shop/db", "shop/web", 80) == (True, False, "denies", ("shop/deny-all",))


def test_an_audited_allow_does_not_admit_now_but_allows_under_audit(cluster: Cluster) -> None:
    assert judge(cluster, "shop/web", "shop/db", 80) == (
        False, True, "allows", ("shop/db-allow-80", "shop/deny-all"))


def test_a_connection_both_views_agree_on_is_no_change(cluster: Cluster) -> None:
    assert judge(cluster, "shop/web", "shop/db", 5432)[:3] == (True, True, "none")
    assert judge(cluster, "shop/web", "shop/db", 81)[:3] == (False, False, "none")


def test_the_enforced_view_ignores_audited_policies(cluster: Cluster) -> None:
    verdict = Engine(cluster).check("shop/db", "shop/web", PortQuery(Protocol.TCP, 80))
    assert verdict.allowed and not verdict.ingress.isolated


@pytest.mark.parametrize(("now", "audit", "change"), [
    (True, True, AuditChange.NONE), (False, False, AuditChange.NONE),
    (True, False, AuditChange.DENIES), (False, True, AuditChange.ALLOWS)])
def test_change_of(now: bool, audit: bool, change: AuditChange) -> None:
    assert change_of(now, audit) is change
