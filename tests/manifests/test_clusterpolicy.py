"""ClusterNetworkPolicy (v1alpha2) and v1alpha1 Admin/BaselineAdminNetworkPolicy reading and
validation: the CRD's OpenAPI and CEL rules, at the exact field path and line.

Each case is a `spec:` body appended to a header (so `spec:` is line 4), the field path, the line
of the deepest field on that path, and a key part of the message.
"""

from __future__ import annotations

import ipaddress

import pytest

from podwall.model import LabelSelector, Protocol
from podwall.model.clusterpolicy import (
    Action,
    ClusterPeer,
    ClusterPort,
    PeerKind,
    Subject,
    Tier,
)
from tests.manifests.helpers import errors_of, load_text, only, warnings_of

CNP = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n" \
      "metadata: {name: p}\nspec:\n"
ANP = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n" \
      "metadata: {name: p}\nspec:\n"
BANP = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n" \
       "metadata: {name: default}\nspec:\n"
HEAD = "  tier: Admin\n  priority: 5\n  subject: {namespaces: {}}\n"  # lines 5-7

CASES = {
    "tier absent": (CNP, "  priority: 1\n  subject: {namespaces: {}}\n", "spec.tier", 4,
                    "Required value"),
    "tier unknown": (CNP, "  tier: Middle\n  priority: 1\n  subject: {namespaces: {}}\n",
                     "spec.tier", 5,
                     'Unsupported value: "Middle": supported values: "Admin", "Baseline"'),
    "priority absent": (CNP, "  tier: Admin\n  subject: {namespaces: {}}\n", "spec.priority", 4,
                        "Required value"),
    "priority too high": (CNP, "  tier: Admin\n  priority: 1001\n  subject: {namespaces: {}}\n",
                          "spec.priority", 6, "spec.priority in body should be less than or "
                          "equal to 1000"),
    "priority negative": (CNP, "  tier: Admin\n  priority: -1\n  subject: {namespaces: {}}\n",
                          "spec.priority", 6, "should be greater than or equal to 0"),
    "priority not a number": (CNP, "  tier: Admin\n  priority: high\n  subject: {namespaces: {}}\n",
                              "spec.priority", 6, 'Invalid value: "string": expected integer'),
    "subject absent": (CNP, "  tier: Admin\n  priority: 1\n", "spec.subject", 4,
                       "Required value"),
    "subject with two fields": (
        CNP, "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}, pods: {podSelector: {}}}\n",
        "spec.subject", 7, "spec.subject in body should have at most 1 properties"),
    "subject empty": (CNP, "  tier: Admin\n  priority: 1\n  subject: {}\n", "spec.subject", 7,
                      "should have at least 1 properties"),
    "subject pods without podSelector": (
        CNP, "  tier: Admin\n  priority: 1\n  subject: {pods: {namespaceSelector: {}}}\n",
        "spec.subject.pods.podSelector", 7, "Required value"),
    "action unknown": (CNP, HEAD + "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n",
                       "spec.ingress[0].action", 9,
                       'Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"'),
    "action absent": (CNP, HEAD + "  ingress:\n  - from: [{namespaces: {}}]\n",
                      "spec.ingress[0].action", 9, "Required value"),
    "from empty": (CNP, HEAD + "  ingress:\n  - action: Deny\n    from: []\n",
                   "spec.ingress[0].from", 10, "should have at least 1 items"),
    "from absent": (CNP, HEAD + "  ingress:\n  - action: Deny\n",
                    "spec.ingress[0].from", 9, "Required value"),
    "peer with two fields": (
        CNP, HEAD + "  egress:\n  - action: Deny\n    to:\n    - namespaces: {}\n"
                    "      networks: [10.0.0.0/8]\n",
        "spec.egress[0].to[0]", 11, "should have at most 1 properties"),
    "network not a CIDR": (
        CNP, HEAD + "  egress:\n  - action: Deny\n    to:\n    - networks: [10.0.0.1]\n",
        "spec.egress[0].to[0].networks[0]", 11, "Invalid CIDR format provided"),
    "network twice": (
        CNP, HEAD + "  egress:\n  - action: Deny\n    to:\n"
                    "    - networks: [10.0.0.0/8, 10.0.0.0/8]\n",
        "spec.egress[0].to[0].networks[1]", 11, 'Duplicate value: "10.0.0.0/8"'),
    "domain name invalid": (
        CNP, HEAD + "  egress:\n  - action: Accept\n    to:\n    - domainNames: ['a..b']\n",
        "spec.egress[0].to[0].domainNames[0]", 11, "in body should match"),
    "too many rules": (
        CNP, HEAD + "  ingress:\n" + "  - {action: Deny, from: [{namespaces: {}}]}\n" * 26,
        "spec.ingress", 8, "Too many: 26: must have at most 25 items"),
    "rule name too long": (
        CNP, HEAD + "  ingress:\n  - name: " + "x" * 101 + "\n    action: Deny\n"
                    "    from: [{namespaces: {}}]\n",
        "spec.ingress[0].name", 9, "Too long: may not be longer than 100"),
    "protocol with two fields": (
        CNP, HEAD + "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
                    "    protocols:\n    - {tcp: {destinationPort: {number: 80}}, "
                    "udp: {destinationPort: {number: 53}}}\n",
        "spec.ingress[0].protocols[0]", 12, "should have at most 1 properties"),
    "tcp without destinationPort": (
        CNP, HEAD + "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
                    "    protocols:\n    - tcp: {}\n",
        "spec.ingress[0].protocols[0].tcp", 12, "should have at least 1 properties"),
    "port out of range": (
        CNP, HEAD + "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
                    "    protocols:\n    - tcp: {destinationPort: {number: 70000}}\n",
        "spec.ingress[0].protocols[0].tcp.destinationPort.number", 12,
        "should be less than or equal to 65535"),
    "range backwards (CEL)": (
        CNP, HEAD + "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
                    "    protocols:\n    - udp: {destinationPort: {range: {start: 90, end: 90}}}\n",
        "spec.ingress[0].protocols[0].udp.destinationPort.range", 12,
        "Start port must be less than End port"),
    "named port with networks (CEL)": (
        CNP, HEAD + "  egress:\n  - action: Accept\n    to: [{networks: [10.0.0.0/8]}]\n"
                    "    protocols: [{destinationNamedPort: http}]\n",
        "spec.egress[0]", 9, "networks/nodes/domainNames peer cannot be set with namedPorts"),
    "wrong apiVersion": (
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ClusterNetworkPolicy\n"
        "metadata: {name: p}\nspec:\n", HEAD, "apiVersion", 1,
        'supported values: "policy.networking.k8s.io/v1alpha2", "policy.networking.k8s.io/v1beta1"'),
    "v1alpha1: Accept is spelled Allow": (
        ANP, "  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - action: Accept\n"
             "    from: [{namespaces: {}}]\n",
        "spec.ingress[0].action", 8, 'supported values: "Allow", "Deny", "Pass"'),
    "v1alpha1: port range protocol": (
        ANP, "  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n"
             "    from: [{namespaces: {}}]\n    ports: [{portRange: {protocol: ICMP, start: 1, "
             "end: 2}}]\n",
        "spec.ingress[0].ports[0].portRange.protocol", 10, 'Unsupported value: "ICMP"'),
    "v1alpha1 baseline: no Pass": (
        BANP, "  subject: {namespaces: {}}\n  ingress:\n  - action: Pass\n"
              "    from: [{namespaces: {}}]\n",
        "spec.ingress[0].action", 7, 'supported values: "Allow", "Deny"'),
    "v1alpha1 baseline: only `default`": (
        BANP.replace("name: default", "name: other"), "  subject: {namespaces: {}}\n",
        None, 3, 'Only one baseline admin network policy with metadata.name="default"'),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_rule_at_its_path_and_line(case: str) -> None:
    header, body, path, line, message = CASES[case]
    error = only(errors_of(header + body))
    assert error.path == path, str(error)
    assert error.line == line, str(error)
    assert message in error.message, str(error)


def test_networks_is_no_ingress_peer_field() -> None:
    """Strict field validation (the default) names the unknown field; what is left of the
    peer is then empty, which the schema's minProperties rejects too."""
    body = HEAD + "  ingress:\n  - action: Deny\n    from:\n    - networks: [10.0.0.0/8]\n"
    found = sorted((e.path, e.line, e.message) for e in errors_of(CNP + body))
    assert [(path, line) for path, line, _ in found] == [
        ("spec.ingress[0].from[0]", 11), ("spec.ingress[0].from[0].networks", 11)], found
    assert "should have at least 1 properties" in found[0][2]
    assert 'unknown field "networks"' in found[1][2]


def test_an_invalid_policy_is_dropped_and_a_valid_one_kept() -> None:
    result = load_text(CNP + "  tier: Admin\n  priority: 2000\n  subject: {namespaces: {}}\n"
                       "---\n" + CNP.replace("name: p", "name: q") + HEAD)
    assert [p.name for p in result.cluster.cluster_policies] == ["q"]


def test_v1alpha2_reads_every_field() -> None:
    result = load_text(CNP + """\
  tier: Baseline
  priority: 7
  subject:
    pods:
      namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchLabels: {app: web}}
  egress:
  - name: out
    action: Pass
    to:
    - pods: {podSelector: {}}
    - networks: [10.1.2.3/8]
    - nodes: {matchLabels: {role: infra}}
    - domainNames: ["*.example.com"]
    protocols:
    - tcp: {destinationPort: {number: 443}}
    - sctp: {destinationPort: {range: {start: 9000, end: 9005}}}
""")
    assert [(d.path, d.severity.name) for d in result.diagnostics] == [
        ("spec.egress[0].to[2].nodes", "WARNING"), ("spec.egress[0].to[3].domainNames", "WARNING")]
    assert "cannot be decided offline" in result.diagnostics[0].message
    (policy,) = result.cluster.cluster_policies
    assert (policy.key, policy.tier, policy.priority) == ("baseline/p", Tier.BASELINE, 7)
    assert policy.subject == Subject(LabelSelector.of({"team": "a"}), LabelSelector.of({"app": "web"}))
    (rule,) = policy.egress
    assert (rule.name, rule.action) == ("out", Action.PASS)
    assert rule.peers == (
        ClusterPeer(PeerKind.PODS, namespace_selector=LabelSelector(), pod_selector=LabelSelector()),
        ClusterPeer(PeerKind.NETWORKS, networks=(ipaddress.ip_network("10.0.0.0/8"),)),
        ClusterPeer(PeerKind.NODES, node_selector=LabelSelector.of({"role": "infra"})),
        ClusterPeer(PeerKind.DOMAIN_NAMES, domain_names=("*.example.com",)))
    assert rule.ports == (ClusterPort(Protocol.TCP, 443, 443), ClusterPort(Protocol.SCTP, 9000, 9005))
    assert not rule.offline_peers


def test_v1alpha1_maps_onto_the_same_values() -> None:
    result = load_text(ANP + """\
  priority: 3
  subject: {namespaces: {matchLabels: {team: a}}}
  ingress:
  - action: Allow
    from: [{namespaces: {}}]
    ports:
    - portNumber: {port: 80}
    - portRange: {protocol: UDP, start: 1000, end: 2000}
    - namedPort: http
---
""" + BANP + """\
  subject: {namespaces: {}}
  egress:
  - action: Deny
    to: [{networks: ["0.0.0.0/0"]}]
""")
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    anp, banp = result.cluster.cluster_policies
    assert (anp.key, anp.tier, anp.kind, anp.priority) == ("admin/p", Tier.ADMIN,
                                                          "AdminNetworkPolicy", 3)
    assert anp.ingress[0].action is Action.ACCEPT
    assert anp.ingress[0].ports == (ClusterPort(Protocol.TCP, 80, 80),
                                    ClusterPort(Protocol.UDP, 1000, 2000), ClusterPort(name="http"))
    assert (banp.key, banp.tier, banp.priority) == ("baseline/default", Tier.BASELINE, 0)
    assert banp.egress[0].action is Action.DENY


def test_v1beta1_reads_as_v1alpha2() -> None:
    result = load_text(CNP.replace("v1alpha2", "v1beta1") + HEAD)
    assert not result.diagnostics
    assert result.cluster.cluster_policies[0].api_version == "policy.networking.k8s.io/v1beta1"


def test_namespace_on_a_cluster_scoped_object_is_a_warning() -> None:
    warning = only(warnings_of(CNP.replace("name: p}", "name: p, namespace: x}") + HEAD))
    assert warning.path == "metadata.namespace"


def test_duplicates_keep_the_last_as_kubectl_apply_does() -> None:
    result = load_text(CNP + HEAD + "---\n" + CNP + HEAD.replace("priority: 5", "priority: 6"))
    assert [p.priority for p in result.cluster.cluster_policies] == [6]
    assert any("duplicate object" in d.message for d in result.diagnostics)
