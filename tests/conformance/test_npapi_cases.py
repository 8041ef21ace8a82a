"""The network-policy-api conformance suite (kubernetes-sigs/network-policy-api conformance/
tests), one case per upstream test: its manifests (conformance/base/...) and every probe of every
subtest, with upstream's patches between subtests written out as the manifests after them.

This file: the Admin tier's cases other than the per-protocol ones, and the isolation cases of
both tiers; test_npapi_protocol_cases.py, test_npapi_baseline_cases.py and
test_npapi_experimental_cases.py hold the rest. tests/lab/test_npapi_lab.py holds a subset of
them to the kernel.

Transcribed from the upstream files at the commits named per case. Where a stored manifest
still spelled ports the v1alpha1 way (`ports: [{portNumber: ...}]`) inside a v1alpha2 object,
the transcription uses the v1alpha2 field (`protocols: [{tcp: {destinationPort: ...}}]`), which
is what the types at 066a9454 define. Where the stored Go test was the v1alpha1
(AdminNetworkPolicy/BaselineAdminNetworkPolicy) wording of a case, its probes are the same as
the ClusterNetworkPolicy one's; the case says so.
"""

from __future__ import annotations

import pytest

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
    pod_named,
    port_range_policy,
    swapped,
    to_house,
)

# -- CNPAdminTierIngressTCP -------------------------------------------------------------------------
# tests/admin-network-policy-standard-ingress-tcp-rules.go @2491831360ce,
# base/admin_tier/standard-ingress-tcp-rules.yaml @4d38b37f

def ingress_tcp(rules: list[str]) -> str:
    return cnp("ingress-tcp", "Admin", 3, f"{{namespaces: {house_selector(G)}}}", ingress=rules)


INGRESS_TCP_RULES = [
    from_house("Accept", R, "allow-from-ravenclaw-everything"),
    from_house("Deny", R, "deny-from-ravenclaw-everything"),
    from_house("Pass", R, "pass-from-ravenclaw-everything"),
    from_house("Deny", S, "deny-from-slytherin-at-port-80", TCP80),
    from_house("Pass", S, "pass-from-slytherin-at-port-80", TCP80),
    from_house("Accept", H, "allow-from-hufflepuff-at-port-80", TCP80),
    from_house("Deny", H, "deny-from-hufflepuff-everything-else"),
]


def test_cnp_admin_tier_ingress_tcp() -> None:
    rules = INGRESS_TCP_RULES
    e = engine(ingress_tcp(rules))
    assert_probes(e, [
        # allow-ingress; rule ordering: index0 Accept before index1 Deny
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(R, 1), pod(G, 0), "TCP/8080", True),
        # allow-ingress at the specified port (index5), deny the rest (index6)
        (pod(H, 0), pod(G, 1), "TCP/80", True),
        (pod(H, 1), pod(G, 1), "TCP/8080", False),
        # ingress rules only: egress unaffected
        (pod(G, 0), pod(R, 0), "TCP/80", True),
        (pod(G, 1), pod(S, 0), "TCP/80", True),
        # deny-ingress at the specified port (index3); the rest matches no rule
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
    ])
    rules = swapped(rules, 0, 1)  # deny-ingress; rule ordering respected
    assert_probes(engine(ingress_tcp(rules)), [
        (pod(R, 0), pod(G, 1), "TCP/80", False),
        (pod(R, 1), pod(G, 1), "TCP/8080", False),
    ])
    rules = swapped(rules, 0, 2)  # pass-ingress first: no NetworkPolicy, so allowed
    assert_probes(engine(ingress_tcp(rules)), [
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(R, 1), pod(G, 0), "TCP/8080", True),
    ])
    rules = swapped(rules, 3, 4)  # pass-ingress at the specified port
    assert_probes(engine(ingress_tcp(rules)), [
        (pod(S, 0), pod(G, 0), "TCP/80", True),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
    ])


# -- CNPAdminTierIntegration ----------------------------------------------------------------------
# tests/admin-network-policy-standard-integration.go @25f6bf054258,
# base/api_integration/standard-anp-np-banp.yaml @30ea168a (its `podSelector:` null written {})

def integration(ingress_action: str = "Deny", egress_action: str = "Deny",
                with_np: bool = True) -> list[str]:
    houses = "{namespaces: {matchLabels: {conformance-house: gryffindor}}}"
    slytherin = "[{namespaces: {matchLabels: {conformance-house: slytherin}}}]"
    docs = [
        cnp("pass-example", "Admin", 10, houses,
            ingress=[f"{{name: deny-all-ingress-from-slytherin, action: {ingress_action}, "
                     f"from: {slytherin}}}"],
            egress=[f"{{name: deny-all-egress-to-slytherin, action: {egress_action}, "
                    f"to: {slytherin}}}"]),
        cnp("default", "Baseline", 10, houses,
            ingress=[f"{{name: deny-all-ingress-from-slytherin, action: Deny, from: {slytherin}}}"],
            egress=[f"{{name: deny-all-egress-to-slytherin, action: Deny, to: {slytherin}}}"]),
    ]
    if with_np:
        docs.append("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: allow-gress-from-to-slytherin-to-gryffindor
              namespace: network-policy-conformance-gryffindor
            spec:
              podSelector: {}
              policyTypes: [Ingress, Egress]
              ingress:
              - from: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]
              egress:
              - to: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]
        """)
    return docs


def test_cnp_admin_tier_integration() -> None:
    assert_probes(engine(*integration()), [
        (pod(S, 0), pod(G, 0), "TCP/80", False),    # admin Deny ingress
        (pod(S, 1), pod(G, 0), "TCP/8080", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),    # admin Deny egress
        (pod(G, 1), pod(S, 0), "TCP/8080", False),
    ])
    assert_probes(engine(*integration("Pass")), [   # Pass: the NetworkPolicy allows
        (pod(S, 0), pod(G, 0), "TCP/80", True),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
    ])
    assert_probes(engine(*integration("Pass", "Pass")), [
        (pod(G, 0), pod(S, 0), "TCP/80", True),
        (pod(G, 1), pod(S, 0), "TCP/8080", True),
    ])
    no_np = engine(*integration("Pass", "Pass", with_np=False))  # the NetworkPolicy deleted
    assert_probes(no_np, [
        (pod(S, 0), pod(G, 0), "TCP/80", False),    # Pass, then the Baseline Deny
        (pod(S, 1), pod(G, 0), "TCP/8080", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),
        (pod(G, 1), pod(S, 0), "TCP/8080", False),
    ])


# -- CNPAdminTierPriorityField --------------------------------------------------------------------
# tests/admin-network-policy-standard-priority.go @295a4ff8f5d9,
# base/admin_tier/standard-priority-field.yaml @562e6e867c1a

def priority_field(pass_priority: int) -> list[str]:
    subject = HOUSE_PODS.format(G)
    peers = f"[{HOUSE_PODS.format(S)}]"

    def both(action: str, word: str) -> tuple[list[str], list[str]]:
        return ([f"{{name: {word}-all-ingress-from-slytherin, action: {action}, from: {peers}}}"],
                [f"{{name: {word}-all-egress-to-slytherin, action: {action}, to: {peers}}}"])

    deny_in, deny_out = both("Deny", "deny")
    pass_in, pass_out = both("Pass", "pass")
    accept_in, accept_out = both("Accept", "allow")
    return [cnp("priority-50-example", "Admin", 50, subject, deny_in, deny_out),
            cnp("old-priority-60-new-priority-40-example", "Admin", pass_priority, subject,
                pass_in, pass_out),
            cnp("default", "Baseline", 10, subject, accept_in, accept_out)]


def test_cnp_admin_tier_priority_field() -> None:
    assert_probes(engine(*priority_field(60)), [
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(S, 1), pod(G, 0), "TCP/8080", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),
        (pod(G, 1), pod(S, 0), "TCP/8080", False),
    ])
    assert_probes(engine(*priority_field(40)), [  # the Pass now first: the Baseline accepts
        (pod(S, 0), pod(G, 0), "TCP/80", True),
        (pod(S, 1), pod(G, 0), "TCP/8080", True),
        (pod(G, 0), pod(S, 0), "TCP/80", True),
        (pod(G, 1), pod(S, 0), "TCP/8080", True),
    ])


# -- CNPAdminTierEgressInlineCIDRPeers ------------------------------------------------------------
# tests/admin-network-policy-standard-egress-inline-cidr-rules.go @295a4ff8f5d9,
# base/admin_tier/standard-egress-inline-cidr-rules.yaml @30ea168a

def inline_cidr(first: list[str]) -> str:
    return cnp("inline-cidr-as-peers-example", "Admin", 85, HOUSE_PODS.format(G), egress=[
        *first,
        f"{{name: allow-egress-to-slytherin, action: Accept, to: [{HOUSE_PODS.format(S)}]}}",
        "{name: deny-egress-to-internet, action: Deny, to: [{networks: ['0.0.0.0/0', '::/0']}]}",
    ])


def test_cnp_admin_tier_egress_inline_cidr_peers() -> None:
    assert_probes(engine(inline_cidr([])), [
        *every_protocol(pod(G, 1), pod(R, 0), False),   # 0.0.0.0/0 denies pods too
        *every_protocol(pod(G, 1), pod(H, 0), False),
        *every_protocol(pod(G, 1), pod(S, 0), True),    # the Accept before it
    ])
    allow = (f"{{name: allow-egress-to-specific-podIPs, action: Accept, to: [{{networks: "
             f"['{pod_ip(R, 0)}/32', '{pod_ip(H, 0)}/32']}}]}}")
    assert_probes(engine(inline_cidr([allow])), [
        *every_protocol(pod(G, 1), pod(R, 0), True),
        *every_protocol(pod(G, 1), pod(H, 0), True),
        *every_protocol(pod(G, 1), pod(R, 1), False),
        *every_protocol(pod(G, 1), pod(H, 1), False),
    ])


# -- CNP{Admin,Baseline}Tier{IngressRulesEgress,EgressRulesIngress}Unaffected ---------------------
# tests/{admin,baseline-admin}-network-policy-standard-ingress-egress-isolation.go @e98949c4,
# base/{admin,baseline}_tier/standard-{ingress,egress}-isolation.yaml @e98949c4 / @896ee815

@pytest.mark.parametrize("tier", ["Admin", "Baseline"])
def test_cnp_tier_ingress_rules_egress_unaffected(tier: str) -> None:
    policy = cnp(f"{tier.lower()}-ingress-isolation", tier, 20,
                 f"{{namespaces: {house_selector(G)}}}",
                 ingress=[from_house("Deny", S, "deny-from-slytherin")])
    assert_probes(engine(policy), [
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(G, 0), pod(R, 0), "TCP/80", True),
        (pod(G, 0), pod(H, 0), "TCP/80", True),
    ])


@pytest.mark.parametrize("tier", ["Admin", "Baseline"])
def test_cnp_tier_egress_rules_ingress_unaffected(tier: str) -> None:
    policy = cnp(f"{tier.lower()}-egress-isolation", tier, 20,
                 f"{{namespaces: {house_selector(G)}}}",
                 egress=[to_house("Deny", S, "deny-to-slytherin")])
    assert_probes(engine(policy), [
        (pod(G, 0), pod(S, 0), "TCP/80", False),
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(H, 0), pod(G, 0), "TCP/80", True),
    ])


# -- CNPAdminTierSamePriority ---------------------------------------------------------------------
# tests/admin-network-policy-standard-same-priority.go @efe784ef,
# base/admin_tier/standard-same-priority.yaml @3004fc78

def same_priority_policy(subject: str, peer: str, port: int) -> str:
    protocols = f"[{{tcp: {{destinationPort: {{number: {port}}}}}}}]"
    return cnp(f"same-priority-{subject}-{peer}", "Admin", 15,
               f"{{namespaces: {house_selector(subject)}}}",
               ingress=[from_house("Deny", peer, f"deny-from-{peer}-at-port-{port}", protocols)],
               egress=[to_house("Deny", peer, f"deny-to-{peer}-at-port-{port}", protocols)])


def test_cnp_admin_tier_same_priority() -> None:
    e = engine(same_priority_policy(G, S, 80), same_priority_policy(G, H, 80),
               same_priority_policy(H, S, 8080))
    assert_probes(e, [
        # every same-priority policy denies, in both directions
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),
        (pod(H, 0), pod(G, 0), "TCP/80", False),
        (pod(G, 1), pod(H, 0), "TCP/80", False),
        (pod(S, 1), pod(H, 0), "TCP/8080", False),
        (pod(H, 1), pod(S, 0), "TCP/8080", False),
        # no policy's rules bleed onto another's subject
        (pod(S, 0), pod(G, 0), "TCP/8080", True),
        (pod(G, 0), pod(S, 0), "TCP/8080", True),
        (pod(S, 1), pod(H, 0), "TCP/80", True),
        (pod(H, 0), pod(S, 0), "TCP/80", True),
        # traffic no policy matches
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(G, 1), pod(R, 0), "TCP/80", True),
    ])


# -- CNPAdminTierPortRange ------------------------------------------------------------------------
# tests/admin-network-policy-standard-port-range-rules.go @b9f7a830,
# base/admin_tier/standard-port-range-rules-combined.yaml @562e6e86

def test_cnp_admin_tier_port_range() -> None:
    e = engine(port_range_policy("Admin"))
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


# -- CNPAdminTierPodSelector ----------------------------------------------------------------------
# tests/admin-network-policy-standard-pod-selector-rules.go @2643c7d1,
# base/admin_tier/standard-pod-selector-rules.yaml @c159ab29

def test_cnp_admin_tier_pod_selector() -> None:
    e = engine(
        cnp("pod-selector-rules", "Admin", 20,
            f"{{pods: {{podSelector: {{matchLabels: {{conformance-house: {G}}}}}}}}}",
            egress=[f"{{name: deny-to-ravenclaw-pods, action: Deny, to: [{house_pods(R)}]}}",
                    f"{{name: deny-to-cedric-diggory-0, action: Deny, to: [{pod_named(H, 0)}]}}"],
            ingress=[f"{{name: deny-from-slytherin-pods, action: Deny, from: [{house_pods(S)}]}}",
                     f"{{name: deny-from-cedric-diggory-0, action: Deny, "
                     f"from: [{pod_named(H, 0)}]}}"]),
        cnp("pod-name-subject-rules", "Admin", 21,
            pod_named(R, 0),
            egress=[to_house("Deny", S, "deny-to-slytherin")]))
    assert_probes(e, [
        (pod(G, 0), pod(R, 0), "TCP/80", False),   # egress peer by pod label alone
        (pod(G, 0), pod(H, 0), "TCP/80", False),   # one pod by name
        (pod(G, 0), pod(H, 1), "TCP/80", True),    # its sibling: no rule
        (pod(S, 0), pod(G, 0), "TCP/80", False),   # ingress peer by pod label alone
        (pod(H, 0), pod(G, 0), "TCP/80", False),
        (pod(H, 1), pod(G, 0), "TCP/80", True),
        (pod(S, 0), pod(H, 0), "TCP/80", True),    # not a subject: no rule applies
        (pod(R, 0), pod(S, 0), "TCP/80", False),   # the one-pod subject
        (pod(R, 1), pod(S, 0), "TCP/80", True),    # its sibling is not
    ])


# -- CNPAdminTierSamePriority (disjoint subjects) -------------------------------------------------
# tests/admin-network-policy-same-priority.go @ca0e3073, base/admin_tier/same-priority-{1,2}.yaml
# @7511fdbc / @ca0e3073: the other upstream test of that name (the three-policy one is above)

def test_cnp_admin_tier_same_priority_disjoint() -> None:
    everyone = "{name: deny-all-else, action: Deny, from: [{namespaces: {matchLabels: {}}}]}"
    e = engine(
        cnp("same-priority-1", "Admin", 15, f"{{namespaces: {house_selector(G)}}}",
            ingress=[from_house("Accept", R, "allow-from-ravenclaw"), everyone]),
        cnp("same-priority-2", "Admin", 15, f"{{namespaces: {house_selector(H)}}}",
            ingress=[from_house("Accept", S, "allow-from-slytherin"), everyone]))
    assert_probes(e, [
        (pod(R, 0), pod(G, 0), "TCP/80", True),
        (pod(S, 0), pod(H, 0), "TCP/80", True),
        (pod(S, 0), pod(G, 0), "TCP/80", False),
        (pod(R, 0), pod(H, 0), "TCP/80", False),
    ])
