"""Inputs as users have them: JSON on stdin (`kubectl get -o json | podwall matrix -`), JSON
streams, typed Lists from the API, Helm charts and kustomize directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import podwall.manifests.documents as documents
from podwall.errors import Severity
from podwall.manifests import load_cluster
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


# -- Helm charts and kustomize directories ---------------------------------------------------------

def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


NS_YAML = "apiVersion: v1\nkind: Namespace\nmetadata: {name: plain}\n"
TEMPLATE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ .Release.Namespace }}\n{{- end }}\n"


@pytest.mark.parametrize("marker", ["kustomization.yaml", "kustomization.yml", "Kustomization"])
def test_a_kustomization_is_one_error_saying_how_to_render_it(tmp_path: Path, marker: str) -> None:
    _tree(tmp_path, {f"overlays/prod/{marker}": "resources: [../../base]\n",
                     "overlays/prod/patch.yaml": "kind: Deployment\nspec: {replicas: 3}\n",
                     "plain/ns.yaml": NS_YAML})
    result = load_cluster([str(tmp_path)], command="podwall matrix")
    (d,) = result.diagnostics
    assert d.severity is Severity.ERROR and d.file == str(tmp_path / "overlays/prod")
    assert d.message == (f"a kustomization: podwall reads rendered manifests; render it first: "
                         f"kubectl kustomize {tmp_path / 'overlays/prod'} | podwall matrix -")
    assert list(result.cluster.namespaces) == ["plain"]  # the rest still loads


def test_a_helm_chart_passed_or_met_is_one_error_not_template_errors(tmp_path: Path) -> None:
    _tree(tmp_path, {"charts/web/Chart.yaml": "name: web\nversion: 0.1.0\n",
                     "charts/web/values.yaml": "x: 1\n",
                     "charts/web/templates/ns.yaml": TEMPLATE})
    chart = str(tmp_path / "charts/web")
    for path in (str(tmp_path), chart):
        (d,) = load_cluster([path]).diagnostics
        assert d.file == chart and d.message.startswith("a Helm chart: ")
        assert f"render it first: helm template RELEASE {chart} | podwall validate -" in d.message
    (d,) = load_cluster([chart + "/templates/ns.yaml"]).diagnostics
    assert d.message.startswith(f"part of a Helm chart ({chart}): ")
    (d,) = load_cluster([chart + "/Chart.yaml"]).diagnostics
    assert d.message.startswith("a Helm chart: ")


def test_a_directory_called_templates_outside_a_chart_is_read(tmp_path: Path) -> None:
    _tree(tmp_path, {"templates/ns.yaml": NS_YAML, "chart.yaml.bak/x": ""})
    result = load_cluster([str(tmp_path)])
    assert not result.diagnostics and list(result.cluster.namespaces) == ["plain"]
    assert not load_cluster([str(tmp_path / "templates/ns.yaml")]).diagnostics
