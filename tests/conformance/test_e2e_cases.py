"""Cases modelled on kubernetes/kubernetes test/e2e/network/netpol (and the rules they stand on).

Each case builds the shared x/y/z cluster with its policies through the `build` fixture, writes
the expected truth table from "everything allowed", and lets `assert_matches` hold it against
both `Engine.check` and `Engine.matrix`.

References are named by section:
  [concepts]  kubernetes.io/docs/concepts/services-networking/network-policies/
  [api]       kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/
  [labels]    kubernetes.io/docs/concepts/overview/working-with-objects/labels/
  [wellknown] kubernetes.io/docs/reference/labels-annotations-taints/
"""

from __future__ import annotations

from podwall.engine import RuleRef
from podwall.model import Direction
from tests.conformance.conftest import Build
from tests.conformance.reachability import (
    ENDPOINTS,
    PODS,
    Reachability,
    assert_matches,
    namespace_yaml,
    pod_yaml,
    policy,
    sctp,
    tcp,
    udp,
)

OUTSIDE = ("192.0.2.10", "198.51.100.7")  # TEST-NET-1 and TEST-NET-2: never pod IPs here

DENY_INGRESS_X = policy("deny-ingress", "x", "podSelector: {}\npolicyTypes: [Ingress]")
DENY_EGRESS_X = policy("deny-egress", "x", "podSelector: {}\npolicyTypes: [Egress]")

# y/d: one more pod whose port NAMED serve-80-tcp is number 8080, so that a named port
# resolves differently on it than on every other pod (used by the named-port cases).
WITH_Y_D = pod_yaml("y", "d", "10.0.2.4", ports=[("serve-80-tcp", 8080, "TCP")])
ENDPOINTS_WITH_Y_D = (*ENDPOINTS, "y/d")


# -- isolation and policyTypes -------------------------------------------------------------------

def test_policy_types_ingress_only_ignores_egress_rules(build: Build) -> None:
    # [api] NetworkPolicySpec.policyTypes lists the rule types the policy relates to; a policy
    # that says [Ingress] does not isolate egress, whatever its egress list holds.
    e = build(policy("ingress-only", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Ingress]
        egress:
        - to: [{podSelector: {matchLabels: {pod: b}}}]
    """))
    assert_matches(e, Reachability("TCP/80").expect_all_ingress("x/a", False))


def test_an_empty_ingress_list_isolates_and_admits_nothing(build: Build) -> None:
    # [api] NetworkPolicySpec.ingress: "If this field is empty then this NetworkPolicy does not
    # allow any traffic (and serves solely to ensure that the pods it selects are isolated)".
    e = build(policy("isolate-b", "x", "podSelector: {matchLabels: {pod: b}}\ningress: []"))
    assert_matches(e, Reachability("TCP/80").expect_all_ingress("x/b", False))


def test_target_selection_by_match_expressions(build: Build) -> None:
    e = build(policy("not-b", "x", """
        podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [b]}]}
        policyTypes: [Ingress]
    """))
    r = Reachability("TCP/80").expect_all_ingress("x/a", False).expect_all_ingress("x/c", False)
    assert_matches(e, r)


def test_ingress_and_egress_are_controlled_independently(build: Build) -> None:
    # e2e "should enforce policies to check ingress and egress policies can be controlled
    # independently based on PodSelector": allowing all egress of x/a says nothing of its ingress.
    allow_egress = policy("allow-egress", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress: [{}]
    """)
    assert_matches(build(allow_egress), Reachability("TCP/80"))
    deny_ingress = policy("deny-ingress-a", "x",
                          "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress]")
    assert_matches(build(allow_egress, deny_ingress),
                   Reachability("TCP/80").expect_all_ingress("x/a", False))


def test_ingress_allow_all_policy_takes_precedence(build: Build) -> None:
    # e2e "should enforce multiple ingress policies with ingress allow-all policy taking
    # precedence". [concepts] "Network policies do not conflict; they are additive."
    only_80 = policy("only-80", "x", "podSelector: {}\ningress:\n- ports: [{port: 80}]")
    r81 = Reachability("TCP/81").expect_peer("*", "x/*", False)
    assert_matches(build(only_80), Reachability("TCP/80"), r81)
    allow_all = policy("allow-all", "x", "podSelector: {}\ningress: [{}]")
    assert_matches(build(only_80, allow_all), Reachability("TCP/80"), Reachability("TCP/81"))


def test_egress_allow_all_policy_takes_precedence(build: Build) -> None:
    # e2e "should enforce multiple egress policies with egress allow-all policy taking precedence"
    only_80 = policy("only-80", "x", """
        podSelector: {}
        policyTypes: [Egress]
        egress:
        - ports: [{port: 80}]
    """)
    r81 = Reachability("TCP/81").expect_peer("x/*", "*", False)
    assert_matches(build(only_80), Reachability("TCP/80"), r81)
    allow_all = policy("allow-all", "x", "podSelector: {}\npolicyTypes: [Egress]\negress: [{}]")
    assert_matches(build(only_80, allow_all), Reachability("TCP/80"), Reachability("TCP/81"))


# -- peers ---------------------------------------------------------------------------------------

def test_an_explicitly_empty_from_matches_every_source(build: Build) -> None:
    # [api] NetworkPolicyIngressRule.from: "If this field is empty or missing, this rule matches
    # all sources (traffic not restricted by source)" - hosts outside the cluster included.
    e = build(policy("any-source-81", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: []
          ports: [{port: 81}]
    """))
    r80 = Reachability("TCP/80", externals=OUTSIDE).expect_all_ingress("x/a", False)
    assert_matches(e, r80, Reachability("TCP/81", externals=OUTSIDE))


def test_an_explicitly_empty_to_matches_every_destination(build: Build) -> None:
    # [api] NetworkPolicyEgressRule.to: "If this field is empty or missing, this rule matches
    # all destinations (traffic not restricted by destination)".
    e = build(policy("any-dest-dns", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to: []
          ports: [{protocol: UDP, port: 53}]
    """))
    dns = Reachability("UDP/53", externals=OUTSIDE)
    web = Reachability("TCP/80", externals=OUTSIDE).expect_all_egress("x/a", False)
    assert_matches(e, dns, web)


def test_multiple_pod_and_namespace_expressions_in_one_peer(build: Build) -> None:
    # e2e "should enforce policy based on Multiple PodSelectors and NamespaceSelectors".
    e = build(policy("b-c-outside-x", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from:
          - namespaceSelector:
              matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]
            podSelector:
              matchExpressions: [{key: pod, operator: In, values: [b, c]}]
    """))
    r = Reachability("TCP/80").expect_all_ingress("x/a", False)
    for src in ("y/b", "y/c", "z/b", "z/c"):
        r.expect(src, "x/a", True)
    assert_matches(e, r)


def test_namespace_not_in_or_pod_selector_in_two_peers(build: Build) -> None:
    # e2e "should enforce policy based on PodSelector or NamespaceSelector".
    e = build(policy("outside-x-or-b", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from:
          - namespaceSelector:
              matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]
          - podSelector: {matchLabels: {pod: b}}
    """))
    assert_matches(e, Reachability("TCP/80").expect("x/c", "x/a", False))


def test_both_selectors_empty_in_one_peer_mean_every_pod_but_no_outside_host(build: Build) -> None:
    # e2e "should enforce policy to allow ingress traffic for a target". [api] NetworkPolicyPeer:
    # an empty namespaceSelector selects all namespaces, an empty podSelector all pods; neither
    # ever selects an address outside the cluster (only ipBlock does).
    e = build(DENY_INGRESS_X, policy("allow-all-to-a", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{namespaceSelector: {}, podSelector: {}}]
    """))
    r = Reachability("TCP/80", externals=OUTSIDE)
    r.expect_all_ingress("x/b", False).expect_all_ingress("x/c", False)
    for host in OUTSIDE:
        r.expect(host, "x/a", False)
    assert_matches(e, r)


def test_egress_to_one_pod_of_another_namespace(build: Build) -> None:
    # e2e "should enforce egress policy allowing traffic to a server in a different namespace
    # based on PodSelector and NamespaceSelector".
    e = build(policy("to-y-a", "x", """
        podSelector: {matchLabels: {pod: a}}
        egress:
        - to:
          - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}
            podSelector: {matchLabels: {pod: a}}
    """))
    # policyTypes omitted: Ingress is always set, Egress because there are egress rules.
    r = Reachability("TCP/80").expect_all_egress("x/a", False).expect("x/a", "y/a", True)
    r.expect_all_ingress("x/a", False)
    assert_matches(e, r)


def test_egress_by_namespace_name_not_in(build: Build) -> None:
    # e2e "should enforce policy based on NamespaceSelector with MatchExpressions using default
    # ns label".
    e = build(policy("not-to-y", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to:
          - namespaceSelector:
              matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: ["y"]}]
    """))
    assert_matches(e, Reachability("TCP/80").expect_peer("x/a", "y/*", False))


def test_not_in_also_selects_objects_without_the_key(build: Build) -> None:
    # [labels] set-based requirements: "`tier notin (frontend,backend)` selects all resources
    # with key equal to tier and values other than frontend and backend, and all resources with
    # no labels with the tier key". No pod or namespace here has a `team` label.
    e = build(policy("not-red", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from:
          - namespaceSelector:
              matchExpressions: [{key: team, operator: NotIn, values: [red]}]
            podSelector:
              matchExpressions: [{key: team, operator: NotIn, values: [red]}]
    """))
    r = Reachability("TCP/80", externals=OUTSIDE)
    for host in OUTSIDE:
        r.expect(host, "x/a", False)
    assert_matches(e, r)


def test_requirements_of_one_selector_are_anded(build: Build) -> None:
    # [api] LabelSelector: "The requirements are ANDed."
    e = build(policy("a-or-b-but-not-a", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from:
          - podSelector:
              matchExpressions:
              - {key: pod, operator: In, values: [a, b]}
              - {key: pod, operator: NotIn, values: [a]}
    """))
    assert_matches(e, Reachability("TCP/80").expect_all_ingress("x/a", False)
                   .expect("x/b", "x/a", True))


def test_the_namespace_name_label_always_holds_the_name(build: Build) -> None:
    # [wellknown] kubernetes.io/metadata.name: "The Kubernetes API server (part of the control
    # plane) sets this label on all namespaces. The label value is set to the name of the
    # namespace. You can't change this label's value." A manifest claiming otherwise loses.
    w = namespace_yaml("w", {"ns": "w", "kubernetes.io/metadata.name": "impostor"})
    extra = w + "---\n" + pod_yaml("w", "a", "10.0.4.1")
    e = build(policy("from-w", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: w}}}]
    """), policy("from-impostor", "x", """
        podSelector: {matchLabels: {pod: b}}
        ingress:
        - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: impostor}}}]
    """), extra=extra)
    r = Reachability("TCP/80", endpoints=(*ENDPOINTS, "w/a"))
    r.expect_all_ingress("x/a", False).expect("w/a", "x/a", True).expect_all_ingress("x/b", False)
    assert_matches(e, r)


# -- ports ---------------------------------------------------------------------------------------

def test_end_port_range_is_inclusive_at_both_ends(build: Build) -> None:
    # [api] NetworkPolicyPort.endPort: "the range of ports from port to endPort if set,
    # inclusive"; [concepts] "Targeting a range of ports".
    e = build(policy("range", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{podSelector: {matchLabels: {pod: b}}}]
          ports: [{protocol: TCP, port: 80, endPort: 81}]
    """))
    inside = [Reachability(p).expect_all_ingress("x/a", False).expect("x/b", "x/a", True)
              for p in ("TCP/80", "TCP/81")]
    outside = [Reachability(p).expect_all_ingress("x/a", False) for p in ("TCP/79", "TCP/82")]
    assert_matches(e, *inside, *outside)


def test_end_port_range_keeps_its_protocol(build: Build) -> None:
    e = build(policy("udp-range", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - ports: [{protocol: UDP, port: 80, endPort: 81}]
    """))
    assert_matches(e, Reachability("UDP/81"), Reachability("UDP/80"),
                   Reachability("TCP/81").expect_all_ingress("x/a", False),
                   Reachability("SCTP/80").expect_all_ingress("x/a", False))


def test_named_port_for_a_whole_namespace(build: Build) -> None:
    # e2e "should allow ingress access on one named port".
    e = build(policy("only-81", "x", "podSelector: {}\ningress:\n- ports: [{port: serve-81-tcp}]"))
    assert_matches(e, Reachability("TCP/81"),
                   Reachability("TCP/80").expect_peer("*", "x/*", False))


def test_named_port_from_a_namespace(build: Build) -> None:
    # e2e "should allow ingress access from namespace on one named port".
    e = build(policy("y-on-80", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]
          ports: [{protocol: TCP, port: serve-80-tcp}]
    """))
    r80 = Reachability("TCP/80").expect_peer("x/*", "x/a", False).expect_peer("z/*", "x/a", False)
    assert_matches(e, r80, Reachability("TCP/81").expect_all_ingress("x/a", False))


def test_ingress_named_port_resolves_on_each_destination_pod(build: Build) -> None:
    # [api] NetworkPolicyPort.port: "a numerical or named port on a pod" - the pod being
    # protected; y/d names 8080 serve-80-tcp, the others name 80 so.
    e = build(policy("serve-80", "y", "podSelector: {}\ningress:\n- ports: [{port: serve-80-tcp}]"),
              extra=WITH_Y_D)
    r80 = Reachability("TCP/80", endpoints=ENDPOINTS_WITH_Y_D).expect_all_ingress("y/d", False)
    r8080 = Reachability("TCP/8080", endpoints=ENDPOINTS_WITH_Y_D)
    for pod in PODS:
        r8080.expect_all_ingress(f"y/{pod}", False)
    assert_matches(e, r80, r8080)


def test_egress_named_port_resolves_on_the_destination_not_the_source(build: Build) -> None:
    # e2e "should allow egress access on one named port": for egress, the named port is the
    # destination pod's (the source x/a names 80 serve-80-tcp; y/d names 8080 so).
    e = build(policy("egress-serve-80", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - ports: [{port: serve-80-tcp}]
    """), extra=WITH_Y_D)
    r80 = Reachability("TCP/80", endpoints=ENDPOINTS_WITH_Y_D).expect("x/a", "y/d", False)
    r8080 = Reachability("TCP/8080", endpoints=ENDPOINTS_WITH_Y_D).expect_all_egress("x/a", False)
    r8080.expect("x/a", "y/d", True)
    r81 = Reachability("TCP/81", endpoints=ENDPOINTS_WITH_Y_D).expect_all_egress("x/a", False)
    assert_matches(e, r80, r8080, r81)


def test_a_protocol_without_port_admits_every_port_of_that_protocol(build: Build) -> None:
    # e2e "should enforce ingress policy allowing any port traffic to a server on a specific
    # protocol". [api] NetworkPolicyPort.port: "If this field is not provided, this matches all
    # port names and numbers."
    e = build(policy("tcp-any", "x", "podSelector: {matchLabels: {pod: a}}\n"
                                     "ingress:\n- ports: [{protocol: TCP}]"))
    assert_matches(e, Reachability("TCP/80"), Reachability("TCP/81"), Reachability("TCP/6443"),
                   Reachability("UDP/80").expect_all_ingress("x/a", False),
                   Reachability("SCTP/81").expect_all_ingress("x/a", False))


def test_sctp_rule_never_admits_tcp(build: Build) -> None:
    # e2e "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'" and "should properly
    # isolate pods that are selected by a policy allowing SCTP".
    e = build(DENY_INGRESS_X, policy("sctp-81", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - ports: [{protocol: SCTP, port: 81}]
    """))
    assert_matches(e, Reachability("TCP/81").expect_peer("*", "x/*", False),
                   Reachability("SCTP/81").expect_peer("*", "x/b", False)
                   .expect_peer("*", "x/c", False))
    assert e.check("y/a", "x/a", sctp(81)).allowed
    assert not e.check("y/a", "x/a", tcp(81)).allowed


def test_udp_default_deny_and_allow(build: Build) -> None:
    # e2e "NetworkPolicy between server and client using UDP": default deny, then y -> x/a on
    # UDP 81 only.
    e = build(DENY_INGRESS_X, policy("udp-81-from-y", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
          ports: [{protocol: UDP, port: 81}]
    """))
    udp81 = Reachability("UDP/81").expect_peer("*", "x/*", False).expect_peer("y/*", "x/a", True)
    assert_matches(e, udp81, Reachability("UDP/80").expect_peer("*", "x/*", False),
                   Reachability("TCP/81").expect_peer("*", "x/*", False))


def test_ports_and_peers_of_a_rule_are_anded_and_rules_are_ored(build: Build) -> None:
    # [concepts] "Each rule allows traffic which matches both the from and ports sections";
    # the rules of a policy, like the policies, add up.
    e = build(policy("two-rules", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{podSelector: {matchLabels: {pod: b}}}]
          ports: [{port: 80}]
        - from: [{podSelector: {matchLabels: {pod: c}}}]
          ports: [{port: 81}]
    """))
    assert_matches(e,
                   Reachability("TCP/80").expect_all_ingress("x/a", False).expect("x/b", "x/a", True),
                   Reachability("TCP/81").expect_all_ingress("x/a", False).expect("x/c", "x/a", True))


def test_stacked_policies_with_overlapping_pod_selectors(build: Build) -> None:
    # e2e "should enforce multiple, stacked policies with overlapping podSelectors".
    def from_y_on(port: int) -> str:
        return policy(f"y-on-{port}", "x", f"""
            podSelector: {{matchLabels: {{pod: a}}}}
            ingress:
            - from: [{{namespaceSelector: {{matchLabels: {{ns: "y"}}}}}}]
              ports: [{{protocol: TCP, port: {port}}}]
        """)

    def allowed_from_y(port: str) -> Reachability:
        return Reachability(port).expect_all_ingress("x/a", False).expect_peer("y/*", "x/a", True)

    assert_matches(build(from_y_on(81)), allowed_from_y("TCP/81"),
                   Reachability("TCP/80").expect_all_ingress("x/a", False))
    assert_matches(build(from_y_on(81), from_y_on(80)),
                   allowed_from_y("TCP/81"), allowed_from_y("TCP/80"))


def test_ingress_and_egress_in_one_policy(build: Build) -> None:
    # e2e "should work with Ingress, Egress specified together".
    e = build(policy("both", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress, Ingress]
        ingress:
        - from: [{podSelector: {matchLabels: {pod: b}}}]
        egress:
        - ports: [{port: 80}]
    """))
    r80 = Reachability("TCP/80").expect_all_ingress("x/a", False).expect("x/b", "x/a", True)
    r81 = Reachability("TCP/81").expect_all_ingress("x/a", False).expect_all_egress("x/a", False)
    r81.expect("x/b", "x/a", True)
    assert_matches(e, r80, r81)


# -- ipBlock -------------------------------------------------------------------------------------

def test_ip_block_egress_to_one_pod_ip(build: Build) -> None:
    # e2e "should allow egress access to server in CIDR block": a /32 of y/b's podIP.
    e = build(policy("to-y-b-ip", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to: [{ipBlock: {cidr: 10.0.2.2/32}}]
    """))
    assert_matches(e, Reachability("TCP/80").expect_all_egress("x/a", False)
                   .expect("x/a", "y/b", True))


def test_ip_block_except_carves_out_one_pod(build: Build) -> None:
    # e2e "should enforce except clause while egress access to server in CIDR block": the /4
    # around x/b's IP, except x/b itself. Outside hosts beyond the /4 are not in the block.
    e = build(policy("big-minus-x-b", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to: [{ipBlock: {cidr: 0.0.0.0/4, except: [10.0.1.2/32]}}]
    """))
    r = Reachability("TCP/80", externals=OUTSIDE).expect("x/a", "x/b", False)
    for host in OUTSIDE:
        r.expect("x/a", host, False)
    assert_matches(e, r)


def test_an_ip_in_except_can_be_allowed_by_another_policy(build: Build) -> None:
    # e2e "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed".
    # [concepts] policies are additive: an `except` only narrows its own peer, it never denies.
    big = policy("big-minus-x-b", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to: [{ipBlock: {cidr: 0.0.0.0/4, except: [10.0.1.2/32]}}]
    """)
    x_b = policy("x-b-only", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to: [{ipBlock: {cidr: 10.0.1.2/32}}]
    """)
    assert_matches(build(big, x_b), Reachability("TCP/80"))


def test_ip_block_ingress_from_hosts_outside_the_cluster(build: Build) -> None:
    e = build(policy("from-test-net-1", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from: [{ipBlock: {cidr: 192.0.2.0/24}}]
    """))
    r = Reachability("TCP/80", externals=OUTSIDE).expect_all_ingress("x/a", False)
    r.expect("192.0.2.10", "x/a", True)
    assert_matches(e, r)
    verdict = e.check("192.0.2.10", "x/a", tcp(80))  # an IP string as the source
    assert verdict.allowed and verdict.ingress.allowed
    assert verdict.ingress.admitted_by == (RuleRef("x/from-test-net-1", Direction.INGRESS, 0),)
    assert not e.check("198.51.100.7", "x/a", tcp(80)).allowed


def test_ip_blocks_and_selectors_in_separate_peers_are_ored(build: Build) -> None:
    e = build(policy("z-by-cidr-or-b", "x", """
        podSelector: {matchLabels: {pod: a}}
        ingress:
        - from:
          - ipBlock: {cidr: 10.0.3.0/24}
          - podSelector: {matchLabels: {pod: b}}
    """))
    r = Reachability("TCP/80").expect_all_ingress("x/a", False).expect("x/b", "x/a", True)
    assert_matches(e, r.expect_peer("z/*", "x/a", True))


def test_deny_egress_reaches_outside_hosts_but_not_their_ingress(build: Build) -> None:
    # Default deny egress stops x's pods reaching anything, outside hosts included, but does not
    # isolate x's ingress ([concepts] "Default deny all egress traffic": "This policy does not
    # change the ingress isolation behavior"). Between two outside hosts there is no pod, and
    # [concepts] "NetworkPolicies apply to a connection with a pod on one or both ends, and are
    # not relevant to other connections".
    e = build(DENY_EGRESS_X)
    r = Reachability("TCP/80", externals=OUTSIDE).expect_peer("x/*", "*", False)
    assert_matches(e, r)
    assert e.check(OUTSIDE[0], "x/a", tcp(80)).allowed
    assert e.check(OUTSIDE[0], OUTSIDE[1], tcp(80)).allowed


# -- combining and reasons -----------------------------------------------------------------------

def test_egress_denied_at_the_client_even_if_the_server_allows(build: Build) -> None:
    # e2e "should support denying of egress traffic on the client side (even if the server
    # explicitly allows this traffic)". [concepts] "both the egress policy on the source pod and
    # the ingress policy on the destination pod need to allow the connection".
    from_x_a = """
        podSelector: {{matchLabels: {{pod: {pod}}}}}
        ingress:
        - from:
          - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: x}}}}
            podSelector: {{matchLabels: {{pod: a}}}}
    """
    e = build(policy("to-y-a", "x", """
        podSelector: {matchLabels: {pod: a}}
        policyTypes: [Egress]
        egress:
        - to:
          - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}
            podSelector: {matchLabels: {pod: a}}
    """), policy("y-a-from-x-a", "y", from_x_a.format(pod="a")),
        policy("y-b-from-x-a", "y", from_x_a.format(pod="b")))
    r = Reachability("TCP/80").expect_all_egress("x/a", False)
    r.expect_all_ingress("y/a", False).expect_all_ingress("y/b", False)
    r.expect("x/a", "y/a", True)
    assert_matches(e, r)
    v = e.check("x/a", "y/b", tcp(80))
    assert (v.allowed, v.egress.allowed, v.ingress.allowed) == (False, False, True)


def test_verdicts_are_per_connection_direction(build: Build) -> None:
    # The model answers "may src open a connection to dst". Replies of an allowed connection
    # are implicitly allowed ([concepts] "The two sorts of pod isolation") and are not modelled
    # (e2e probes are new connections too), so the table may be asymmetric.
    e = build(policy("isolate-a", "x", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress]"))
    out = e.check("x/a", "y/b", tcp(80))
    back = e.check("y/b", "x/a", tcp(80))
    assert out.allowed and out.egress.allowed and out.ingress.allowed
    assert not out.ingress.isolated_by
    assert not back.allowed and back.egress.allowed and not back.ingress.allowed
    assert back.ingress.isolated_by == ("x/isolate-a",)
    assert back.ingress.admitted_by == ()


def test_egress_reasons_name_the_admitting_rule(build: Build) -> None:
    e = build(DENY_EGRESS_X, policy("allow-dns", "x", """
        podSelector: {}
        policyTypes: [Egress]
        egress:
        - to: [{podSelector: {matchLabels: {pod: b}}}]
        - to: [{namespaceSelector: {matchLabels: {ns: z}}, podSelector: {matchLabels: {pod: c}}}]
          ports: [{protocol: UDP, port: 53}]
    """))
    v = e.check("x/a", "z/c", udp(53))
    assert v.allowed
    assert v.egress.admitted_by == (RuleRef("x/allow-dns", Direction.EGRESS, 1),)
    assert set(v.egress.isolated_by) == {"x/deny-egress", "x/allow-dns"}
    assert v.ingress.isolated_by == ()
    denied = e.check("x/a", "z/c", tcp(53))
    assert not denied.allowed and denied.egress.admitted_by == ()


def test_the_setup_is_what_the_cases_assume(build: Build) -> None:
    # The harness's own premises: nine pods in matrix order, and nothing isolated without policies.
    e = build()
    m = e.matrix([tcp(80), udp(81), sctp(80)])
    assert m.endpoints == ENDPOINTS
    assert m.to_json()["ports"] == ["TCP/80", "UDP/81", "SCTP/80"]
    assert all(m.is_allowed(p, i, j) for p in m.ports
               for i in range(len(ENDPOINTS)) for j in range(len(ENDPOINTS)))
