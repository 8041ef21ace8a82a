"""Inputs as users have them: JSON on stdin (`kubectl get -o json | podwall matrix -`), JSON
streams, typed Lists from the API, Helm charts and kustomize directories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import podwall.manifests.documents as documents
import podwall.manifests.load as load_module
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


# -- typed Lists, as the API and kubectl get -o json return them ----------------------------------

def _pod(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"p{i}", "namespace": "a", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
            "status": {"podIP": f"10.0.{i // 200}.{i % 200 + 1}"}}


@pytest.mark.parametrize(("kind", "api_version", "item"), [
    ("PodList", "v1", _pod(0)),
    ("NamespaceList", "v1", {"metadata": {"name": "a"}}),
    ("NetworkPolicyList", "networking.k8s.io/v1", {"metadata": {"name": "p", "namespace": "a"},
                                                   "spec": {"podSelector": {}}}),
    ("DeploymentList", "apps/v1", {"metadata": {"name": "d", "namespace": "a"},
                                   "spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}),
])
def test_items_of_a_typed_list_take_their_kind_from_it(kind: str, api_version: str,
                                                       item: dict[str, Any]) -> None:
    text = json.dumps({"kind": kind, "apiVersion": api_version, "metadata": {}, "items": [item]})
    for form in (text, yaml.safe_dump(json.loads(text))):
        result = load_text(form)
        assert not result.diagnostics, [str(d) for d in result.diagnostics]
        cluster = result.cluster
        assert len(cluster.policies) + len(cluster.endpoints) + len(
            [n for n in cluster.namespaces.values() if not n.implied]) == 1


def test_an_item_with_its_own_kind_keeps_it_and_a_plain_list_gives_none() -> None:
    own = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "own"}}
    result = load_text(json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [own]}))
    assert not result.diagnostics and "own" in result.cluster.namespaces
    result = load_text(json.dumps({"kind": "List", "apiVersion": "v1",
                                   "items": [{"metadata": {"name": "x"}}]}))
    assert [(d.path, d.message) for d in result.diagnostics] == [
        ("items[0].kind", "Required value: kind is not set"),
        ("items[0].apiVersion", "Required value: apiVersion is not set")]


def test_errors_inside_a_list_say_which_item() -> None:
    result = load_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n"
                       "- metadata: {name: a, namespace: x}\n  spec: {podSelector: {}}\n"
                       "- metadata: {name: b, namespace: x}\n  spec: {ingres: []}\n")
    (d,) = result.diagnostics
    assert (d.path, d.line, d.obj) == ("items[1].spec.ingres", 7, "NetworkPolicy x/b")
    nested = load_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [
        {"kind": "List", "apiVersion": "v1", "items": [
            NS, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "B"}}]}]}))
    (d,) = nested.diagnostics
    assert d.path == "items[0].items[1].metadata.name"


@pytest.mark.parametrize("kind_first", [True, False])
def test_a_large_typed_list_read_in_parallel_parts_is_the_same(kind_first: bool) -> None:
    items = [_pod(i) for i in range(600)]
    items[457]["spec"]["containers"][0]["ports"][0]["containerPrt"] = 1
    head = {"kind": "PodList", "apiVersion": "v1"}
    # the API writes kind first; kubectl get -o json sorts its members: items before kind
    root = ({**head, "items": items} if kind_first else
            {"apiVersion": "v1", "items": items, "kind": "PodList", "metadata": {}})
    text = json.dumps(root, indent=1)
    sequential = load_cluster(["-"], stdin_text=text, jobs=1)
    saved = load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES
    load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES = 1, 20_000
    try:
        assert len(load_module._plan([("<stdin>", text)])[0]) > 4  # really in parts
        parallel = load_cluster(["-"], stdin_text=text, jobs=2)
    finally:
        load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES = saved
    for result in (sequential, parallel):
        (d,) = result.diagnostics
        assert d.path == "items[457].spec.containers[0].ports[0].containerPrt", str(d)
        assert d.obj == "Pod a/p457" and d.line is not None
        assert len(result.cluster.endpoints) == 599
    assert parallel.diagnostics == sequential.diagnostics
