"""Inputs as users have them: JSON on stdin (`kubectl get -o json | podwall matrix -`), JSON
streams, typed Lists from the API, Helm charts and kustomize directories."""

from __future__ import annotations

import json

import pytest

import podwall.manifests.documents as documents
from podwall.errors import Severity
from tests.manifests.helpers import load_text

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}


def test_json_on_stdin_takes_the_json_path(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    real = documents._read_json

    def spy(name: str, text: str, result: documents.ReadResult) -> bool:
        used.append(name)
        return real(name, text, result)

    monkeypatch.setattr(documents, "_read_json", spy)
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": [NS]}, indent=2)
    result = load_text("\n  " + listed)
    assert used == ["<stdin>"] and list(result.cluster.namespaces) == ["a"]


def test_json_escapes_yaml_does_not_know_read_as_kubectl_reads_them() -> None:
    # `\/` is JSON, not YAML 1.1: read as YAML this was an error
    result = load_text('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", '
                       '"annotations": {"u": "http:\\/\\/x"}}}')
    assert not result.diagnostics and list(result.cluster.namespaces) == ["a"]


def test_a_yaml_flow_mapping_is_still_yaml() -> None:
    result = load_text("{apiVersion: v1, kind: Namespace, metadata: {name: a}}\n")
    assert not result.diagnostics and list(result.cluster.namespaces) == ["a"]


def test_a_json_stream_is_every_object_in_it_with_lines() -> None:
    one = json.dumps(NS)
    two = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b", "name": "c"}}'
    result = load_text(f"{one}\n\n{two}\n")
    assert list(result.cluster.namespaces) == ["a", "c"]
    (d,) = result.diagnostics
    assert d.severity is Severity.WARNING and d.line == 3 and "duplicate key" in d.message


def test_a_broken_json_stream_keeps_what_came_before_and_says_where() -> None:
    result = load_text(json.dumps(NS) + '\n{"apiVersion": "v1",')
    (d,) = result.diagnostics
    assert d.message.startswith("JSON syntax error") and d.line == 2
    assert list(result.cluster.namespaces) == ["a"]
