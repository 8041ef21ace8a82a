"""The cluster-admin tiers in `check`: Admin by priority, rules in order, Accept/Deny/Pass;
NetworkPolicy unchanged; Baseline only where no NetworkPolicy isolates; then default allow."""

from __future__ import annotations

import pytest

from podwall.engine import Engine, Verdict
from podwall.model import PortQuery
from tests.manifests.helpers import load_text

PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {team: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: ax, namespace: a, labels: {app: ax}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: by, namespace: b, labels: {app: by}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
"""


def cnp(name: str, tier: str, priority: int, body: str, subject: str = "{namespaces: {}}") -> str:
    return (f"---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
            f"metadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n"
            f"  subject: {subject}\n{body}")


def ingress(*rules: str) -> str:
    return "  ingress:\n" + "".join(f"  - {r}\n" for r in rules)


def egress(*rules: str) -> str:
    return "  egress:\n" + "".join(f"  - {r}\n" for r in rules)


NP_DENY_B = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: b}
spec: {podSelector: {}}
"""
NP_ALLOW_B = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: b}
spec: {podSelector: {}, ingress: [{}]}
"""


def check(text: str, src: str = "a/ax", dst: str = "b/by", port: str = "TCP/8080") -> Verdict:
    result = load_text(PODS + text)
    assert all(d.severity.name != "ERROR" for d in result.diagnostics), \
        [str(d) for d in result.diagnostics]
    return Engine(result.cluster).check(src, dst, PortQuery.parse(port))


def a(action: str) -> str:
    """A rule for traffic from namespace a."""
    return "{action: " + action + ", from: [{namespaces: {matchLabels: {team: a}}}]}"


def every(action: str) -> str:
    """A rule for traffic from every namespace."""
    return "{action: " + action + ", from: [{namespaces: {}}]}"


def test_admin_deny_beats_a_networkpolicy_allow() -> None:
    v = check(NP_ALLOW_B + cnp("deny", "Admin", 5, ingress(a("Deny"))))
    assert not v.allowed
    assert (v.ingress.tier, str(v.ingress.decided_by)) == ("admin", "admin/deny ingress[0]")


def test_admin_accept_beats_a_networkpolicy_deny() -> None:
    v = check(NP_DENY_B + cnp("accept", "Admin", 5, ingress(a("Accept"))))
    assert v.allowed and v.ingress.tier == "admin"


def test_lower_priority_number_first() -> None:
    text = cnp("later", "Admin", 20, ingress(a("Accept"))) + \
        cnp("earlier", "Admin", 10, ingress(a("Deny")))
    v = check(text)
    assert not v.allowed and v.ingress.decided_by is not None
    assert v.ingress.decided_by.policy == "admin/earlier"


def test_equal_priorities_go_by_name() -> None:
    v = check(cnp("b-accept", "Admin", 10, ingress(a("Accept")))
              + cnp("a-deny", "Admin", 10, ingress(a("Deny"))))
    assert not v.allowed


def test_rules_in_order_first_match_decides() -> None:
    v = check(cnp("p", "Admin", 1, ingress(a("Accept"), every("Deny"))))
    assert v.allowed
    v = check(cnp("p", "Admin", 1, ingress(every("Deny"), a("Accept"))))
    assert not v.allowed


def test_pass_skips_the_rest_of_the_admin_tier_to_the_networkpolicy() -> None:
    text = NP_DENY_B + cnp("pass", "Admin", 1, ingress(a("Pass"))) + \
        cnp("accept", "Admin", 2, ingress(a("Accept")))
    v = check(text)
    assert not v.allowed
    assert v.ingress.tier == "networkpolicy"
    assert [str(r) for r in v.ingress.passed] == ["admin/pass ingress[0]"]


def test_pass_without_a_networkpolicy_goes_to_the_baseline() -> None:
    text = cnp("pass", "Admin", 1, ingress(a("Pass"))) + \
        cnp("deny", "Baseline", 1, ingress(a("Deny")))
    v = check(text)
    assert not v.allowed and v.ingress.tier == "baseline"


def test_baseline_only_where_no_networkpolicy_isolates() -> None:
    base = cnp("deny", "Baseline", 1, ingress(a("Deny")))
    assert not check(base).allowed
    v = check(base + NP_ALLOW_B)
    assert v.allowed and v.ingress.tier == "networkpolicy"


def test_baseline_pass_falls_to_default_allow() -> None:
    v = check(cnp("p", "Baseline", 1, ingress(a("Pass"), a("Deny")))
              + cnp("q", "Baseline", 2, ingress(a("Deny"))))
    assert v.allowed and v.ingress.tier == "default"


def test_subject_selects_the_policy() -> None:
    v = check(cnp("deny", "Admin", 1, ingress(every("Deny")),
                  subject="{namespaces: {matchLabels: {team: a}}}"))
    assert v.allowed  # the destination's namespace is b


def test_each_direction_alone_accept_at_egress_does_not_open_ingress() -> None:
    text = cnp("out", "Admin", 1, egress("{action: Accept, to: [{namespaces: {}}]}")) + \
        cnp("in", "Admin", 2, ingress(a("Deny")))
    v = check(text)
    assert v.egress.allowed and not v.ingress.allowed and not v.allowed


@pytest.mark.parametrize(("protocols", "port", "hit"), [
    ("[{tcp: {destinationPort: {number: 8080}}}]", "TCP/8080", True),
    ("[{tcp: {destinationPort: {number: 8080}}}]", "UDP/8080", False),
    ("[{tcp: {destinationPort: {range: {start: 8000, end: 8079}}}}]", "TCP/8080", False),
    ("[{tcp: {destinationPort: {range: {start: 8000, end: 8080}}}}]", "TCP/8080", True),
    ("[{destinationNamedPort: http}]", "TCP/8080", True),   # by has http at 8080
    ("[{destinationNamedPort: http}]", "TCP/80", False),
])
def test_ports(protocols: str, port: str, hit: bool) -> None:
    rule = "{action: Deny, from: [{namespaces: {}}], protocols: " + protocols + "}"
    assert check(cnp("p", "Admin", 1, ingress(rule)), port=port).allowed is not hit


def test_networks_match_pods_and_outside_hosts() -> None:
    rule = "{action: Deny, to: [{networks: ['0.0.0.0/0']}]}"
    text = cnp("p", "Admin", 1, egress(rule))
    assert not check(text).allowed
    assert not check(text, dst="192.0.2.1").allowed


def test_nodes_and_domain_names_cannot_be_decided_offline() -> None:
    text = cnp("p", "Admin", 1, egress("{action: Deny, to: [{nodes: {}}]}",
                                       "{action: Accept, to: [{domainNames: [example.com]}]}"))
    pod = check(text)  # a pod is neither a node nor a domain name
    assert pod.allowed and pod.decided
    outside = check(text, dst="192.0.2.1")
    assert not outside.decided
    assert [str(r) for r in outside.egress.unknown] == ["admin/p egress[0]", "admin/p egress[1]"]


def test_unknown_rule_that_cannot_change_the_answer_is_decided() -> None:
    text = cnp("p", "Admin", 1, egress("{action: Accept, to: [{domainNames: [example.com]}]}",
                                       "{action: Accept, to: [{networks: ['0.0.0.0/0']}]}"))
    v = check(text, dst="192.0.2.1")
    assert v.allowed and v.decided and v.egress.unknown


def test_undecided_egress_but_ingress_denies_is_decided() -> None:
    text = cnp("p", "Admin", 1, egress("{action: Deny, to: [{nodes: {}}]}")) + \
        cnp("q", "Admin", 1, ingress(a("Deny")))
    v = check(text)
    assert not v.allowed and v.decided


def test_without_cluster_policies_nothing_changes() -> None:
    v = check(NP_DENY_B)
    assert v.ingress.tier == "" and "tier" not in v.ingress.to_json()
