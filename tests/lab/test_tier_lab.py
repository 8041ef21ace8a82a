"""The cluster-admin tiers in the kernel: `lab verify` holds the nftables tier chains to the
model (real namespaces, real probes; root only, torn down passing or failing)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from podwall.cli.main import cli
from podwall.lab.lab import Lab
from podwall.model import Cluster, build_cluster
from tests.lab.test_lab import (
    EXTERNALS,
    RANDOM_PORTS,
    allowed,
    assert_kernel_equals_model,
    lab,  # noqa: F401 - the fixture
    probe_from,
    random_lab,  # noqa: F401 - the fixture
    with_pods,
)
from tests.strategies import tiered_clusters

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parents[2]

CNP = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"

X_A = "{pods: {namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}}"
TCP80 = "[{tcp: {destinationPort: {number: 80}}}]"
UDP53 = "[{udp: {destinationPort: {number: 53}}}]"
TIERS = f"""
{CNP}metadata: {{name: deny-x-to-y}}
spec:
  tier: Admin
  priority: 10
  subject: {{namespaces: {{matchLabels: {{ns: "y"}}}}}}
  ingress:
  - {{name: a-may, action: Pass, from: [{X_A}]}}
  - {{name: others-not, action: Deny, from: [{{namespaces: {{matchLabels: {{ns: x}}}}}}]}}
---
{CNP}metadata: {{name: outside}}
spec:
  tier: Admin
  priority: 20
  subject: {{pods: {{namespaceSelector: {{matchLabels: {{ns: "y"}}}}, podSelector: {{}}}}}}
  egress:
  - {{action: Accept, to: [{{networks: [192.0.2.0/25]}}], protocols: {TCP80}}}
  - {{action: Deny, to: [{{networks: [0.0.0.0/0]}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: only-web-and-dns, namespace: "y"}}
spec:
  podSelector: {{matchLabels: {{pod: a}}}}
  ingress:
  - ports: [{{port: 80}}, {{protocol: UDP, port: 53}}]
---
{CNP}metadata: {{name: y-baseline}}
spec:
  tier: Baseline
  priority: 1
  subject: {{namespaces: {{matchLabels: {{ns: "y"}}}}}}
  ingress:
  - {{action: Deny, from: [{{namespaces: {{}}}}], protocols: {UDP53}}}
"""


def test_tiers_kernel_equals_model(lab: Lab) -> None:  # noqa: F811
    lab.up(with_pods(TIERS), EXTERNALS)
    result = assert_kernel_equals_model(lab)
    assert not allowed(result, "x/b", "y/a", "TCP/80")     # Admin Deny (the NetworkPolicy
    assert allowed(result, "x/a", "y/a", "TCP/80")         # would admit); Pass, then it admits
    assert not allowed(result, "x/a", "y/a", "TCP/81")     # Pass, then the NetworkPolicy denies
    assert allowed(result, "x/a", "y/b", "TCP/81")         # Pass; no NetworkPolicy; no Baseline
    assert not allowed(result, "x/a", "y/b", "UDP/53")     # Pass; Baseline Deny
    assert allowed(result, "x/a", "y/a", "UDP/53")         # NetworkPolicy: Baseline not reached
    assert allowed(result, "y/b", "192.0.2.10", "TCP/80")  # Admin Accept to a network
    assert not allowed(result, "y/b", "192.0.2.200", "TCP/80")  # then Deny 0.0.0.0/0,
    assert not allowed(result, "y/b", "x/a", "TCP/80")     # which holds pods too


@settings(max_examples=int(os.environ.get("PODWALL_LAB_EXAMPLES", "12")), deadline=None,
          derandomize=True, suppress_health_check=list(HealthCheck))
@given(cluster=tiered_clusters())
def test_random_tiered_clusters_kernel_equals_model(random_lab: Lab,  # noqa: F811
                                                    cluster: Cluster) -> None:
    random_lab.apply(build_cluster(cluster.namespaces.values(), cluster.endpoints,
                                   cluster.policies, pod_cidr=cluster.pod_cidr,
                                   cluster_policies=cluster.cluster_policies))
    assert_kernel_equals_model(random_lab, RANDOM_PORTS)


def test_cluster_tiers_example_through_the_cli(lab: Lab) -> None:  # noqa: F811
    runner = CliRunner()
    up = runner.invoke(cli, ["lab", "up", str(ROOT / "examples/cluster-tiers"),
                             "--name", lab.name])
    assert up.exit_code == 0, up.output
    verify = runner.invoke(cli, ["lab", "verify", "--name", lab.name, "-o", "json"])
    assert verify.exit_code == 0, verify.output
    report = json.loads(verify.output)
    assert report["disagreements"] == [] and report["probes"] > 0
    status = json.loads(runner.invoke(cli, ["lab", "status", "--name", lab.name,
                                            "-o", "json"]).output)
    # shop/web -> monitoring/prometheus is denied by the Admin tier, counted at prometheus
    assert status["counters"]["drop-in/monitoring/prometheus"]["packets"] > 0


def test_tier_drops_are_logged_and_attributed_to_the_deciding_rule(lab: Lab) -> None:  # noqa: F811
    """Real dropped packets, each named by the rule that decided it, as `check` names it."""
    from podwall.analysis.wording import verdict_lines
    from podwall.engine import Engine
    from podwall.model import PortQuery
    from tests.lab.test_monitor import events, wait_for

    cluster = with_pods(TIERS)
    lab.up(cluster, EXTERNALS)
    assert probe_from(lab, "x/b", "10.7.2.1", "TCP", 80) == "dropped"  # Admin Deny
    assert probe_from(lab, "x/a", "10.7.2.1", "TCP", 81) == "dropped"  # Pass, NetworkPolicy
    assert probe_from(lab, "x/a", "10.7.2.2", "UDP", 53) == "dropped"  # Pass, Baseline Deny
    wait_for(lambda: len({(e["src"], e["dst"], e["port"]) for e in events(lab)}) >= 3)
    first = {(e["src"], e["dst"], e["port"]): e for e in reversed(events(lab))}
    admin, passed, baseline = (first[("x/b", "y/a", 80)], first[("x/a", "y/a", 81)],
                               first[("x/a", "y/b", 53)])
    for event, src, dst, port in ((admin, "x/b", "y/a", "TCP/80"),
                                  (passed, "x/a", "y/a", "TCP/81"),
                                  (baseline, "x/a", "y/b", "UDP/53")):
        assert event["action"] == "drop" and event["direction"] == "ingress"
        check = [line.strip() for line in verdict_lines(
            Engine(cluster).check(src, dst, PortQuery.parse(port)))]
        assert event["reason"] in check, (event["reason"], check)
        assert "disagree" not in event["reason"]
    assert admin["policies"] == ["admin/deny-x-to-y"]
    assert admin["rules"] == ["admin/deny-x-to-y ingress[1] (others-not)"]
    assert admin["tier"]["kernel"] == "admin" and admin["tier"]["rule"]["priority"] == 10
    assert (passed["tier"]["decidedBy"], passed["tier"]["kernel"]) == ("networkpolicy", None)
    assert passed["policies"] == ["y/only-web-and-dns"]
    assert [r["name"] for r in passed["tier"]["passed"]] == ["a-may"]
    assert baseline["tier"]["kernel"] == "baseline"
    assert baseline["rules"] == ["baseline/y-baseline ingress[0]"]
    text = CliRunner().invoke(cli, ["lab", "logs", "--name", lab.name]).output
    assert ("x/b -> y/a TCP/80 g1: ingress at y/a: denied — Deny in admin/deny-x-to-y "
            "ingress[1] (others-not) at priority 10 (Admin tier)") in text
