"""The network-policy-api conformance suite, the Baseline tier's cases other than the
per-protocol ones (see test_npapi_cases.py for how cases are transcribed)."""

from __future__ import annotations

from tests.conformance.npapi import (
    assert_probes,
    cnp,
    engine,
    house_selector,
    pod,
    pod_ip,
)
from tests.conformance.npapi_rules import (
    HOUSE_PODS,
    TCP80,
    G,
    H,
    R,
    S,
    every_protocol,
    from_house,
    house_pods,
    number,
    pod_named,
    port_range_policy,
    swapped,
    to_house,
)

# -- CNPBaselineTierIngressTCP --------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-ingress-tcp-rules.go @2491831360ce,
# base/baseline_tier/standard-ingress-tcp-rules.yaml @4d38b37f

def baseline_ingress_tcp(rules: list[str]) -> str:
    return cnp("default", "Baseline", 10, f"{{namespaces: {house_selector(G)}}}", ingress=rules)


def test_cnp_baseline_tier_ingress_tcp() -> None:
    rules = [
        from_house("Accept", R, "allow-from-ravenclaw-everything"),
        from_house("Deny", R, "deny-from-ravenclaw-everything"),
        from_house("Deny", S, "deny-from-slytherin-at-port-80", TCP80),
        from_house("Accept", H, "allow-from-hufflepuff-at-port-80", TCP80),
        from_house("Deny", H, "deny-from-hufflepuff-everything-else"),
    ]
    assert_probes(engine(baseline_ingress_tcp(rules)), [
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(R, 1), pod(G, 0), "TCP/8080", True),
        (pod(H, 0), pod(G, 1), "TCP/80", True),
        (pod(H, 1), pod(G, 1), "TCP/8080", False),
        (pod(G, 0), pod(R, 0), "TCP/80", True),
        (pod(G, 1), pod(S, 0), "TCP/80", True),
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
    ])
    assert_probes(engine(baseline_ingress_tcp(swapped(rules, 0, 1))), [
        (pod(R, 0), pod(G, 1), "TCP/80", False),
        (pod(R, 1), pod(G, 1), "TCP/8080", False),
    ])


# -- CNPBaselineTierEgressInlineCIDRPeers ---------------------------------------------------------
# tests/baseline-admin-network-policy-standard-egress-inline-cidr-rules.go @47a85071 (the
# v1alpha1 wording of the same probes), base/baseline_tier/standard-egress-inline-cidr-rules.yaml
# @562e6e86

def baseline_inline_cidr(first: list[str]) -> str:
    return cnp("default", "Baseline", 10, f"{{namespaces: {house_selector(G)}}}", egress=[
        *first,
        f"{{name: allow-egress-to-slytherin, action: Accept, to: [{HOUSE_PODS.format(S)}]}}",
        "{name: deny-egress-to-internet, action: Deny, to: [{networks: ['0.0.0.0/0', '::/0']}]}",
    ])


def test_cnp_baseline_tier_egress_inline_cidr_peers() -> None:
    assert_probes(engine(baseline_inline_cidr([])), [
        *every_protocol(pod(G, 1), pod(R, 0), False),
        *every_protocol(pod(G, 1), pod(H, 0), False),
        *every_protocol(pod(G, 1), pod(S, 0), True),
    ])
    allow = (f"{{name: allow-egress-to-specific-podIPs, action: Accept, to: [{{networks: "
             f"['{pod_ip(R, 0)}/32', '{pod_ip(H, 0)}/32']}}]}}")
    assert_probes(engine(baseline_inline_cidr([allow])), [
        *every_protocol(pod(G, 1), pod(R, 0), True),
        *every_protocol(pod(G, 1), pod(H, 0), True),
        *every_protocol(pod(G, 1), pod(R, 1), False),
        *every_protocol(pod(G, 1), pod(H, 1), False),
    ])


# -- CNPBaselineTierPodSelector -------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-pod-selector-rules.go @2643c7d1,
# base/baseline_tier/standard-pod-selector-rules.yaml @c159ab29

def test_cnp_baseline_tier_pod_selector() -> None:
    e = engine(
        cnp("pod-selector-rules", "Baseline", 10,
            f"{{pods: {{podSelector: {{matchLabels: {{conformance-house: {G}}}}}}}}}",
            egress=[f"{{name: deny-to-ravenclaw-pods, action: Deny, to: [{house_pods(R)}]}}",
                    f"{{name: deny-to-cedric-diggory-0, action: Deny, to: [{pod_named(H, 0)}]}}"],
            ingress=[f"{{name: deny-from-slytherin-pods, action: Deny, from: [{house_pods(S)}]}}",
                     f"{{name: deny-from-cedric-diggory-0, action: Deny, "
                     f"from: [{pod_named(H, 0)}]}}"]),
        cnp("pod-name-subject-rules", "Baseline", 10, pod_named(R, 0),
            egress=[to_house("Deny", S, "deny-to-slytherin")]))
    assert_probes(e, [
        (pod(G, 0), pod(R, 0), "TCP/80", False),
        (pod(G, 0), pod(H, 0), "TCP/80", False),
        (pod(G, 0), pod(H, 1), "TCP/80", True),
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(H, 0), pod(G, 0), "TCP/80", False),
        (pod(H, 1), pod(G, 0), "TCP/80", True),
        (pod(S, 0), pod(H, 0), "TCP/80", True),
        (pod(R, 0), pod(S, 0), "TCP/80", False),
        (pod(R, 1), pod(S, 0), "TCP/80", True),
    ])


# -- CNPBaselineTierPortRange ---------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-port-range-rules.go @e1576bf6,
# base/baseline_tier/standard-port-range-rules-combined.yaml @30ea168a

def test_cnp_baseline_tier_port_range() -> None:
    e = engine(port_range_policy("Baseline"))
    assert_probes(e, [
        (pod(G, 0), pod(R, 0), "TCP/80", True),
        (pod(G, 0), pod(R, 0), "TCP/8080", True),
        (pod(G, 1), pod(R, 0), "UDP/53", False),
        (pod(G, 0), pod(H, 0), "UDP/53", True),
        (pod(G, 0), pod(H, 0), "UDP/5353", True),
        (pod(G, 1), pod(H, 0), "TCP/80", False),
        (pod(G, 0), pod(S, 0), "SCTP/9003", True),
        (pod(G, 0), pod(S, 0), "SCTP/9005", True),
        (pod(G, 1), pod(S, 0), "TCP/80", False),
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(R, 0), pod(G, 0), "TCP/8080", True),
        (pod(R, 1), pod(G, 0), "UDP/53", False),
        (pod(H, 0), pod(G, 0), "UDP/53", True),
        (pod(H, 0), pod(G, 0), "UDP/5353", True),
        (pod(H, 1), pod(G, 0), "TCP/80", False),
        (pod(S, 0), pod(G, 0), "SCTP/9003", True),
        (pod(S, 0), pod(G, 0), "SCTP/9005", True),
        (pod(S, 1), pod(G, 0), "TCP/80", False),
    ])


# -- CNPBaselineTierSamePriority ------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-same-priority.go @3004fc78,
# base/baseline_tier/standard-same-priority.yaml @30ea168a

def test_cnp_baseline_tier_same_priority() -> None:
    def policy(subject: str, peer: str, port: int) -> str:
        protocols = f"[{number('TCP', port)}]"
        return cnp(f"baseline-same-priority-{subject}-{peer}", "Baseline", 10,
                   f"{{namespaces: {house_selector(subject)}}}",
                   ingress=[from_house("Deny", peer, f"deny-from-{peer}-at-port-{port}",
                                       protocols)],
                   egress=[to_house("Deny", peer, f"deny-to-{peer}-at-port-{port}", protocols)])

    e = engine(policy(G, S, 80), policy(G, H, 80), policy(H, S, 8080))
    assert_probes(e, [
        (pod(S, 0), pod(G, 1), "TCP/80", False),
        (pod(G, 0), pod(S, 1), "TCP/80", False),
        (pod(H, 0), pod(G, 1), "TCP/80", False),
        (pod(G, 1), pod(H, 1), "TCP/80", False),
        (pod(S, 1), pod(H, 1), "TCP/8080", False),
        (pod(H, 1), pod(S, 1), "TCP/8080", False),
        (pod(S, 0), pod(G, 1), "TCP/8080", True),   # no bleeding between policies
        (pod(G, 0), pod(S, 1), "TCP/8080", True),
        (pod(S, 1), pod(H, 1), "TCP/80", True),
        (pod(H, 0), pod(S, 1), "TCP/80", True),
        (pod(R, 0), pod(G, 1), "TCP/80", True),     # traffic no policy matches
        (pod(G, 0), pod(R, 1), "TCP/80", True),
    ])
