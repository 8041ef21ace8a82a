"""Audit mode in the kernel (root): audited policies never drop, and the audit counters count
exactly what the audit view would drop. Labs are torn down in a fixture, passing or failing."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.cli.main import cli
from podwall.lab.lab import Lab
from podwall.model import Cluster, Enforcement, PortQuery, build_cluster
from tests.lab.test_lab import (  # noqa: F401 (the fixtures)
    RANDOM_PORTS,
    lab,
    probe_from,
    random_lab,
    with_pods,
)
from tests.strategies import clusters

pytestmark = pytest.mark.kernel

AUDITED_DENY_ALL = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: x
  annotations: {podwall.io/enforcement: audit}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

# x/a admits TCP/80 from everyone (enforced); an audited policy would also admit TCP/81
# (denied now: it stays dropped, and it is no audit event).
AUDITED_ALLOW = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: 80}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: alt-too
  namespace: x
  annotations: {podwall.io/enforcement: audit}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: 81}]}]
"""

PORTS = [PortQuery.parse(p) for p in ("TCP/80", "UDP/53")]


def test_an_audited_deny_all_never_drops_but_counts(lab: Lab) -> None:  # noqa: F811
    lab.up(with_pods(AUDITED_DENY_ALL))
    result = lab.verify(PORTS)
    assert result.ok, [a.to_json() for a in result.audit_disagreements]
    assert not result.disagreements
    assert result.kernel.matrix.dense(PORTS[0]).all()  # every pair connected
    counts = {a.counter: a for a in result.audit}
    # x/a and x/b are the sources of 3 probes per port: their egress counts them all; what
    # reaches them from y is counted at their ingress (x -> x stops at the source's egress).
    assert counts["audit-out/x/a"].expected == 3 * 2 and counts["audit-out/x/a"].counted >= 6
    assert counts["audit-in/x/a"].expected == 2 * 2
    assert set(counts) == {f"audit-{d}/x/{p}" for d in ("in", "out") for p in ("a", "b")}
    drops = {k: v.packets for k, v in lab.counters().items() if k.startswith("drop-")}
    assert not any(drops.values()), drops
    out = CliRunner().invoke(cli, ["lab", "verify", "--name", lab.name, "--port", "TCP/80"])
    assert out.exit_code == 0, out.output
    assert "audit view: 0 of 4 audit counters disagree (10 expected audit events)" in out.output


def test_an_audited_allow_counts_nothing_and_the_enforced_drop_stays(lab: Lab) -> None:  # noqa: F811
    lab.up(with_pods(AUDITED_ALLOW))
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 81) == "dropped"  # enforced: denied
    result = lab.verify([PortQuery.parse("TCP/80"), PortQuery.parse("TCP/81")])
    assert result.ok, [a.to_json() for a in result.audit_disagreements]
    assert [(a.counter, a.expected, a.counted) for a in result.audit] == [("audit-in/x/a", 0, 0)]


def test_verify_reports_audit_counters_that_do_not_count(lab: Lab) -> None:  # noqa: F811
    """Empty the audit chain behind the lab's back: nothing is logged or counted any more."""
    lab.up(with_pods(AUDITED_DENY_ALL))
    table = subprocess.run(["ip", "netns", "exec", lab.node, "nft", "-t", "list", "table",
                            "inet", "podwall"], capture_output=True, text=True, check=True).stdout
    audit = next(line.split()[1] for line in table.splitlines()
                 if line.strip().startswith("chain audit.g"))
    subprocess.run(["ip", "netns", "exec", lab.node, "nft", "flush", "chain", "inet", "podwall",
                    audit], check=True)
    result = lab.verify([PortQuery.parse("TCP/80")])
    assert not result.disagreements  # still nothing dropped
    assert not result.ok and len(result.audit_disagreements) == 4
    out = CliRunner().invoke(cli, ["lab", "verify", "--name", lab.name, "--port", "TCP/80"])
    assert out.exit_code == 1
    assert "DISAGREE audit counter audit-out/x/a: the audit view expects 3 audit events" in out.output


def test_apply_enforces_an_audited_policy_and_drops_its_audit_counters(lab: Lab) -> None:  # noqa: F811
    lab.up(with_pods(AUDITED_DENY_ALL))
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "connected"
    lab.apply(with_pods(AUDITED_DENY_ALL.replace("audit}", "enforce}")))
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "dropped"
    assert not any(name.startswith("audit-") for name in lab.counters())
    result = lab.verify([PortQuery.parse("TCP/80")])
    assert result.ok and result.audit == ()


def test_audit_events_reach_the_collector_in_the_audit_views_words(lab: Lab) -> None:  # noqa: F811
    """The lab's collector reads NFLOG group 100 in the node: audit events arrive as action
    "audit", attributed to the audited policy, and nothing is dropped."""
    lab.up(with_pods(AUDITED_DENY_ALL))
    assert probe_from(lab, "y/a", "10.7.1.1", "TCP", 80) == "connected"  # y/a -> x/a
    assert probe_from(lab, "y/a", "10.7.2.2", "TCP", 80) == "connected"  # y -> y: no audit

    def logged() -> list[dict[str, object]]:
        result = CliRunner().invoke(cli, ["lab", "logs", "--name", lab.name, "-o", "json"])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]

    deadline = time.monotonic() + 10
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.1)
    events = logged()
    assert [(e["action"], e["direction"], e["src"], e["dst"]) for e in events] == [
        ("audit", "ingress", "y/a", "x/a")], events
    assert events[0]["policies"] == ["x/deny-all"], events


@st.composite
def audited_clusters(draw: st.DrawFn) -> Cluster:
    """The property tests' random clusters, with a random part of their policies audited."""
    cluster = draw(clusters().filter(lambda c: bool(c.policies)))
    audited = draw(st.lists(st.booleans(), min_size=len(cluster.policies),
                            max_size=len(cluster.policies)))
    audited[draw(st.integers(0, len(audited) - 1))] = True  # at least one
    policies = [replace(p, enforcement=Enforcement.AUDIT) if a else p
                for p, a in zip(cluster.policies, audited, strict=True)]
    return build_cluster(cluster.namespaces.values(), cluster.endpoints, policies,
                         pod_cidr=cluster.pod_cidr)


@settings(max_examples=int(os.environ.get("PODWALL_LAB_EXAMPLES", "12")), deadline=None,
          derandomize=True, suppress_health_check=list(HealthCheck))
@given(cluster=audited_clusters())
def test_random_audited_clusters_hold_both_views(random_lab: Lab, cluster: Cluster) -> None:  # noqa: F811
    """Probes agree with the enforced view, and audit counters with the audit view."""
    random_lab.apply(cluster)
    result = random_lab.verify(RANDOM_PORTS)
    assert not result.disagreements, [(d.src, d.dst, str(d.port)) for d in result.disagreements]
    assert result.ok, [a.to_json() for a in result.audit_disagreements]
