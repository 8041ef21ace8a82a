"""The network-policy-api conformance suite, the per-protocol cases of both tiers:
CNP{Admin,Baseline}Tier{Ingress,Egress}{TCP,UDP,SCTP} and CNP{Admin,Baseline}TierGress (see
test_npapi_cases.py for how cases are transcribed). Upstream patches the policy between subtests
(swapping rules); each step here is the policy after the patches so far.
"""

from __future__ import annotations

from tests.conformance.npapi import (
    assert_probes,
    cnp,
    engine,
    house_selector,
    pod,
)
from tests.conformance.npapi_rules import (
    TCP80,
    G,
    H,
    R,
    S,
    number,
    one_direction,
    swapped,
    three_houses,
)

# -- CNPAdminTierEgressTCP ------------------------------------------------------------------------
# tests/admin-network-policy-standard-egress-tcp-rules.go @4d38b37f,
# base/admin_tier/standard-egress-tcp-rules.yaml @295a4ff8

def test_cnp_admin_tier_egress_tcp() -> None:
    rules = three_houses("egress", "Admin", R, S, H, TCP80, f"[{number('TCP', 8080)}]")

    def policy() -> str:
        return one_direction("egress-tcp", "Admin", 6, G, "egress", rules)

    assert_probes(engine(policy()), [
        (pod(G, 0), pod(R, 0), "TCP/80", True),     # index0 Accept before index1 Deny
        (pod(G, 1), pod(R, 0), "TCP/8080", True),
        (pod(G, 0), pod(H, 1), "TCP/8080", True),   # index5 Accept at the port
        (pod(G, 1), pod(H, 1), "TCP/80", False),    # index6 Deny the rest
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(policy()), [
        (pod(G, 0), pod(R, 1), "TCP/80", False),    # Deny now first
        (pod(G, 1), pod(R, 1), "TCP/8080", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),    # index3 Deny at the port
        (pod(G, 1), pod(S, 0), "TCP/8080", True),   # no rule matches
    ])
    rules = swapped(rules, 0, 2)
    assert_probes(engine(policy()), [
        (pod(G, 0), pod(R, 0), "TCP/80", True),     # Pass first; nothing below it
        (pod(G, 1), pod(R, 0), "TCP/8080", True),
    ])
    rules = swapped(rules, 3, 4)
    assert_probes(engine(policy()), [
        (pod(G, 0), pod(S, 0), "TCP/80", True),     # Pass at the port
        (pod(G, 1), pod(S, 0), "TCP/8080", True),
    ])


# -- CNPAdminTierEgressUDP ------------------------------------------------------------------------
# tests/admin-network-policy-standard-egress-udp-rules.go @ae899497,
# base/admin_tier/standard-egress-udp-rules.yaml @30ea168a (v1beta1 there: same fields)

def test_cnp_admin_tier_egress_udp() -> None:
    rules = three_houses("egress", "Admin", R, S, G, f"[{number('UDP', 5353)}]",
                         f"[{number('UDP', 53)}]")

    def policy() -> str:
        return one_direction("egress-udp", "Admin", 7, H, "egress", rules)

    assert_probes(engine(policy()), [
        (pod(H, 0), pod(R, 0), "UDP/53", True),
        (pod(H, 1), pod(R, 0), "UDP/5353", True),
        (pod(H, 0), pod(G, 1), "UDP/53", True),
        (pod(H, 1), pod(G, 1), "UDP/5353", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(policy()), [
        (pod(H, 0), pod(R, 1), "UDP/53", False),
        (pod(H, 1), pod(R, 1), "UDP/5353", False),
        (pod(H, 0), pod(S, 0), "UDP/5353", False),
        (pod(H, 1), pod(S, 0), "UDP/53", True),
    ])
    rules = swapped(rules, 0, 2)
    assert_probes(engine(policy()), [
        (pod(H, 0), pod(R, 1), "UDP/5353", True),
        (pod(H, 1), pod(R, 1), "UDP/53", True),
    ])
    rules = swapped(rules, 3, 4)
    assert_probes(engine(policy()), [
        (pod(H, 0), pod(S, 0), "UDP/5353", True),
        (pod(H, 1), pod(S, 0), "UDP/53", True),
    ])


# -- CNPAdminTierEgressSCTP -----------------------------------------------------------------------
# tests/admin-network-policy-standard-egress-sctp-rules.go @ae899497,
# base/admin_tier/standard-egress-sctp-rules.yaml @562e6e86

def test_cnp_admin_tier_egress_sctp() -> None:
    rules = three_houses("egress", "Admin", G, S, H, f"[{number('SCTP', 9003)}]",
                         f"[{number('SCTP', 9003)}]")

    def policy() -> str:
        return one_direction("egress-sctp", "Admin", 8, R, "egress", rules)

    assert_probes(engine(policy()), [
        (pod(R, 0), pod(G, 0), "SCTP/9003", True),
        (pod(R, 1), pod(G, 0), "SCTP/9005", True),
        (pod(R, 0), pod(H, 1), "SCTP/9003", True),
        (pod(R, 1), pod(H, 1), "SCTP/9005", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(policy()), [
        (pod(R, 0), pod(G, 1), "SCTP/9003", False),
        (pod(R, 1), pod(G, 1), "SCTP/9005", False),
        (pod(R, 0), pod(S, 0), "SCTP/9003", False),
        (pod(R, 1), pod(S, 0), "SCTP/9005", True),
    ])
    rules = swapped(rules, 0, 2)
    assert_probes(engine(policy()), [
        (pod(R, 0), pod(G, 1), "SCTP/9003", True),
        (pod(R, 1), pod(G, 1), "SCTP/9005", True),
    ])
    rules = swapped(rules, 3, 4)
    assert_probes(engine(policy()), [
        (pod(R, 0), pod(S, 0), "SCTP/9003", True),
        (pod(R, 1), pod(S, 0), "SCTP/9005", True),
    ])


# -- CNPAdminTierIngressUDP -----------------------------------------------------------------------
# tests/admin-network-policy-standard-ingress-udp-rules.go @ae899497,
# base/admin_tier/standard-ingress-udp-rules.yaml @30ea168a

def test_cnp_admin_tier_ingress_udp() -> None:
    rules = three_houses("ingress", "Admin", R, S, G, f"[{number('UDP', 5353)}]",
                         f"[{number('UDP', 53)}]")

    def policy() -> str:
        return one_direction("ingress-udp", "Admin", 4, H, "ingress", rules)

    assert_probes(engine(policy()), [
        (pod(R, 0), pod(H, 0), "UDP/53", True),
        (pod(R, 1), pod(H, 0), "UDP/5353", True),
        (pod(G, 0), pod(H, 1), "UDP/53", True),
        (pod(G, 1), pod(H, 1), "UDP/5353", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(policy()), [
        (pod(R, 0), pod(H, 1), "UDP/53", False),
        (pod(R, 1), pod(H, 1), "UDP/5353", False),
        (pod(S, 0), pod(H, 0), "UDP/5353", False),
        (pod(S, 1), pod(H, 0), "UDP/53", True),
    ])
    rules = swapped(rules, 0, 2)
    assert_probes(engine(policy()), [
        (pod(R, 0), pod(H, 1), "UDP/5353", True),
        (pod(R, 1), pod(H, 1), "UDP/53", True),
    ])
    rules = swapped(rules, 3, 4)
    assert_probes(engine(policy()), [
        (pod(S, 0), pod(H, 0), "UDP/5353", True),
        (pod(S, 1), pod(H, 0), "UDP/53", True),
    ])


# -- CNPAdminTierIngressSCTP ----------------------------------------------------------------------
# tests/admin-network-policy-standard-ingress-sctp-rules.go @4d4a53a6 (the v1alpha1 wording of
# the same probes), base/admin_tier/standard-ingress-sctp-rules.yaml @30ea168a

def test_cnp_admin_tier_ingress_sctp() -> None:
    rules = three_houses("ingress", "Admin", G, S, H, f"[{number('SCTP', 9003)}]",
                         f"[{number('SCTP', 9003)}]")

    def policy() -> str:
        return one_direction("ingress-sctp", "Admin", 5, R, "ingress", rules)

    assert_probes(engine(policy()), [
        (pod(G, 0), pod(R, 0), "SCTP/9003", True),
        (pod(G, 1), pod(R, 0), "SCTP/9005", True),
        (pod(H, 0), pod(R, 1), "SCTP/9003", True),
        (pod(H, 1), pod(R, 1), "SCTP/9005", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(policy()), [
        (pod(G, 0), pod(R, 1), "SCTP/9003", False),
        (pod(G, 1), pod(R, 1), "SCTP/9005", False),
        (pod(S, 0), pod(R, 0), "SCTP/9003", False),
        (pod(S, 1), pod(R, 0), "SCTP/9005", True),
    ])
    rules = swapped(rules, 0, 2)
    assert_probes(engine(policy()), [
        (pod(G, 0), pod(R, 1), "SCTP/9003", True),
        (pod(G, 1), pod(R, 1), "SCTP/9005", True),
    ])
    rules = swapped(rules, 3, 4)
    assert_probes(engine(policy()), [
        (pod(S, 0), pod(R, 0), "SCTP/9003", True),
        (pod(S, 1), pod(R, 0), "SCTP/9005", True),
    ])


# -- CNPAdminTierGress / CNPBaselineTierGress -----------------------------------------------------
# tests/{admin,baseline-admin}-network-policy-standard-gress-rules.go @25f6bf05,
# base/{admin,baseline}_tier/standard-gress-rules-combined.yaml @30ea168a

AT_S = f"[{number('TCP', 80)}, {number('UDP', 53)}, {number('SCTP', 9003)}]"


def gress(tier: str, egress_rules: list[str], ingress_rules: list[str]) -> str:
    name, priority = ("gress-rules", 15) if tier == "Admin" else ("default", 10)
    return cnp(name, tier, priority, f"{{namespaces: {house_selector(G)}}}",
               ingress=ingress_rules, egress=egress_rules)


def gress_rules(tier: str) -> tuple[list[str], list[str]]:
    egress = three_houses("egress", tier, R, S, H, AT_S,
                          f"[{number('TCP', 8080)}, {number('UDP', 5353)}, "
                          f"{number('SCTP', 9003)}]")
    ingress = three_houses("ingress", tier, R, S, H, AT_S,
                           f"[{number('TCP', 80)}, {number('UDP', 5353)}, "
                           f"{number('SCTP', 9003)}]")
    return egress, ingress


GRESS_ALLOW = [  # allow-gress across protocols, then at the specified ports
    (pod(G, 0), pod(R, 0), "TCP/80", True), (pod(G, 1), pod(R, 0), "UDP/53", True),
    (pod(G, 0), pod(R, 0), "SCTP/9003", True),
    (pod(R, 0), pod(G, 0), "TCP/80", True), (pod(R, 1), pod(G, 0), "UDP/53", True),
    (pod(R, 1), pod(G, 0), "SCTP/9003", True),
    (pod(G, 0), pod(H, 1), "TCP/8080", True), (pod(G, 1), pod(H, 1), "TCP/80", False),
    (pod(G, 0), pod(H, 1), "UDP/5353", True), (pod(G, 1), pod(H, 1), "UDP/53", False),
    (pod(G, 0), pod(H, 1), "SCTP/9003", True), (pod(G, 1), pod(H, 1), "SCTP/9005", False),
    (pod(H, 0), pod(G, 1), "TCP/80", True), (pod(H, 1), pod(G, 1), "TCP/8080", False),
    (pod(H, 0), pod(G, 1), "UDP/5353", True), (pod(H, 1), pod(G, 1), "UDP/53", False),
    (pod(H, 0), pod(G, 1), "SCTP/9003", True), (pod(H, 1), pod(G, 1), "SCTP/9005", False),
]
GRESS_DENY = [  # index0/1 swapped in both directions; then deny-gress at the specified ports
    (pod(G, 0), pod(R, 1), "TCP/80", False), (pod(G, 1), pod(R, 1), "UDP/53", False),
    (pod(G, 0), pod(R, 1), "SCTP/9003", False),
    (pod(R, 0), pod(G, 1), "TCP/80", False), (pod(R, 1), pod(G, 1), "UDP/53", False),
    (pod(R, 1), pod(G, 1), "SCTP/9003", False),
    (pod(G, 0), pod(S, 0), "TCP/80", False), (pod(G, 1), pod(S, 0), "TCP/8080", True),
    (pod(G, 0), pod(S, 0), "UDP/53", False), (pod(G, 1), pod(S, 0), "UDP/5353", True),
    (pod(G, 0), pod(S, 0), "SCTP/9003", False), (pod(G, 1), pod(S, 0), "SCTP/9005", True),
    (pod(S, 0), pod(G, 0), "TCP/80", False), (pod(S, 1), pod(G, 0), "TCP/8080", True),
    (pod(S, 0), pod(G, 0), "UDP/53", False), (pod(S, 1), pod(G, 0), "UDP/5353", True),
    (pod(S, 0), pod(G, 0), "SCTP/9003", False), (pod(S, 1), pod(G, 0), "SCTP/9005", True),
]


def test_cnp_admin_tier_gress() -> None:
    egress, ingress = gress_rules("Admin")
    assert_probes(engine(gress("Admin", egress, ingress)), GRESS_ALLOW)
    egress, ingress = swapped(egress, 0, 1), swapped(ingress, 0, 1)
    assert_probes(engine(gress("Admin", egress, ingress)), GRESS_DENY)
    egress, ingress = swapped(egress, 0, 2), swapped(ingress, 0, 2)
    assert_probes(engine(gress("Admin", egress, ingress)), [  # pass-gress across protocols
        (pod(G, 0), pod(R, 0), "TCP/80", True), (pod(G, 0), pod(R, 0), "UDP/5353", True),
        (pod(G, 0), pod(R, 0), "SCTP/9003", True),
        (pod(R, 0), pod(G, 0), "TCP/80", True), (pod(R, 1), pod(G, 0), "UDP/53", True),
        (pod(R, 1), pod(G, 0), "SCTP/9003", True),
    ])
    egress, ingress = swapped(egress, 3, 4), swapped(ingress, 3, 4)
    assert_probes(engine(gress("Admin", egress, ingress)), [  # pass-gress at the ports
        (pod(G, 0), pod(S, 0), "TCP/80", True), (pod(G, 1), pod(S, 0), "TCP/8080", True),
        (pod(G, 0), pod(S, 0), "UDP/53", True), (pod(G, 1), pod(S, 0), "UDP/5353", True),
        (pod(G, 0), pod(S, 0), "SCTP/9003", True), (pod(G, 1), pod(S, 0), "SCTP/9005", True),
        (pod(S, 0), pod(G, 0), "TCP/80", True), (pod(S, 1), pod(G, 0), "TCP/8080", True),
        (pod(S, 0), pod(G, 0), "UDP/53", True), (pod(S, 1), pod(G, 0), "UDP/5353", True),
        (pod(S, 0), pod(G, 0), "SCTP/9003", True), (pod(S, 1), pod(G, 0), "SCTP/9005", True),
    ])


def test_cnp_baseline_tier_gress() -> None:
    egress, ingress = gress_rules("Baseline")
    assert_probes(engine(gress("Baseline", egress, ingress)), GRESS_ALLOW)
    egress, ingress = swapped(egress, 0, 1), swapped(ingress, 0, 1)
    assert_probes(engine(gress("Baseline", egress, ingress)), GRESS_DENY)


# -- CNPBaselineTierEgressTCP ---------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-egress-tcp-rules.go @24918313,
# base/baseline_tier/standard-egress-tcp-rules.yaml @4d38b37f

def test_cnp_baseline_tier_egress_tcp() -> None:
    rules = three_houses("egress", "Baseline", R, S, H, TCP80, f"[{number('TCP', 8080)}]")
    assert_probes(engine(one_direction("default", "Baseline", 10, G, "egress", rules)), [
        (pod(G, 0), pod(R, 0), "TCP/80", True),
        (pod(G, 1), pod(R, 0), "TCP/8080", True),
        (pod(G, 0), pod(H, 1), "TCP/8080", True),
        (pod(G, 1), pod(H, 1), "TCP/80", False),
        (pod(R, 0), pod(G, 0), "TCP/80", True),     # egress rules only: ingress unaffected,
        (pod(S, 0), pod(G, 1), "TCP/80", True),     # even where egress denies the other way
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(one_direction("default", "Baseline", 10, G, "egress", rules)), [
        (pod(G, 0), pod(R, 1), "TCP/80", False),
        (pod(G, 1), pod(R, 1), "TCP/8080", False),
        (pod(G, 0), pod(S, 0), "TCP/80", False),
        (pod(G, 1), pod(S, 0), "TCP/8080", True),
    ])


# -- CNPBaselineTierEgressUDP ---------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-egress-udp-rules.go @2d21d068 (the v1alpha1
# wording of the same probes), base/baseline_tier/standard-egress-udp-rules.yaml @30ea168a

def test_cnp_baseline_tier_egress_udp() -> None:
    rules = three_houses("egress", "Baseline", R, S, G, f"[{number('UDP', 5353)}]",
                         f"[{number('UDP', 53)}]")
    assert_probes(engine(one_direction("default", "Baseline", 10, H, "egress", rules)), [
        (pod(H, 0), pod(R, 0), "UDP/53", True),
        (pod(H, 1), pod(R, 0), "UDP/5353", True),
        (pod(H, 0), pod(G, 1), "UDP/53", True),
        (pod(H, 1), pod(G, 1), "UDP/5353", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(one_direction("default", "Baseline", 10, H, "egress", rules)), [
        (pod(H, 0), pod(R, 1), "UDP/53", False),
        (pod(H, 1), pod(R, 1), "UDP/5353", False),
        (pod(H, 0), pod(S, 0), "UDP/5353", False),
        (pod(H, 1), pod(S, 0), "UDP/53", True),
    ])


# -- CNPBaselineTierEgressSCTP --------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-egress-sctp-rules.go @25f6bf05,
# base/baseline_tier/standard-egress-sctp-rules.yaml @3afae2db

def test_cnp_baseline_tier_egress_sctp() -> None:
    rules = three_houses("egress", "Baseline", G, S, H, f"[{number('SCTP', 9003)}]",
                         f"[{number('SCTP', 9003)}]")
    assert_probes(engine(one_direction("default", "Baseline", 10, R, "egress", rules)), [
        (pod(R, 0), pod(G, 0), "SCTP/9003", True),
        (pod(R, 1), pod(G, 0), "SCTP/9005", True),
        (pod(R, 0), pod(H, 1), "SCTP/9003", True),
        (pod(R, 1), pod(H, 1), "SCTP/9005", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(one_direction("default", "Baseline", 10, R, "egress", rules)), [
        (pod(R, 0), pod(G, 1), "SCTP/9003", False),
        (pod(R, 1), pod(G, 1), "SCTP/9005", False),
        (pod(R, 0), pod(S, 0), "SCTP/9003", False),
        (pod(R, 1), pod(S, 0), "SCTP/9005", True),
    ])


# -- CNPBaselineTierIngressUDP --------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-ingress-udp-rules.go @25f6bf05,
# base/baseline_tier/standard-ingress-udp-rules.yaml @4d38b37f

def test_cnp_baseline_tier_ingress_udp() -> None:
    rules = three_houses("ingress", "Baseline", R, S, G, f"[{number('UDP', 5353)}]",
                         f"[{number('UDP', 53)}]")
    assert_probes(engine(one_direction("default", "Baseline", 10, H, "ingress", rules)), [
        (pod(R, 0), pod(H, 0), "UDP/53", True),
        (pod(R, 1), pod(H, 0), "UDP/5353", True),
        (pod(G, 0), pod(H, 1), "UDP/53", True),
        (pod(G, 1), pod(H, 1), "UDP/5353", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(one_direction("default", "Baseline", 10, H, "ingress", rules)), [
        (pod(R, 0), pod(H, 1), "UDP/53", False),
        (pod(R, 1), pod(H, 1), "UDP/5353", False),
        (pod(S, 0), pod(H, 0), "UDP/5353", False),
        (pod(S, 1), pod(H, 0), "UDP/53", True),
    ])


# -- CNPBaselineTierIngressSCTP -------------------------------------------------------------------
# tests/baseline-admin-network-policy-standard-ingress-sctp-rules.go @2d21d068 (the v1alpha1
# wording of the same probes), base/baseline_tier/standard-ingress-sctp-rules.yaml @295a4ff8

def test_cnp_baseline_tier_ingress_sctp() -> None:
    rules = three_houses("ingress", "Baseline", G, S, H, f"[{number('SCTP', 9003)}]",
                         f"[{number('SCTP', 9003)}]")
    assert_probes(engine(one_direction("default", "Baseline", 10, R, "ingress", rules)), [
        (pod(G, 0), pod(R, 0), "SCTP/9003", True),
        (pod(G, 1), pod(R, 0), "SCTP/9005", True),
        (pod(H, 0), pod(R, 1), "SCTP/9003", True),
        (pod(H, 1), pod(R, 1), "SCTP/9005", False),
    ])
    rules = swapped(rules, 0, 1)
    assert_probes(engine(one_direction("default", "Baseline", 10, R, "ingress", rules)), [
        (pod(G, 0), pod(R, 1), "SCTP/9003", False),
        (pod(G, 1), pod(R, 1), "SCTP/9005", False),
        (pod(S, 0), pod(R, 0), "SCTP/9003", False),
        (pod(S, 1), pod(R, 0), "SCTP/9005", True),
    ])
