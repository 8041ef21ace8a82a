"""Every validation rule reports the API server's complaint at the exact field path and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.errors import Diagnostic, Severity
from podwall.manifests import load_cluster

HEADER = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
"""  # the spec body starts on line 7


def errors_of(text: str) -> list[Diagnostic]:
    result = load_cluster(["-"], stdin_text=text)
    return [d for d in result.diagnostics if d.severity is Severity.ERROR]


def policy_errors(spec: str) -> list[Diagnostic]:
    return errors_of(HEADER + spec)


def only_error(diags: list[Diagnostic]) -> Diagnostic:
    assert len(diags) == 1, [str(d) for d in diags]
    return diags[0]


@pytest.mark.parametrize(("spec", "path", "line", "message"), [
    # peers
    ("  podSelector: {}\n  ingress:\n  - from:\n    - {}\n",
     "spec.ingress[0].from[0]", 10, "must specify a peer"),
    ("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n"
     "      podSelector: {}\n",
     "spec.ingress[0].from[0]", 10, "may not specify more than 1 peer"),
    # ipBlock
    ("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0}\n",
     "spec.egress[0].to[0].ipBlock.cidr", 10, "must be a valid CIDR"),
    ("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {}\n",
     "spec.egress[0].to[0].ipBlock.cidr", 10, "Required value"),
    ("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/24\n"
     "        except: [192.168.0.0/24]\n",
     "spec.ingress[0].from[0].ipBlock.except[0]", 12,
     'Invalid value: "192.168.0.0/24": must be a strict subset of `cidr`'),
    ("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/24\n"
     "        except: [10.0.0.0/24]\n",
     "spec.ingress[0].from[0].ipBlock.except[0]", 12, "strict subset"),
    ("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
     "        except: ['fd00::/64']\n",
     "spec.ingress[0].from[0].ipBlock.except[0]", 12, "strict subset"),
    # ports
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n",
     "spec.ingress[0].ports[0].port", 10, "must be between 1 and 65535"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 65536\n",
     "spec.ingress[0].ports[0].port", 10, "must be between 1 and 65535"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: HTTP\n",
     "spec.ingress[0].ports[0].port", 10, "alpha-numeric"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: a--b\n",
     "spec.ingress[0].ports[0].port", 10, "consecutive hyphens"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: '1234'\n",
     "spec.ingress[0].ports[0].port", 10, "at least one letter"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: a-very-long-port-name\n",
     "spec.ingress[0].ports[0].port", 10, "no more than 15 characters"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 90, endPort: 80}\n",
     "spec.ingress[0].ports[0].endPort", 10, "must be greater than or equal to `port`"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - {port: http, endPort: 80}\n",
     "spec.ingress[0].ports[0].endPort", 10, "may not be specified when `port` is non-numeric"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - {endPort: 80}\n",
     "spec.ingress[0].ports[0].port", 10, "must be specified when `endPort` is specified"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - {protocol: ICMP, port: 1}\n",
     "spec.ingress[0].ports[0].protocol", 10,
     'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
    # policyTypes
    ("  podSelector: {}\n  policyTypes: [Ingress, Sideways]\n",
     "spec.policyTypes[1]", 8, 'Unsupported value: "Sideways"'),
    ("  podSelector: {}\n  policyTypes: [Ingress, Ingress]\n",
     "spec.policyTypes[1]", 8, 'Duplicate value: "Ingress"'),
    # selectors
    ("  podSelector:\n    matchExpressions:\n    - {key: app, operator: In}\n",
     "spec.podSelector.matchExpressions[0].values", 9,
     "must be specified when `operator` is 'In' or 'NotIn'"),
    ("  podSelector:\n    matchExpressions:\n    - {key: app, operator: Exists, values: [a]}\n",
     "spec.podSelector.matchExpressions[0].values", 9,
     "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    ("  podSelector:\n    matchExpressions:\n    - {key: app, operator: Like, values: [a]}\n",
     "spec.podSelector.matchExpressions[0].operator", 9, 'Unsupported value: "Like"'),
    ("  podSelector:\n    matchLabels: {'bad key!': x}\n",
     "spec.podSelector.matchLabels.bad key!", 8, "name part must consist of"),
    ("  podSelector:\n    matchLabels: {app: 'no spaces'}\n",
     "spec.podSelector.matchLabels.app", 8, "a valid label must be an empty string"),
    ("  podSelector:\n    matchLabels: {app: " + "x" * 64 + "}\n",
     "spec.podSelector.matchLabels.app", 8, "no more than 63 characters"),
    ("  podSelector:\n    matchLabels: {enabled: true}\n",
     "spec.podSelector.matchLabels.enabled", 8, "must be a string, not boolean"),
    ("  podSelector:\n    matchLabels: {Example.COM/app: web}\n",
     "spec.podSelector.matchLabels.Example.COM/app", 8, "prefix part"),
    # required and types
    ("  ingress: []\n", "spec.podSelector", 6, "Required value"),  # at `spec:`, it is absent
    ("  podSelector: {}\n  ingress: {from: []}\n", "spec.ingress", 8, "must be a list, not object"),
    ("  podSelector: {}\n  ingress:\n  - from: everyone\n",
     "spec.ingress[0].from", 9, "must be a list, not string"),
    ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: [80]\n",
     "spec.ingress[0].ports[0].port", 10, "must be an integer or a string, not array"),
    ("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10}\n",
     "spec.egress[0].to[0].ipBlock.cidr", 10, "must be a string, not integer"),
    ("  podSelector: []\n", "spec.podSelector", 7, "must be an object, not array"),
])
def test_policy_rule(spec: str, path: str, line: int, message: str) -> None:
    d = only_error(policy_errors(spec))
    assert d.path == path
    assert d.line == line
    assert message in d.message
    assert d.obj == "NetworkPolicy prod/db"


def test_the_documented_example_exactly(tmp_path: Path) -> None:
    k8s = tmp_path / "k8s"
    k8s.mkdir()
    (k8s / "db.yaml").write_text(
        HEADER + "  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {}\n"
        "    - ipBlock:\n        cidr: 10.0.0.0/16\n        except:\n"
        "        - 192.168.0.0/24\n")
    result = load_cluster([str(k8s)])
    (d,) = [x for x in result.diagnostics if x.severity is Severity.ERROR]
    assert str(d) == (f"{k8s}/db.yaml:14: NetworkPolicy prod/db: "
                      "spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "
                      '"192.168.0.0/24": must be a strict subset of `cidr`')


def test_every_problem_is_reported_at_once() -> None:
    diags = policy_errors("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n"
                          "    - {protocol: ICMP}\n  - from:\n    - {}\n")
    assert [d.path for d in diags] == ["spec.ingress[0].ports[0].port",
                                       "spec.ingress[0].ports[1].protocol",
                                       "spec.ingress[1].from[0]"]


def test_host_bits_in_cidr_are_allowed() -> None:
    assert not policy_errors("  podSelector: {}\n  ingress:\n  - from:\n"
                             "    - ipBlock: {cidr: 10.0.0.7/8, except: [10.1.0.0/16]}\n")


@pytest.mark.parametrize(("doc", "path", "message"), [
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Bad_Name}\n"
     "spec: {podSelector: {}}\n", "metadata.name", "RFC 1123 subdomain"),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ok, namespace: a.b}\n"
     "spec: {podSelector: {}}\n", "metadata.namespace", "RFC 1123 label"),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {name: has.dot}\n", "metadata.name",
     "RFC 1123 label"),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}\n", "metadata.name",
     "Required value"),
    ("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: old}\n"
     "spec: {podSelector: {}}\n", "apiVersion", "only networking.k8s.io/v1"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
     "    ports:\n    - {name: http}\n", "spec.containers[0].ports[0].containerPort",
     "Required value"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
     "    ports:\n    - {containerPort: 70000}\n", "spec.containers[0].ports[0].containerPort",
     "between 1 and 65535"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
     "    ports:\n    - {containerPort: 80, name: web}\n  - name: d\n    ports:\n"
     "    - {containerPort: 81, name: web}\n", "spec.containers[1].ports[0].name",
     'Duplicate value: "web"'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
     "    ports:\n    - {containerPort: 80, protocol: tcp}\n",
     "spec.containers[0].ports[0].protocol", 'Unsupported value: "tcp"'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.0.0.300}\n",
     "status.podIP", "must be a valid IP address"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
     "    metadata:\n      labels: {app: 'a b'}\n", "spec.template.metadata.labels.app",
     "a valid label"),
])
def test_object_rule(doc: str, path: str, message: str) -> None:
    d = only_error(errors_of(doc))
    assert d.path == path
    assert message in d.message


def test_an_invalid_object_does_not_hide_a_valid_one() -> None:
    result = load_cluster(["-"], stdin_text=HEADER + "  podSelector: []\n---\n" + HEADER.replace(
        "name: db", "name: ok") + "  podSelector: {}\n")
    assert [p.key for p in result.cluster.policies] == ["prod/ok"]
    assert sum(d.severity is Severity.ERROR for d in result.diagnostics) == 1


def test_yaml_syntax_error_names_line_and_column_and_other_documents_survive() -> None:
    text = ("apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n---\n"
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: [two\n---\n"
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: three}\n")
    result = load_cluster(["-"], stdin_text=text)
    (d,) = result.diagnostics
    assert d.message.startswith("YAML syntax error") and d.line == 8 and d.column
    assert set(result.cluster.namespaces) == {"one", "three"}


def test_json_syntax_error() -> None:
    (d,) = load_cluster(["-"], stdin_text="{").diagnostics or [None]  # YAML reads '{' too
    assert d is not None and "syntax error" in d.message


def test_duplicate_keys_and_unknown_fields_are_warnings_with_paths() -> None:
    text = HEADER + "  podSelector: {}\n  podSelector: {matchLabels: {a: b}}\n  ingres: []\n"
    result = load_cluster(["-"], stdin_text=text)
    warnings = {(d.path, d.line, d.message) for d in result.diagnostics
                if d.severity is Severity.WARNING}
    assert ("spec.podSelector", 8, 'duplicate key "podSelector": the last value is used') in warnings
    assert ("spec.ingres", 9, 'unknown field "spec.ingres"') in warnings
    assert result.cluster.policies[0].pod_selector.match_labels == (("a", "b"),)


def test_duplicate_object_names_warn_and_keep_the_first() -> None:
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {v: '%s'}}\n"
    result = load_cluster(["-"], stdin_text=ns % "1" + "---\n" + ns % "2")
    assert result.cluster.namespaces["a"].labels["v"] == "1"
    assert any("duplicate object" in d.message for d in result.diagnostics)


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=6)
    | st.sampled_from(["TCP", "10.0.0.0/8", "Ingress", "In", "http", "a=b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["podSelector", "ingress", "egress", "from", "to", "ports", "port",
                         "endPort", "protocol", "ipBlock", "cidr", "except", "matchLabels",
                         "matchExpressions", "key", "operator", "values", "policyTypes",
                         "namespaceSelector", "name", "containers", "containerPort"]),
        inner, max_size=4),
    max_leaves=12))
def test_no_junk_ever_raises(junk: object) -> None:
    import json
    for kind, api in (("NetworkPolicy", "networking.k8s.io/v1"), ("Pod", "v1"),
                      ("Deployment", "apps/v1")):
        doc = {"apiVersion": api, "kind": kind, "metadata": {"name": "n", "namespace": "ns"},
               "spec": junk}
        load_cluster(["-"], stdin_text=json.dumps(doc))
        load_cluster(["-"], stdin_text=json.dumps({**doc, "metadata": junk}))
