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
