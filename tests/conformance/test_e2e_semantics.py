"""One case per semantic rule of NetworkPolicy, on the e2e cluster (x, y, z x a, b, c).

Written from the Kubernetes documentation (concepts/services-networking/network-policies and the
networking.k8s.io/v1 API reference); the section a case rests on is named where it is subtle.
"""

from __future__ import annotations

import pytest

from tests.conformance.reachability import (
    ENDPOINTS,
    NAMESPACES,
    PODS,
    Reachability,
    assert_matches,
    engine_for,
)

DENY_INGRESS_X = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def policy(name: str, ns: str, spec: str) -> str:
    body = "\n".join("  " + line for line in spec.strip("\n").splitlines())
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: '{name}', namespace: '{ns}'}}\nspec:\n{body}\n")


def only(port: str, allowed_pairs: set[tuple[str, str]], into: list[str]) -> Reachability:
    """Ingress into `into` is denied except for `allowed_pairs`; everything else open."""
    r = Reachability(port)
    for dst in into:
        r.expect_all_ingress(dst, False)
    for src, dst in allowed_pairs:
        r.expect(src, dst, True)
    return r


# -- isolation --------------------------------------------------------------------------------

def test_no_policies_allow_everything() -> None:
    assert_matches(engine_for(""), Reachability("TCP/80"))


def test_default_deny_ingress_isolates_every_pod_of_the_namespace() -> None:
    r = Reachability("TCP/80")
    for pod in PODS:
        r.expect_all_ingress(f"x/{pod}", False)
    assert_matches(engine_for(DENY_INGRESS_X), r)


def test_deny_all_egress() -> None:
    e = engine_for(policy("deny-egress", "x", "podSelector: {}\npolicyTypes: [Egress]"))
    r = Reachability("TCP/80")
    for pod in PODS:
        r.expect_all_egress(f"x/{pod}", False)
    assert_matches(e, r)


def test_a_pod_reaches_itself_even_under_deny_all() -> None:
    # concepts/services-networking/network-policies: "exception: a pod cannot block access to
    # itself". (The e2e suite ignores loopback, kubernetes#95879; the model follows the docs.)
    e = engine_for(policy("deny-all", "x", "podSelector: {}\npolicyTypes: [Ingress, Egress]"))
    r = Reachability("TCP/80")
    for pod in PODS:
        r.expect_all_egress(f"x/{pod}", False).expect_all_ingress(f"x/{pod}", False)
    assert_matches(e, r)  # the harness keeps x/a -> x/a true
    assert e.check("x/a", "x/a", r.port).allowed


def test_allow_all_ingress_rule_reopens_an_isolated_namespace() -> None:
    e = engine_for(DENY_INGRESS_X + "---\n" + policy(
        "allow-all", "x", "podSelector: {}\ningress:\n- {}"))
    assert_matches(e, Reachability("TCP/80"))


def test_a_policy_only_isolates_pods_of_its_own_namespace() -> None:
    e = engine_for(policy("deny", "y", "podSelector: {matchLabels: {pod: a}}\n"
                                        "policyTypes: [Ingress]"))
    r = Reachability("TCP/80").expect_all_ingress("y/a", False)
    assert_matches(e, r)


def test_a_policy_selecting_no_pod_changes_nothing() -> None:
    e = engine_for(policy("nobody", "x", "podSelector: {matchLabels: {pod: zzz}}\n"
                                          "policyTypes: [Ingress, Egress]"))
    assert_matches(e, Reachability("TCP/80"))


def test_policy_types_egress_only_leaves_ingress_open() -> None:
    e = engine_for(policy("egress-only", "x", "podSelector: {matchLabels: {pod: a}}\n"
                                               "policyTypes: [Egress]"))
    r = Reachability("TCP/80").expect_all_egress("x/a", False)
    assert_matches(e, r)


def test_policy_types_omitted_with_egress_rules_isolates_egress_too() -> None:
    # API reference, NetworkPolicySpec.policyTypes: when omitted, Egress is added when the
    # policy has any egress rules.
    e = engine_for(policy("omitted", "x", """
podSelector: {matchLabels: {pod: a}}
egress:
- to: [{podSelector: {matchLabels: {pod: b}}}]
"""))
    r = Reachability("TCP/80").expect_all_egress("x/a", False).expect("x/a", "x/b", True)
    r.expect_all_ingress("x/a", False)  # Ingress is always among the defaulted types
    assert_matches(e, r)


def test_policy_types_omitted_with_empty_egress_does_not_isolate_egress() -> None:
    # The defaulting adds Egress only when the egress list is non-empty (len(spec.egress) != 0 in
    # the API server's SetDefaults_NetworkPolicySpec): `egress: []` is "no egress rules".
    e = engine_for(policy("omitted", "x", "podSelector: {matchLabels: {pod: a}}\negress: []"))
    r = Reachability("TCP/80").expect_all_ingress("x/a", False)
    assert_matches(e, r)


# -- peers ------------------------------------------------------------------------------------

def test_pod_selector_peer_means_the_policy_namespace_only() -> None:
    e = engine_for(policy("from-b", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{podSelector: {matchLabels: {pod: b}}}]
"""))
    assert_matches(e, only("TCP/80", {("x/b", "x/a")}, ["x/a"]))


def test_namespace_selector_alone_means_every_pod_of_those_namespaces() -> None:
    e = engine_for(policy("from-y", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
"""))
    assert_matches(e, only("TCP/80", {(f"y/{p}", "x/a") for p in PODS}, ["x/a"]))


def test_both_selectors_in_one_peer_are_anded() -> None:
    e = engine_for(policy("and", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from:
  - namespaceSelector: {matchLabels: {ns: "y"}}
    podSelector: {matchLabels: {pod: b}}
"""))
    assert_matches(e, only("TCP/80", {("y/b", "x/a")}, ["x/a"]))


def test_selectors_in_two_peers_are_ored() -> None:
    e = engine_for(policy("or", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from:
  - namespaceSelector: {matchLabels: {ns: "y"}}
  - podSelector: {matchLabels: {pod: b}}
"""))
    allowed = {(f"y/{p}", "x/a") for p in PODS} | {("x/b", "x/a")}
    assert_matches(e, only("TCP/80", allowed, ["x/a"]))


def test_empty_namespace_selector_means_all_namespaces() -> None:
    e = engine_for(policy("all-ns", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: c}}}]
"""))
    assert_matches(e, only("TCP/80", {(f"{n}/c", "x/a") for n in NAMESPACES}, ["x/a"]))


def test_empty_pod_selector_peer_means_own_namespace_only() -> None:
    e = engine_for(policy("own-ns", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{podSelector: {}}]
"""))
    assert_matches(e, only("TCP/80", {(f"x/{p}", "x/a") for p in PODS}, ["x/a"]))


def test_namespace_name_label_is_always_present() -> None:
    e = engine_for(policy("by-name", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]
"""))
    assert_matches(e, only("TCP/80", {(f"z/{p}", "x/a") for p in PODS}, ["x/a"]))


@pytest.mark.parametrize(("expression", "sources"), [
    ("{key: pod, operator: In, values: [b, c]}", {"b", "c"}),
    ("{key: pod, operator: NotIn, values: [b]}", {"a", "c"}),
    ("{key: pod, operator: Exists}", {"a", "b", "c"}),
    ("{key: pod, operator: DoesNotExist}", set()),
])
def test_pod_match_expressions(expression: str, sources: set[str]) -> None:
    e = engine_for(policy("exprs", "x", f"""
podSelector: {{matchLabels: {{pod: a}}}}
ingress:
- from: [{{podSelector: {{matchExpressions: [{expression}]}}}}]
"""))
    assert_matches(e, only("TCP/80", {(f"x/{p}", "x/a") for p in sources}, ["x/a"]))


@pytest.mark.parametrize(("expression", "namespaces"), [
    ("{key: ns, operator: In, values: ['y']}", {"y"}),
    ("{key: ns, operator: NotIn, values: ['y']}", {"x", "z"}),
    ("{key: team, operator: DoesNotExist}", {"x", "y", "z"}),
    ("{key: team, operator: Exists}", set()),
])
def test_namespace_match_expressions(expression: str, namespaces: set[str]) -> None:
    e = engine_for(policy("ns-exprs", "x", f"""
podSelector: {{matchLabels: {{pod: a}}}}
ingress:
- from: [{{namespaceSelector: {{matchExpressions: [{expression}]}}}}]
"""))
    allowed = {(f"{n}/{p}", "x/a") for n in namespaces for p in PODS}
    assert_matches(e, only("TCP/80", allowed, ["x/a"]))


def test_selector_match_labels_and_expressions_are_anded() -> None:
    e = engine_for(policy("both", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from:
  - namespaceSelector:
      matchLabels: {ns: "y"}
      matchExpressions: [{key: ns, operator: In, values: [z]}]
"""))
    assert_matches(e, only("TCP/80", set(), ["x/a"]))


# -- ports ------------------------------------------------------------------------------------

FROM_B_ON = """
podSelector: {{matchLabels: {{pod: a}}}}
ingress:
- from: [{{podSelector: {{matchLabels: {{pod: b}}}}}}]
  ports: {ports}
"""


@pytest.mark.parametrize(("ports", "probe", "allowed"), [
    ("[{port: 80}]", "TCP/80", True),
    ("[{port: 80}]", "TCP/81", False),
    ("[{port: 80}]", "UDP/80", False),  # protocol defaults to TCP
    ("[{protocol: UDP, port: 81}]", "UDP/81", True),
    ("[{protocol: UDP, port: 81}]", "TCP/81", False),
    ("[{protocol: SCTP, port: 80}]", "SCTP/80", True),
    ("[{protocol: UDP}]", "UDP/81", True),  # protocol only: every UDP port
    ("[{protocol: UDP}]", "TCP/80", False),
    ("[{port: serve-81-tcp}]", "TCP/81", True),  # named port resolved on the destination
    ("[{port: serve-81-tcp}]", "TCP/80", False),
    ("[{port: serve-81-udp}]", "TCP/81", False),  # name exists, but for UDP: TCP rule misses
    ("[{protocol: UDP, port: serve-81-udp}]", "UDP/81", True),
    ("[{port: 79, endPort: 80}]", "TCP/80", True),  # endPort range is inclusive
    ("[{port: 81, endPort: 90}]", "TCP/81", True),
    ("[{port: 81, endPort: 90}]", "TCP/80", False),
    ("[{port: 80}, {protocol: UDP, port: 81}]", "UDP/81", True),  # any port of the list
    ("[]", "SCTP/81", True),  # ports: [] = every port
])
def test_ingress_ports(ports: str, probe: str, allowed: bool) -> None:
    e = engine_for(policy("ports", "x", FROM_B_ON.format(ports=ports)))
    assert_matches(e, only(probe, {("x/b", "x/a")} if allowed else set(), ["x/a"]))


def test_egress_named_port_limits_egress_to_every_destination() -> None:
    # Every pod here names its TCP/80 serve-80-tcp, so this cannot tell the destination's naming
    # from the source's: test_e2e_cases.test_egress_named_port_resolves_on_the_destination_not_
    # the_source does, with a pod that names another number so.
    e = engine_for(policy("egress-named", "x", """
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress:
- ports: [{port: serve-80-tcp}]
"""))
    r = Reachability("TCP/80")  # every destination pod names its TCP/80 serve-80-tcp
    assert_matches(e, r)
    r81 = Reachability("TCP/81").expect_all_egress("x/a", False)
    assert_matches(e, r81)


def test_egress_named_port_never_matches_a_host_outside_the_cluster() -> None:
    e = engine_for(policy("egress-named", "x", """
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress:
- ports: [{port: serve-80-tcp}]
"""))
    r = Reachability("TCP/80", externals=("192.0.2.10",)).expect("x/a", "192.0.2.10", False)
    assert_matches(e, r)


# -- ipBlock ----------------------------------------------------------------------------------

def test_ip_block_matches_pod_ips_minus_except() -> None:
    e = engine_for(policy("cidr", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{ipBlock: {cidr: 10.0.2.0/24, except: [10.0.2.2/32]}}]
"""))
    assert_matches(e, only("TCP/80", {("y/a", "x/a"), ("y/c", "x/a")}, ["x/a"]))


def test_ip_block_cidr_with_host_bits_is_the_network() -> None:
    e = engine_for(policy("cidr", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{ipBlock: {cidr: 10.0.3.77/24}}]
"""))
    assert_matches(e, only("TCP/80", {(f"z/{p}", "x/a") for p in PODS}, ["x/a"]))


def test_ip_block_egress_to_a_host_outside_the_cluster() -> None:
    e = engine_for(policy("backup", "x", """
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress:
- to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
"""))
    r = Reachability("TCP/80", externals=("192.0.2.10", "192.0.2.200"))
    r.expect_all_egress("x/a", False).expect("x/a", "192.0.2.10", True)
    assert_matches(e, r)
    assert e.check("x/a", "192.0.2.10", r.port).allowed
    assert not e.check("x/a", "192.0.2.200", r.port).allowed


def test_hosts_outside_the_cluster_are_matched_only_by_ip_blocks() -> None:
    e = engine_for(policy("pods-only", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{namespaceSelector: {}}]
"""))
    r = Reachability("TCP/80", externals=("198.51.100.1",)).expect("198.51.100.1", "x/a", False)
    assert_matches(e, r)


def test_an_empty_from_admits_hosts_outside_the_cluster_too() -> None:
    e = engine_for(policy("any", "x", "podSelector: {matchLabels: {pod: a}}\n"
                                       "ingress:\n- ports: [{port: 80}]"))
    assert_matches(e, Reachability("TCP/80", externals=("198.51.100.1",)))


# -- combining --------------------------------------------------------------------------------

def test_egress_and_ingress_must_both_allow() -> None:
    e = engine_for(policy("egress", "y", """
podSelector: {matchLabels: {pod: b}}
policyTypes: [Egress]
egress:
- to: [{namespaceSelector: {matchLabels: {ns: x}}}]
""") + "---\n" + policy("ingress", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
"""))
    r = only("TCP/80", {(f"y/{p}", "x/a") for p in PODS}, ["x/a"])
    for dst in ENDPOINTS:
        if not dst.startswith("x/"):
            r.expect("y/b", dst, False)
    assert_matches(e, r)


def test_policies_are_a_union() -> None:
    e = engine_for(policy("from-b", "x", """
podSelector: {matchLabels: {pod: a}}
ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
""") + "---\n" + policy("from-z", "x", """
podSelector: {matchLabels: {pod: a}}
ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]
""") + "---\n" + DENY_INGRESS_X)
    r = only("TCP/80", {("x/b", "x/a")} | {(f"z/{p}", "x/a") for p in PODS},
             [f"x/{p}" for p in PODS])
    assert_matches(e, r)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_document_order_never_matters(seed: int) -> None:
    policies = (DENY_INGRESS_X + "---\n" + policy("from-b", "x", """
podSelector: {matchLabels: {pod: a}}
ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}], ports: [{port: 80}]}]
""") + "---\n" + policy("deny-egress-y", "y", "podSelector: {}\npolicyTypes: [Egress]"))
    base = engine_for(policies).matrix().to_json()
    assert engine_for(policies, shuffle_seed=seed).matrix().to_json() == base


def test_egress_deny_with_dns_allowed() -> None:
    # The classic: deny egress, then allow DNS (UDP/53) to kube-dns; here z/c plays kube-dns.
    e = engine_for(policy("deny-egress", "x", "podSelector: {}\npolicyTypes: [Egress]")
                   + "---\n" + policy("allow-dns", "x", """
podSelector: {}
policyTypes: [Egress]
egress:
- to: [{namespaceSelector: {matchLabels: {ns: z}}, podSelector: {matchLabels: {pod: c}}}]
  ports: [{protocol: UDP, port: 53}]
"""))
    dns = Reachability("UDP/53")
    for p in PODS:
        dns.expect_all_egress(f"x/{p}", False).expect(f"x/{p}", "z/c", True)
    assert_matches(e, dns)
    tcp80 = Reachability("TCP/80")
    for p in PODS:
        tcp80.expect_all_egress(f"x/{p}", False)
    assert_matches(e, tcp80)


def test_reasons_name_the_admitting_rule_and_the_isolating_policies() -> None:
    e = engine_for(DENY_INGRESS_X + "---\n" + policy("from-b", "x", """
podSelector: {matchLabels: {pod: a}}
ingress:
- from: [{podSelector: {matchLabels: {pod: c}}}]
- from: [{podSelector: {matchLabels: {pod: b}}}]
"""))
    port = Reachability("TCP/80").port
    allowed = e.check("x/b", "x/a", port)
    assert [str(r) for r in allowed.ingress.admitted_by] == ["x/from-b ingress[1]"]
    denied = e.check("y/a", "x/a", port)
    assert not denied.allowed
    assert denied.ingress.isolated_by == ("x/deny-ingress", "x/from-b")
