"""The network-policy-api conformance suite, the cases of upstream's optional features:
Hairpin (SupportClusterNetworkPolicyHairpin), named ports (SupportClusterNetworkPolicyNamedPorts)
and node peers (SupportClusterNetworkPolicyEgressNodePeers), the last as podwall's "cannot be
decided offline" (see test_npapi_cases.py for how cases are transcribed)."""

from __future__ import annotations

import pytest

from podwall.model import PortQuery
from tests.conformance.npapi import (
    assert_offline_probes,
    assert_probes,
    cnp,
    engine,
    house_selector,
    pod,
)
from tests.conformance.npapi_rules import (
    HOUSE_PODS,
    TCP80,
    G,
    H,
    R,
    S,
    from_house,
    named,
    number,
    one_direction,
    port_range,
    three_houses,
)

# -- CNPAdminTierHairpin --------------------------------------------------------------------------
# tests/admin-network-policy-hairpin-rules.go @d1a2cd7a, base/admin_tier/hairpin-rules.yaml
# @d1a2cd7a. Optional upstream feature (SupportClusterNetworkPolicyHairpin): harry-potter-0
# connects to a Service whose backends are both gryffindor pods, itself included; the Admin
# Deny from gryffindor must hold whichever backend answers.

HAIRPIN_SERVICE = f"""
apiVersion: v1
kind: Service
metadata: {{name: harry-potter-hairpin-service, namespace: {pod(G, 0).split('/')[0]}}}
spec:
  clusterIP: 10.96.0.80
  selector: {{conformance-house: gryffindor}}
  ports: [{{name: web, port: 80, targetPort: 80, protocol: TCP}}]
"""


@pytest.mark.parametrize("backend", [
    1,
    pytest.param(0, marks=pytest.mark.xfail(strict=True, reason=(
        "podwall gap: a pod reaching itself is always allowed (Verdict.same_endpoint), also "
        "through a Service; upstream's optional Hairpin feature has cluster policies deny "
        "hairpin Service traffic"))),
])
def test_cnp_admin_tier_hairpin(backend: int) -> None:
    e = engine(HAIRPIN_SERVICE, cnp(
        "hairpin-ingress-deny", "Admin", 15, f"{{namespaces: {house_selector(G)}}}",
        ingress=[from_house("Deny", G, "deny-gryffindor-ingress")]))
    group = e.check_group(pod(G, 0), f"svc/{pod(G, 0).split('/')[0]}/"
                          "harry-potter-hairpin-service", PortQuery.parse("TCP/80"))
    by_backend = {v.dst: v for v in group.verdicts}
    assert set(by_backend) == {pod(G, 0), pod(G, 1)}  # the Service stands for both replicas
    assert not by_backend[pod(G, backend)].allowed
    assert_probes(e, [(pod(G, 0), pod(G, backend), "TCP/80", False)])


# -- the experimental cases: named ports (SupportClusterNetworkPolicyNamedPorts) ------------------
# tests/admin-network-policy-experimental-{egress,ingress}-rules.go @2c8a1a8b / @30ea168a,
# tests/baseline-admin-network-policy-experimental-{egress,ingress}-rules.go @10a76022 / @30ea168a:
# one rule of a standard manifest rewritten to `destinationNamedPort`, which base/manifests.yaml
# @d48faeeb declares on every server pod (`web` = TCP 80, `dns` = UDP 53).

def test_cnp_admin_tier_egress_named_port() -> None:
    rules = three_houses("egress", "Admin", R, S, H, TCP80, named("web"))  # index5 rewritten
    assert_probes(engine(one_direction("egress-tcp", "Admin", 6, G, "egress", rules)), [
        (pod(G, 0), pod(H, 1), "TCP/80", True),
        (pod(G, 1), pod(H, 1), "TCP/8080", False),
    ])


def test_cnp_admin_tier_ingress_named_port() -> None:
    rules = three_houses("ingress", "Admin", R, S, G, f"[{number('UDP', 5353)}]", named("dns"))
    assert_probes(engine(one_direction("ingress-udp", "Admin", 4, H, "ingress", rules)), [
        (pod(G, 0), pod(H, 1), "UDP/53", True),
        (pod(G, 1), pod(H, 1), "UDP/5353", False),
    ])


def test_cnp_baseline_tier_egress_named_port() -> None:
    rules = three_houses("egress", "Baseline", R, S, G, f"[{number('UDP', 5353)}]",
                         named("dns"))  # index3 rewritten
    assert_probes(engine(one_direction("default", "Baseline", 10, H, "egress", rules)), [
        (pod(H, 0), pod(G, 1), "UDP/53", True),
        (pod(H, 1), pod(G, 1), "UDP/5353", False),
    ])


def test_cnp_baseline_tier_ingress_named_port() -> None:
    rules = three_houses("ingress", "Baseline", R, S, H, TCP80, named("web"))
    assert_probes(engine(one_direction("default", "Baseline", 10, G, "ingress", rules)), [
        (pod(H, 0), pod(G, 1), "TCP/80", True),
        (pod(H, 1), pod(G, 1), "TCP/8080", False),
    ])


# -- the experimental cases: node peers (SupportClusterNetworkPolicyEgressNodePeers) --------------
# tests/admin-network-policy-experimental-egress-rules.go @2c8a1a8b with
# base/admin_tier/experimental-egress-selector-rules.yaml @3910463a, and
# tests/baseline-admin-network-policy-experimental-egress-rules.go @10a76022 with
# base/baseline_tier/experimental-egress-selector-rules.yaml @30ea168a. The server is centaur-1, a
# host-network pod of network-policy-conformance-forbidden-forrest: its address is its node's,
# which podwall cannot know offline (no Node objects; it models no host-network pods), so the
# probe goes to an address outside the pods. Upstream templates the ports from the suite's
# HostNetworkPorts (the Admin test uses indices 0-1 as TCP ports, 2 and 4 as two UDP ports, 6
# as SCTP); the values here follow the Baseline test, which spells 36363, 36364 (TCP), 34346
# (UDP) and 9003 (SCTP), with 34345 as the Admin test's other UDP port.
# Where a `nodes` peer could decide, podwall must say "cannot be decided offline" rather than a
# verdict; where a rule podwall can judge decides first (0.0.0.0/0), the verdict stands.

NODE = "172.18.0.3"
HOST_PORTS = (36363, 36364, 34345, 34345, 34346, 9003, 9003)
LINUX_NODES = "{nodes: {matchLabels: {kubernetes.io/os: linux}}}"
INTERNET = "{networks: ['0.0.0.0/0', '::/0']}"


def test_cnp_admin_tier_egress_node_peers() -> None:
    e = engine(cnp(
        "node-and-cidr-as-peers-example", "Admin", 75, HOUSE_PODS.format(G), egress=[
            f"{{name: allow-egress-to-{HOST_PORTS[0]}-on-nodes, action: Accept, "
            f"to: [{LINUX_NODES}], protocols: [{number('TCP', HOST_PORTS[0])}]}}",
            f"{{name: pass-egress-to-{HOST_PORTS[2]}-on-nodes, action: Pass, "
            f"to: [{LINUX_NODES}], protocols: [{number('UDP', HOST_PORTS[2])}]}}",
            f"{{name: deny-egress-to-slytherin-and-nodes-and-internet, action: Deny, "
            f"to: [{HOUSE_PODS.format(S)}, {LINUX_NODES}, {INTERNET}]}}"]))
    assert_offline_probes(e, [
        (pod(G, 1), NODE, f"TCP/{HOST_PORTS[0]}", None),   # Accept if it is a node, else Deny
        (pod(G, 1), NODE, f"UDP/{HOST_PORTS[2]}", None),   # Pass if it is a node, else Deny
        (pod(G, 1), NODE, f"TCP/{HOST_PORTS[1]}", False),  # 0.0.0.0/0 denies either way
        (pod(G, 1), NODE, f"UDP/{HOST_PORTS[4]}", False),
        (pod(G, 1), NODE, f"SCTP/{HOST_PORTS[6]}", False),
    ])


def test_cnp_baseline_tier_egress_node_peers() -> None:
    e = engine(cnp(
        "default", "Baseline", 10, f"{{namespaces: {house_selector(G)}}}", egress=[
            f"{{name: allow-egress-to-{HOST_PORTS[0]}-on-nodes, action: Accept, "
            f"to: [{LINUX_NODES}], protocols: {port_range('tcp', HOST_PORTS[0], HOST_PORTS[1])}}}",
            f"{{name: deny-egress-to-nodes-and-internet, action: Deny, "
            f"to: [{LINUX_NODES}, {INTERNET}]}}"]))
    assert_offline_probes(e, [
        (pod(G, 0), NODE, "TCP/36363", None),
        (pod(G, 1), NODE, "TCP/36364", None),
        (pod(G, 1), NODE, "UDP/34346", False),
        (pod(G, 1), NODE, "SCTP/9003", False),
    ])
