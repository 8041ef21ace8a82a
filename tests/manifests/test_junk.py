"""Random nested junk anywhere in a document never escapes as an exception: only diagnostics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.errors import Diagnostic, Severity
from podwall.manifests import load_cluster

FIELDS = ["podSelector", "namespaceSelector", "ipBlock", "cidr", "except", "ingress", "egress",
          "from", "to", "ports", "port", "endPort", "protocol", "matchLabels", "matchExpressions",
          "key", "operator", "values", "policyTypes", "metadata", "name", "namespace", "labels",
          "annotations", "spec", "template", "jobTemplate", "containers", "initContainers",
          "containerPort", "hostPort", "hostIP", "status", "podIP", "restartPolicy", "kind",
          "apiVersion", "generateName"]

SCALARS = (st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False)
           | st.text(max_size=8)
           | st.sampled_from(["TCP", "UDP", "ICMP", "10.0.0.0/8", "10.1.0.0/16", "::/0", "fd00::/64",
                              "Ingress", "Egress", "In", "NotIn", "Exists", "http", "a=b", "",
                              "10.0.0.1", "Always", "app", "kube-system", "-", "x" * 70]))

JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=5),
    max_leaves=20)

KINDS = [("NetworkPolicy", "networking.k8s.io/v1"), ("Pod", "v1"), ("Deployment", "apps/v1"),
         ("CronJob", "batch/v1"), ("Namespace", "v1")]


def check(text: str) -> None:
    result = load_cluster(["-"], stdin_text=text, pod_cidr="10.0.0.0/8")
    for d in result.diagnostics:
        assert isinstance(d, Diagnostic) and str(d)
    loaded = len(result.cluster.policies) + len(result.cluster.endpoints)
    if any(d.severity is Severity.ERROR for d in result.diagnostics):
        assert loaded == 0  # one object per text: an error drops it


def documents(junk: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, api in KINDS:
        doc: dict[str, Any] = {"apiVersion": api, "kind": kind,
                               "metadata": {"name": "n", "namespace": "ns"}, "spec": junk}
        out += [doc, {**doc, "metadata": junk}, {**doc, "status": junk},
                {**doc, "metadata": {"name": "n", "labels": junk, "annotations": junk}}]
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK)
def test_no_junk_ever_raises_as_json(junk: Any) -> None:
    for doc in documents(junk):
        check(json.dumps(doc))
    check(json.dumps(junk))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK)
def test_no_junk_ever_raises_as_yaml(junk: Any) -> None:
    for doc in documents(junk):
        check(yaml.safe_dump(doc))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), JUNK, max_size=8))
def test_no_junk_document_ever_raises(doc: dict[str, Any]) -> None:
    check(yaml.safe_dump(doc))
    check(yaml.safe_dump({**doc, "kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1"}))


def test_null_everywhere() -> None:
    null_leaves = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "n", "namespace": None, "labels": {"a": None}, "annotations": None},
        "spec": {"podSelector": {"matchLabels": None, "matchExpressions": [None]},
                 "ingress": [None, {"from": [None, {"ipBlock": {"cidr": None, "except": [None]}}],
                                    "ports": [None, {"port": None, "endPort": None,
                                                     "protocol": None}]}],
                 "egress": None, "policyTypes": [None]}}
    result = load_cluster(["-"], stdin_text=json.dumps(null_leaves))
    paths = {d.path for d in result.diagnostics if d.severity is Severity.ERROR}
    assert paths == {
        "spec.podSelector.matchExpressions[0].operator",  # null is "": not an operator
        "spec.podSelector.matchExpressions[0].key",       # nor a label key
        "spec.ingress[1].from[0]",                        # a peer that specifies nothing
        "spec.ingress[1].from[1].ipBlock.cidr",           # Required
        "spec.policyTypes[0]",                            # "" is not a policy type
    }


def test_deep_nesting_is_reported_not_raised(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    doc = '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": ' + deep + "}"
    check(doc)
    check(deep)
    (tmp_path / "deep.json").write_text(doc)
    result = load_cluster([str(tmp_path)])
    assert [d.severity for d in result.diagnostics] == [Severity.ERROR]
