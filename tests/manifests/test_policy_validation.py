"""NetworkPolicy validation: every rule of the API server, at the exact field path and line.

Each case is a `spec:` body appended to POLICY_HEADER (so `spec:` is line 6), the field path the
API server names, the line of the deepest field on that path, and a key part of the message.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.manifests.fields import FieldValidation
from podwall.model import Direction, IPBlock, LabelSelector, Operator, Peer, PolicyPort, Protocol
from tests.manifests.helpers import POLICY_HEADER, errors_of, load_text, only, warnings_of

LONG = "x" * 64

CASES = {
    # -- spec.podSelector -------------------------------------------------------------------------
    "podSelector of the wrong type": (
        "  podSelector: []\n", "spec.podSelector", 7, 'Invalid value: "array": expected object'),
    # -- label selectors: matchLabels ---------------------------------------------------------------
    "matchLabels key with a bad name part": (
        "  podSelector:\n    matchLabels:\n      'bad key!': x\n",
        "spec.podSelector.matchLabels", 9,
        'Invalid value: "bad key!": name part must consist of alphanumeric characters'),
    "matchLabels key with a bad prefix": (
        "  podSelector:\n    matchLabels: {Example.COM/app: web}\n",
        "spec.podSelector.matchLabels", 8,
        'Invalid value: "Example.COM/app": prefix part a lowercase RFC 1123 subdomain'),
    "matchLabels key with an empty prefix": (
        "  podSelector:\n    matchLabels: {/app: web}\n",
        "spec.podSelector.matchLabels", 8, "prefix part must be non-empty"),
    "matchLabels key with two slashes": (
        "  podSelector:\n    matchLabels: {a/b/c: web}\n",
        "spec.podSelector.matchLabels", 8,
        "a qualified name must consist of alphanumeric characters"),
    "matchLabels key name part too long": (
        f"  podSelector:\n    matchLabels: {{{LONG}: web}}\n",
        "spec.podSelector.matchLabels", 8, "name part must be no more than 63 characters"),
    "matchLabels value with a space": (
        "  podSelector:\n    matchLabels: {app: 'no spaces'}\n",
        "spec.podSelector.matchLabels", 8,
        'Invalid value: "no spaces": a valid label must be an empty string or consist of'),
    "matchLabels value too long": (
        f"  podSelector:\n    matchLabels: {{app: {LONG}}}\n",
        "spec.podSelector.matchLabels", 8, "must be no more than 63 characters"),
    "matchLabels value that is a YAML boolean": (
        "  podSelector:\n    matchLabels:\n      enabled: true\n",
        "spec.podSelector.matchLabels", 9,
        'Invalid value: "boolean": expected string for label "enabled"'),
    "matchLabels value that is a number": (
        "  podSelector:\n    matchLabels: {version: 2}\n",
        "spec.podSelector.matchLabels", 8,
        'Invalid value: "integer": expected string for label "version"'),
    "matchLabels of the wrong type": (
        "  podSelector:\n    matchLabels: [app]\n",
        "spec.podSelector.matchLabels", 8, 'Invalid value: "array": expected object'),
    # -- label selectors: matchExpressions ----------------------------------------------------------
    "In without values": (
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: In}\n",
        "spec.podSelector.matchExpressions[0].values", 9,
        "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    "NotIn with an empty list": (
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: NotIn, values: []}\n",
        "spec.podSelector.matchExpressions[0].values", 9,
        "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    "Exists with values": (
        "  podSelector:\n    matchExpressions:\n    - key: app\n      operator: Exists\n"
        "      values: [a]\n",
        "spec.podSelector.matchExpressions[0].values", 11,
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    "DoesNotExist with values": (
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: DoesNotExist, "
        "values: [a]}\n",
        "spec.podSelector.matchExpressions[0].values", 9,
        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    "an unknown operator": (
        "  podSelector:\n    matchExpressions:\n    - key: app\n      operator: Like\n"
        "      values: [a]\n",
        "spec.podSelector.matchExpressions[0].operator", 10,
        'Invalid value: "Like": not a valid selector operator'),
    "an operator in the wrong case": (
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: in, values: [a]}\n",
        "spec.podSelector.matchExpressions[0].operator", 9,
        'Invalid value: "in": not a valid selector operator'),
    "an expression key that is not a qualified name": (
        "  podSelector:\n    matchExpressions:\n    - {key: -app, operator: Exists}\n",
        "spec.podSelector.matchExpressions[0].key", 9,
        'Invalid value: "-app": name part must consist of'),
    "an expression value that is not a label value": (
        "  podSelector:\n    matchExpressions:\n    - key: app\n      operator: In\n"
        "      values:\n      - ok\n      - 'not ok'\n",
        "spec.podSelector.matchExpressions[0].values[1]", 13,
        'Invalid value: "not ok": a valid label must be an empty string'),
    "expression values of the wrong type": (
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: In, values: a}\n",
        "spec.podSelector.matchExpressions[0].values", 9,
        'Invalid value: "string": expected array'),
    "an expression value of the wrong type": (
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: In, values: [a, {b: c}]}\n",
        "spec.podSelector.matchExpressions[0].values[1]", 9,
        'Invalid value: "object": expected string'),
    # -- policyTypes ---------------------------------------------------------------------------------
    "an unknown policy type": (
        "  podSelector: {}\n  policyTypes:\n  - Ingress\n  - Sideways\n",
        "spec.policyTypes[1]", 10,
        'Unsupported value: "Sideways": supported values: "Ingress", "Egress"'),
    "a policy type in the wrong case": (
        "  podSelector: {}\n  policyTypes: [ingress]\n",
        "spec.policyTypes[0]", 8, 'Unsupported value: "ingress"'),
    "three policy types": (
        "  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]\n",
        "spec.policyTypes", 8,
        'Invalid value: []networking.PolicyType{"Ingress", "Egress", "Ingress"}: may not specify '
        "more than two policyTypes"),
    "policyTypes of the wrong type": (
        "  podSelector: {}\n  policyTypes: Ingress\n",
        "spec.policyTypes", 8, 'Invalid value: "string": expected array'),
    # -- rules and peers -----------------------------------------------------------------------------
    "ingress of the wrong type": (
        "  podSelector: {}\n  ingress: {from: []}\n",
        "spec.ingress", 8, 'Invalid value: "object": expected array'),
    "a rule of the wrong type": (
        "  podSelector: {}\n  egress:\n  - everything\n",
        "spec.egress[0]", 9, 'Invalid value: "string": expected object'),
    "from of the wrong type": (
        "  podSelector: {}\n  ingress:\n  - from: everyone\n",
        "spec.ingress[0].from", 9, 'Invalid value: "string": expected array'),
    "an empty peer": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - {}\n",
        "spec.ingress[0].from[0]", 10, "Required value: must specify a peer"),
    "a null peer": (
        "  podSelector: {}\n  egress:\n  - to:\n    - null\n",
        "spec.egress[0].to[0]", 10, "Required value: must specify a peer"),
    "a peer whose selectors are null": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: null\n",
        "spec.ingress[0].from[0]", 10, "Required value: must specify a peer"),
    "ipBlock with podSelector": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n"
        "      podSelector: {}\n",
        "spec.ingress[0].from[0]", 10, "Forbidden: may not specify both ipBlock and another peer"),
    "ipBlock with namespaceSelector": (
        "  podSelector: {}\n  egress:\n  - to:\n    - namespaceSelector: {}\n"
        "      ipBlock: {cidr: 10.0.0.0/8}\n",
        "spec.egress[0].to[0]", 10, "may not specify both ipBlock and another peer"),
    "a peer selector of the wrong type": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector: team-a\n",
        "spec.ingress[0].from[0].namespaceSelector", 10, 'Invalid value: "string": expected object'),
    "a peer selector with a bad label": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector:\n"
        "        matchLabels: {team: 'a b'}\n",
        "spec.ingress[0].from[0].namespaceSelector.matchLabels", 11, 'Invalid value: "a b"'),
    # -- ipBlock -------------------------------------------------------------------------------------
    "ipBlock without cidr": (
        "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {}\n",
        "spec.egress[0].to[0].ipBlock.cidr", 10, "Required value"),
    "ipBlock with an empty cidr": (
        "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n        cidr: ''\n",
        "spec.egress[0].to[0].ipBlock.cidr", 11, "Required value"),
    "a cidr without a prefix length": (
        "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.0.0.0\n",
        "spec.egress[0].to[0].ipBlock.cidr", 11,
        'Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'),
    "a cidr with a netmask": (
        "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/255.0.0.0}\n",
        "spec.egress[0].to[0].ipBlock.cidr", 10, "must be a valid CIDR value"),
    "a cidr with a prefix too long": (
        "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/33}\n",
        "spec.egress[0].to[0].ipBlock.cidr", 10, "must be a valid CIDR value"),
    "a cidr that is a number": (
        "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10}\n",
        "spec.egress[0].to[0].ipBlock.cidr", 10, 'Invalid value: "integer": expected string'),
    "an except outside cidr": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/24\n"
        "        except: [192.168.0.0/24]\n",
        "spec.ingress[0].from[0].ipBlock.except[0]", 12,
        'Invalid value: "192.168.0.0/24": must be a strict subset of `cidr`'),
    "an except equal to cidr": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/24\n"
        "        except:\n        - 10.0.0.0/25\n        - 10.0.0.0/24\n",
        "spec.ingress[0].from[0].ipBlock.except[1]", 14, "must be a strict subset of `cidr`"),
    "an except larger than cidr": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.1.0.0/16, "
        "except: [10.0.0.0/8]}\n",
        "spec.ingress[0].from[0].ipBlock.except[0]", 10, "must be a strict subset of `cidr`"),
    "an except of the other IP family": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
        "        except: ['fd00::/64']\n",
        "spec.ingress[0].from[0].ipBlock.except[0]", 12,
        'Invalid value: "fd00::/64": must be a strict subset of `cidr`'),
    "an except that is not a CIDR": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
        "        except: [10.1.0.0]\n",
        "spec.ingress[0].from[0].ipBlock.except[0]", 12, "must be a valid CIDR value"),
    "except of the wrong type": (
        "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
        "        except: 10.1.0.0/16\n",
        "spec.ingress[0].from[0].ipBlock.except", 12, 'Invalid value: "string": expected array'),
    # -- ports ---------------------------------------------------------------------------------------
    "an unsupported protocol": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - {protocol: ICMP, port: 1}\n",
        "spec.ingress[0].ports[0].protocol", 10,
        'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'),
    "a protocol in lower case": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: tcp\n",
        "spec.ingress[0].ports[0].protocol", 10, 'Unsupported value: "tcp"'),
    "port 0": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n",
        "spec.ingress[0].ports[0].port", 10,
        "Invalid value: 0: must be between 1 and 65535, inclusive"),
    "port 65536": (
        "  podSelector: {}\n  egress:\n  - ports:\n    - port: 65536\n",
        "spec.egress[0].ports[0].port", 10, "Invalid value: 65536: must be between 1 and 65535"),
    "a named port with capitals": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: Web\n",
        "spec.ingress[0].ports[0].port", 10,
        'Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens'),
    "a named port with consecutive hyphens": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: a--b\n",
        "spec.ingress[0].ports[0].port", 10, "must not contain consecutive hyphens"),
    "a named port ending in a hyphen": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: web-\n",
        "spec.ingress[0].ports[0].port", 10, "must not begin or end with a hyphen"),
    "a quoted number is a port name without a letter": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: '8080'\n",
        "spec.ingress[0].ports[0].port", 10,
        'Invalid value: "8080": must contain at least one letter (a-z)'),
    "a named port too long": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: a-very-long-port-name\n",
        "spec.ingress[0].ports[0].port", 10, "must be no more than 15 characters"),
    "endPort below port": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 90\n      endPort: 80\n",
        "spec.ingress[0].ports[0].endPort", 11,
        "Invalid value: 80: must be greater than or equal to `port`"),
    "endPort out of range": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 90, endPort: 65536}\n",
        "spec.ingress[0].ports[0].endPort", 10,
        "Invalid value: 65536: must be between 1 and 65535, inclusive"),
    "endPort with a named port": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - {port: http, endPort: 80}\n",
        "spec.ingress[0].ports[0].endPort", 10,
        "Invalid value: 80: may not be specified when `port` is non-numeric"),
    "endPort without port": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - endPort: 80\n",
        "spec.ingress[0].ports[0].endPort", 10,
        "Invalid value: 80: may not be specified when `port` is not specified"),
    "a port that is a list": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: [80]\n",
        "spec.ingress[0].ports[0].port", 10, 'Invalid value: "array": expected integer or string'),
    "a port that is a float": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80.5\n",
        "spec.ingress[0].ports[0].port", 10, 'Invalid value: "number": expected integer or string'),
    "an endPort that is a string": (
        "  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 80, endPort: '90'}\n",
        "spec.ingress[0].ports[0].endPort", 10, 'Invalid value: "string": expected integer'),
    "ports of the wrong type": (
        "  podSelector: {}\n  ingress:\n  - ports: 80\n",
        "spec.ingress[0].ports", 9, 'Invalid value: "integer": expected array'),
    # -- the object itself ---------------------------------------------------------------------------
    "spec of the wrong type": (
        " []\n", "spec", 6, 'Invalid value: "array": expected object'),
}


@pytest.mark.parametrize(("spec", "path", "line", "message"), list(CASES.values()),
                         ids=list(CASES))
def test_policy_rule(spec: str, path: str, line: int, message: str) -> None:
    text = (POLICY_HEADER[:-1] + spec) if spec.startswith(" [") else POLICY_HEADER + spec
    d = only(errors_of(text))
    assert (d.path, d.line) == (path, line), str(d)
    assert message in d.message, str(d)
    assert d.obj == "NetworkPolicy prod/db"
    assert d.file == "<stdin>"


METADATA_CASES = {
    "name absent": (
        "metadata:\n  namespace: prod\n", "metadata.name", 3,
        "Required value: name or generateName is required"),
    "name empty": (
        "metadata:\n  name: ''\n", "metadata.name", 4, "Required value"),
    "name with capitals": (
        "metadata:\n  name: Bad_Name\n", "metadata.name", 4,
        'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of'),
    "name too long": (
        "metadata:\n  name: " + "a" * 254 + "\n", "metadata.name", 4,
        "must be no more than 253 characters"),
    "name that is a number": (
        "metadata:\n  name: 42\n", "metadata.name", 4, 'Invalid value: "integer": expected string'),
    "only generateName": (
        "metadata:\n  generateName: db-\n", "metadata.name", 3,
        "Required value: podwall needs a name"),
    "namespace with a dot": (
        "metadata:\n  name: db\n  namespace: a.b\n", "metadata.namespace", 5,
        'Invalid value: "a.b": must not contain dots'),
    "namespace with capitals": (
        "metadata:\n  name: db\n  namespace: Prod\n", "metadata.namespace", 5,
        "a lowercase RFC 1123 label must consist of"),
    "namespace too long": (
        "metadata:\n  name: db\n  namespace: " + "a" * 64 + "\n", "metadata.namespace", 5,
        "must be no more than 63 characters"),
    "metadata of the wrong type": (
        "metadata: db\n", "metadata", 3, 'Invalid value: "string": expected object'),
    "an object label with a bad key": (
        "metadata:\n  name: db\n  labels:\n    ok: yes-it-is\n    'a b': c\n", "metadata.labels", 7,
        'Invalid value: "a b": name part must consist of'),
    "an annotation with a bad key": (
        "metadata:\n  name: db\n  annotations:\n    'not ok': x\n", "metadata.annotations", 6,
        'Invalid value: "not ok"'),
    "an annotation that is not a string": (
        "metadata:\n  name: db\n  annotations:\n    replicas: 3\n", "metadata.annotations", 6,
        'Invalid value: "integer": expected string for annotation "replicas"'),
}


@pytest.mark.parametrize(("meta", "path", "line", "message"), list(METADATA_CASES.values()),
                         ids=list(METADATA_CASES))
def test_metadata_rule(meta: str, path: str, line: int, message: str) -> None:
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + meta
            + "spec:\n  podSelector: {}\n")
    d = only(errors_of(text))
    assert (d.path, d.line) == (path, line), str(d)
    assert message in d.message, str(d)


def test_a_policy_of_another_api_version_is_an_error_at_api_version() -> None:
    d = only(errors_of("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\n"
                       "metadata: {name: old}\nspec: {podSelector: {}}\n"))
    assert (d.path, d.line) == ("apiVersion", 1)
    assert 'Unsupported value: "extensions/v1beta1"' in d.message
    assert "only networking.k8s.io/v1 NetworkPolicy is supported" in d.message


def test_the_documented_example_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parents[1] / "fixtures" / "manifests")
    d = only([x for x in load_cluster(["k8s"]).diagnostics if x.severity is Severity.ERROR])
    assert str(d) == ("k8s/db.yaml:14: NetworkPolicy prod/db: "
                      "spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "
                      '"192.168.0.0/24": must be a strict subset of `cidr`')


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of(POLICY_HEADER + "  podSelector: {matchLabels: {app: 'a b'}}\n  ingress:\n"
                       "  - ports:\n    - port: 0\n    - {protocol: ICMP}\n  - from:\n    - {}\n"
                       "  egress:\n  - to:\n    - ipBlock: {cidr: nope}\n"
                       "  policyTypes: [Ingress, Sideways]\n")
    assert [(d.path, d.line) for d in errors] == [
        ("spec.podSelector.matchLabels", 7),
        ("spec.ingress[0].ports[0].port", 10),
        ("spec.ingress[0].ports[1].protocol", 11),
        ("spec.ingress[1].from[0]", 13),
        ("spec.egress[0].to[0].ipBlock.cidr", 16),
        ("spec.policyTypes[1]", 17),
    ]


def test_every_complaint_about_one_value_is_reported() -> None:
    errors = errors_of(POLICY_HEADER + "  podSelector: {}\n  ingress:\n  - ports:\n"
                       "    - port: -A--\n")
    assert [d.message.split(": ", 2)[2] for d in errors] == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
    ]
    assert {d.path for d in errors} == {"spec.ingress[0].ports[0].port"}


def test_endport_below_port_and_out_of_range_are_both_reported() -> None:
    errors = errors_of(POLICY_HEADER + "  podSelector: {}\n  ingress:\n  - ports:\n"
                       "    - {port: 90, endPort: 0}\n")
    assert [d.message for d in errors] == [
        "Invalid value: 0: must be greater than or equal to `port`",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ]


# -- what valid policies become ----------------------------------------------------------------------

def policy_of(spec: str) -> Any:
    result = load_text(POLICY_HEADER + spec)
    assert not [d for d in result.diagnostics if d.severity is Severity.ERROR], \
        [str(d) for d in result.diagnostics]
    (policy,) = result.cluster.policies
    return policy


def test_a_valid_policy_becomes_the_model() -> None:
    policy = policy_of(
        "  podSelector:\n    matchLabels: {app: db}\n    matchExpressions:\n"
        "    - {key: tier, operator: NotIn, values: [b, a, b]}\n  ingress:\n  - from:\n"
        "    - podSelector: {}\n      namespaceSelector: {matchLabels: {team: x}}\n"
        "    - ipBlock: {cidr: 10.0.0.7/8, except: [10.1.0.0/16]}\n"
        "    ports:\n    - port: 5432\n    - {protocol: UDP, port: 8000, endPort: 8100}\n"
        "    - port: metrics\n    - protocol: SCTP\n    - null\n")
    assert policy.pod_selector.match_labels == (("app", "db"),)
    (req,) = policy.pod_selector.match_expressions
    assert (req.key, req.operator, req.values) == ("tier", Operator.NOT_IN, ("a", "b"))
    (rule,) = policy.ingress
    assert rule.peers == (
        Peer(pod_selector=LabelSelector(), namespace_selector=LabelSelector((("team", "x"),))),
        Peer(ip_block=IPBlock(ipaddress.ip_network("10.0.0.0/8"),
                              (ipaddress.ip_network("10.1.0.0/16"),), "10.0.0.7/8")),
    )
    assert rule.peers[1].ip_block.text == "10.0.0.7/8"
    assert rule.ports == (PolicyPort(Protocol.TCP, 5432), PolicyPort(Protocol.UDP, 8000, 8100),
                          PolicyPort(Protocol.TCP, "metrics"), PolicyPort(Protocol.SCTP),
                          PolicyPort())
    assert policy.policy_types == frozenset({Direction.INGRESS})
    assert policy.policy_types_given is False
    assert (policy.source.file, policy.source.line, policy.source.document) == ("<stdin>", 1, 0)


def test_absent_selectors_stay_none_and_empty_ones_select_everything() -> None:
    policy = policy_of("  podSelector: {}\n  egress:\n  - to:\n    - namespaceSelector: {}\n"
                       "    - podSelector: {matchLabels: {a: b}}\n")
    assert policy.egress[0].peers == (Peer(namespace_selector=LabelSelector()),
                                      Peer(pod_selector=LabelSelector((("a", "b"),))))


def test_omitted_policy_types_default_like_the_api_server() -> None:
    with_egress = policy_of("  podSelector: {}\n  egress:\n  - {}\n")
    assert with_egress.policy_types == {Direction.INGRESS, Direction.EGRESS}
    assert with_egress.policy_types_given is False
    empty_list = policy_of("  podSelector: {}\n  egress: []\n  policyTypes: []\n")
    assert empty_list.policy_types == {Direction.INGRESS}
    assert empty_list.policy_types_given is False
    assert empty_list.egress_given is True
    given = policy_of("  podSelector: {}\n  policyTypes: [Egress]\n")
    assert given.policy_types == {Direction.EGRESS}
    assert given.policy_types_given is True


def test_rules_remember_whether_from_and_ports_were_written() -> None:
    policy = policy_of("  podSelector: {}\n  ingress:\n  - from: []\n  - ports: null\n"
                       "  - from:\n    - podSelector: {}\n    ports: []\n  - null\n")
    given = [(r.peers_given, r.ports_given) for r in policy.ingress]
    assert given == [(True, False), (False, False), (True, True), (False, False)]


def test_null_lists_mean_absent() -> None:
    policy = policy_of("  podSelector: {}\n  ingress: null\n  egress: null\n  policyTypes: null\n")
    assert policy.ingress == () and policy.egress == ()
    assert policy.egress_given is False


def test_ipv6_blocks() -> None:
    policy = policy_of("  podSelector: {}\n  egress:\n  - to:\n"
                       "    - ipBlock: {cidr: '2001:db8::/32', except: ['2001:db8:1::/48']}\n")
    block = policy.egress[0].peers[0].ip_block
    assert block.cidr == ipaddress.ip_network("2001:db8::/32")
    assert block.excepts == (ipaddress.ip_network("2001:db8:1::/48"),)


@pytest.mark.parametrize(("cidr", "warning"), [
    ("10.0.0.7/8", 'CIDR value "10.0.0.7/8" is ambiguous in this context (should be "10.0.0.0/8" '
                   'or "10.0.0.7/32"?)'),
    ("010.0.0.0/8", 'non-standard CIDR value "010.0.0.0/8" will be considered invalid in a future '
                    'Kubernetes release: use "10.0.0.0/8"'),
    ("2001:DB8::/32", 'IPv6 CIDR value "2001:DB8::/32" should be in RFC 5952 canonical format '
                      '("2001:db8::/32")'),
])
def test_odd_cidr_spellings_are_accepted_with_the_api_servers_warning(cidr: str,
                                                                       warning: str) -> None:
    d = only(warnings_of(POLICY_HEADER + "  podSelector: {}\n  egress:\n  - to:\n"
                         f"    - ipBlock:\n        cidr: '{cidr}'\n"))
    assert (d.path, d.line, d.message) == ("spec.egress[0].to[0].ipBlock.cidr", 11, warning)


def test_duplicate_policy_types_are_a_warning_and_the_policy_loads() -> None:
    result = load_text(POLICY_HEADER + "  podSelector: {}\n  policyTypes: [Egress, Egress]\n")
    d = only(list(result.diagnostics))
    assert (d.severity, d.path, d.line) == (Severity.WARNING, "spec.policyTypes[1]", 8)
    assert d.message == 'Duplicate value: "Egress"'
    assert result.cluster.policies[0].policy_types == {Direction.EGRESS}


UNKNOWN_AT_EVERY_DEPTH = (POLICY_HEADER.replace("spec:\n", "status: {}\nextra: 1\nspec:\n")
                          + "  podSelector: {matchLabel: {a: b}}\n  ingres: []\n  ingress:\n"
                          "  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, expect: []}\n"
                          "    port: [80]\n    ports:\n    - {port: 80, proto: TCP}\n")
UNKNOWN_FOUND = {
    ("extra", 7, 'unknown field "extra"'),
    ("spec.podSelector.matchLabel", 9,
     'unknown field "matchLabel": did you mean "matchLabels"?'),
    ("spec.ingres", 10, 'unknown field "ingres": did you mean "ingress"?'),
    ("spec.ingress[0].from[0].ipBlock.expect", 13,
     'unknown field "expect": did you mean "except"?'),
    ("spec.ingress[0].port", 14, 'unknown field "port": did you mean "ports"?'),
    ("spec.ingress[0].ports[0].proto", 16, 'unknown field "proto"'),
}


@pytest.mark.parametrize("spec", ["  ingress: []\n", "  podSelector: null\n", "  podSelector:\n",
                                  "  podSelector: {}\n"])
def test_an_absent_or_null_pod_selector_is_the_empty_one_as_the_api_server_stores_it(
        spec: str) -> None:
    result = load_text(POLICY_HEADER + spec)
    assert not result.diagnostics
    (policy,) = result.cluster.policies
    assert policy.pod_selector == LabelSelector()


def test_an_absent_spec_is_a_policy_selecting_every_pod_for_ingress() -> None:
    result = load_text(POLICY_HEADER.replace("spec:\n", ""))
    assert not result.diagnostics
    (policy,) = result.cluster.policies
    assert policy.pod_selector == LabelSelector() and policy.policy_types == {Direction.INGRESS}


def test_unknown_fields_are_errors_at_every_depth() -> None:
    result = load_text(UNKNOWN_AT_EVERY_DEPTH)
    assert {(d.path, d.line, d.message) for d in result.diagnostics
            if d.severity is Severity.ERROR} == UNKNOWN_FOUND
    assert not result.cluster.policies  # as the API server, which rejects the object


def test_field_validation_warn_makes_them_warnings_and_ignore_silences_them() -> None:
    warn = load_cluster(["-"], stdin_text=UNKNOWN_AT_EVERY_DEPTH,
                        field_validation=FieldValidation.WARN)
    assert {(d.path, d.line, d.message) for d in warn.diagnostics
            if d.severity is Severity.WARNING} == UNKNOWN_FOUND
    assert len(warn.cluster.policies) == 1  # warnings do not drop the object
    ignore = load_cluster(["-"], stdin_text=UNKNOWN_AT_EVERY_DEPTH,
                          field_validation=FieldValidation.IGNORE)
    assert not ignore.diagnostics and len(ignore.cluster.policies) == 1


def test_a_field_at_the_wrong_depth_or_in_the_wrong_direction_gets_a_hint() -> None:
    errors = errors_of(POLICY_HEADER + "  podSelector: {}\n  egress:\n  - from: []\n"
                       "ingress: []\n")
    assert {(d.path, d.message) for d in errors} == {
        ("spec.egress[0].from", 'unknown field "from": an egress rule names its peers in "to"'),
        ("ingress", 'unknown field "ingress": did you mean "spec.ingress" (indented one level '
                    "deeper)?"),
    }


def test_standard_object_meta_fields_are_known() -> None:
    meta = ("metadata:\n  name: db\n  namespace: prod\n  uid: 1234\n  resourceVersion: '5'\n"
            "  generation: 2\n  creationTimestamp: 2024-01-01T00:00:00Z\n  finalizers: []\n"
            "  ownerReferences: []\n  managedFields: []\n  selfLink: /x\n  annotations: {a: b}\n"
            "  deletionTimestamp: null\n  deletionGracePeriodSeconds: 30\n  generateName: d-\n"
            "  labels: {a: b}\n  colour: blue\n")
    result = load_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + meta
                       + "spec: {podSelector: {}}\n")
    d = only(list(result.diagnostics))
    assert (d.severity, d.path, d.line) == (Severity.ERROR, "metadata.colour", 19)


def test_annotations_are_kept_sorted_with_string_values() -> None:
    result = load_text(POLICY_HEADER.replace(
        "  namespace: prod\n",
        "  namespace: prod\n  annotations: {z: '1', podwall.io/lint-ignore: PW001}\n")
        + "  podSelector: {}\n")
    assert result.cluster.policies[0].annotations == (("podwall.io/lint-ignore", "PW001"),
                                                     ("z", "1"))


def test_label_values_that_are_null_or_timestamps_read_as_text_like_kubectl_sends_them() -> None:
    policy = policy_of("  podSelector:\n    matchLabels: {empty: null, day: 2024-01-05}\n")
    assert policy.pod_selector.match_labels == (("day", "2024-01-05"), ("empty", ""))


# -- IPv4-mapped IPv6 CIDRs, as Go's ParseCIDRSloppy and IPNet.Contains read them ----------------

def _block(cidr: str, excepts: str = "") -> tuple[IPBlock | None, list[str], list[str]]:
    tail = f", except: [{excepts}]" if excepts else ""
    result = load_text(POLICY_HEADER + "  podSelector: {}\n  ingress:\n  - from:\n"
                       f"    - ipBlock: {{cidr: '{cidr}'{tail}}}\n")
    errors = [d.message for d in result.diagnostics if d.severity is Severity.ERROR]
    warnings = [d.message for d in result.diagnostics if d.severity is Severity.WARNING]
    if not result.cluster.policies:
        return None, errors, warnings
    (peer,) = result.cluster.policies[0].ingress[0].peers
    return peer.ip_block, errors, warnings


def test_an_ipv4_mapped_cidr_of_at_least_96_bits_is_the_ipv4_network_go_matches() -> None:
    block, errors, warnings = _block("::ffff:10.0.0.0/104")
    assert block is not None and not errors
    assert block.cidr == ipaddress.IPv4Network("10.0.0.0/8")
    assert block.contains(ipaddress.IPv4Address("10.1.2.3"))
    assert not block.contains(ipaddress.IPv4Address("11.0.0.1"))
    assert warnings == ['non-standard CIDR value "::ffff:10.0.0.0/104" will be considered invalid '
                        'in a future Kubernetes release: use "10.0.0.0/8"']
    block, _, warnings = _block("::ffff:10.1.2.3/120")
    assert block is not None and block.cidr == ipaddress.IPv4Network("10.1.2.0/24")
    assert warnings[0] == ('CIDR value "::ffff:10.1.2.3/120" is ambiguous in this context (should '
                           'be "10.1.2.0/24" or "10.1.2.3/128"?)')
    assert len(warnings) == 2  # and non-standard, as the API server says both


def test_below_96_bits_the_mapping_is_masked_away_and_no_ipv4_address_matches() -> None:
    block, errors, _ = _block("::ffff:10.0.0.0/95")
    assert block is not None and not errors
    assert block.cidr == ipaddress.IPv6Network("::fffe:0:0/95")
    assert not block.contains(ipaddress.IPv4Address("10.0.0.1"))


def test_except_compares_mask_lengths_as_written() -> None:
    # 10.0.0.0/8 except ::ffff:10.1.0.0/112: contained, and 8 < 112: valid, except 10.1.0.0/16
    block, errors, _ = _block("10.0.0.0/8", "'::ffff:10.1.0.0/112'")
    assert not errors and block is not None
    assert block.excepts == (ipaddress.IPv4Network("10.1.0.0/16"),)
    # ::ffff:10.0.0.0/104 except 10.1.0.0/16: 104 >= 16, so not a strict subset to the API server
    block, errors, _ = _block("::ffff:10.0.0.0/104", "10.1.0.0/16")
    assert block is None
    assert errors == ['Invalid value: "10.1.0.0/16": must be a strict subset of `cidr`']
