"""`check` with cluster policies names the deciding tier, policy, priority and rule, and the
Pass rules followed on the way (examples/cluster-tiers)."""

from __future__ import annotations

from podwall.analysis.wording import verdict_lines
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import PortQuery


def lines(src: str, dst: str, port: str) -> list[str]:
    result = load_cluster(["examples/cluster-tiers"])
    return verdict_lines(Engine(result.cluster).check(src, dst, PortQuery.parse(port)))


def test_pass_then_networkpolicy() -> None:
    assert lines("shop/web", "shop/db", "TCP/5432")[2] == (
        "  ingress at shop/db: allowed — Pass in admin/shop-decides ingress[0] at priority 30, "
        "then NetworkPolicy shop/db-from-web ingress[0] admits")


def test_admin_deny() -> None:
    out = lines("shop/web", "monitoring/prometheus", "TCP/9090")
    assert out[0].startswith("DENIED ")
    assert out[2] == ("  ingress at monitoring/prometheus: denied — Deny in "
                      "admin/protect-monitoring ingress[1] (nobody-else) at priority 20 "
                      "(Admin tier)")


def test_baseline_and_default() -> None:
    out = lines("shop/web", "blog/blog", "TCP/80")
    assert out[1].endswith("not isolated by a NetworkPolicy for egress, and no Admin or "
                           "Baseline rule decides")
    assert "Deny in baseline/blog-keeps-to-itself ingress[1] (from-elsewhere) at priority 100 " \
           "(Baseline tier)" in out[2]


def test_explain_lists_cluster_policies_in_evaluation_order() -> None:
    from podwall.analysis.explain import Explainer, explanation_text

    text = explanation_text(Explainer(Engine(load_cluster(["examples/cluster-tiers"]).cluster)))
    section = text[text.index("Cluster policies (5), in evaluation order"):]
    order = [section.index(k) for k in ("admin/allow-dns", "admin/dns-reachable",
                                        "admin/protect-monitoring", "admin/shop-decides",
                                        "baseline/blog-keeps-to-itself")]
    assert order == sorted(order)
    assert "  ingress[1] (nobody-else): Deny from namespaces {} on every port" in section
    assert ("  cluster policies, in evaluation order: admin/allow-dns (priority 10), "
            "baseline/blog-keeps-to-itself (priority 100)") in text
