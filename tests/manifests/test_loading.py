"""What the loader makes of inputs: kinds, workloads, Lists, paths, namespaces, IPs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from podwall.errors import InputError, Severity
from podwall.manifests import load_cluster
from podwall.model import NAMESPACE_NAME_LABEL, ContainerPort, Protocol

TEMPLATE = """
    metadata:
      labels: {app: %(name)s}
    spec:
      containers:
      - name: c
        ports:
        - {name: http, containerPort: 8080}
        - {containerPort: 53, protocol: UDP}"""

WORKLOADS = {
    "Deployment": ("apps/v1", "spec:\n  template:" + TEMPLATE),
    "StatefulSet": ("apps/v1", "spec:\n  template:" + TEMPLATE),
    "DaemonSet": ("apps/v1", "spec:\n  template:" + TEMPLATE),
    "ReplicaSet": ("apps/v1", "spec:\n  template:" + TEMPLATE),
    "ReplicationController": ("v1", "spec:\n  template:" + TEMPLATE),
    "Job": ("batch/v1", "spec:\n  template:" + TEMPLATE),
    "CronJob": ("batch/v1", "spec:\n  jobTemplate:\n    spec:\n      template:"
                + TEMPLATE.replace("\n    ", "\n        ")),
}


@pytest.mark.parametrize("kind", sorted(WORKLOADS))
def test_each_workload_kind_is_one_endpoint_with_its_template(kind: str) -> None:
    api, spec = WORKLOADS[kind]
    name = kind.lower()
    text = f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: w}}\n" + (
        spec % {"name": name})
    result = load_cluster(["-"], stdin_text=text)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    (ep,) = result.cluster.endpoints
    assert (ep.key, ep.kind, dict(ep.labels)) == (f"w/{name}", kind, {"app": name})
    assert ep.ports == (ContainerPort(53, Protocol.UDP), ContainerPort(8080, Protocol.TCP, "http"))


def test_list_kinds_are_flattened() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"
            "- apiVersion: v1\n  kind: PodList\n  items:\n"
            "  - {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}}\n")
    result = load_cluster(["-"], stdin_text=text)
    assert [e.key for e in result.cluster.endpoints] == ["a/p"]
    assert result.documents == 2


def test_other_kinds_are_skipped_as_info() -> None:
    result = load_cluster(["-"], stdin_text="apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    (d,) = result.diagnostics
    assert d.severity is Severity.INFO and "kind Service is not used" in d.message


def test_directories_are_read_recursively_skipping_hidden(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n"
    (tmp_path / "a.yaml").write_text(ns % "a")
    (tmp_path / "sub" / "b.yml").write_text(ns % "b")
    (tmp_path / "sub" / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}')
    (tmp_path / ".git" / "d.yaml").write_text(ns % "d")
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert set(load_cluster([str(tmp_path)]).cluster.namespaces) == {"a", "b", "c"}


def test_a_missing_path_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no such file"):
        load_cluster(["/no/such/place"])


def test_default_namespace_and_namespace_argument() -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    assert load_cluster(["-"], stdin_text=pod).cluster.endpoints[0].key == "default/p"
    assert load_cluster(["-"], stdin_text=pod, namespace="dev").cluster.endpoints[0].key == "dev/p"


def test_referenced_namespaces_are_implied_with_their_name_label() -> None:
    text = ("apiVersion: v1\nkind: Namespace\nmetadata: {name: given, labels: {team: t}}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: implied}\n")
    nss = load_cluster(["-"], stdin_text=text).cluster.namespaces
    assert dict(nss["given"].labels) == {"team": "t", NAMESPACE_NAME_LABEL: "given"}
    assert dict(nss["implied"].labels) == {NAMESPACE_NAME_LABEL: "implied"}
    assert nss["implied"].implied and not nss["given"].implied


def test_pod_ips_are_kept_or_assigned_deterministically_without_collisions() -> None:
    pods = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n" for i in range(50))
    text = pods + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: fixed}\nstatus: {podIP: 10.9.0.1}\n"
    first = load_cluster(["-"], stdin_text=text, pod_cidr="10.9.0.0/26").cluster
    again = load_cluster(["-"], stdin_text=text, pod_cidr="10.9.0.0/26").cluster
    ips = [e.ip for e in first.endpoints]
    assert ips == [e.ip for e in again.endpoints]
    assert len(set(ips)) == len(ips)
    assert first.endpoint("default/fixed").ip == ipaddress.ip_address("10.9.0.1")
    assert all(ip in ipaddress.ip_network("10.9.0.0/26") for ip in ips)


def test_a_pod_cidr_too_small_is_an_input_error() -> None:
    pods = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n" for i in range(5))
    with pytest.raises(InputError, match="larger --pod-cidr"):
        load_cluster(["-"], stdin_text=pods, pod_cidr="10.0.0.0/30")


def test_large_inputs_load_the_same_in_parallel(tmp_path: Path) -> None:
    docs = [f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, labels: {{app: a{i % 7}}}}}\n"
            f"spec:\n  containers:\n  - name: c\n    ports: [{{containerPort: {80 + i % 3}}}]\n"
            for i in range(400)]
    (tmp_path / "pods.yaml").write_text("---\n".join(docs) + "---\n" + docs[3])  # a duplicate
    sequential = load_cluster([str(tmp_path)], jobs=1)
    import podwall.manifests.load as load_module
    threshold = load_module.PARALLEL_MIN_BYTES
    load_module.PARALLEL_MIN_BYTES = 1
    try:
        parallel = load_cluster([str(tmp_path)], jobs=2)
    finally:
        load_module.PARALLEL_MIN_BYTES = threshold
    assert parallel.cluster.endpoints == sequential.cluster.endpoints
    assert [str(d) for d in parallel.diagnostics] == [str(d) for d in sequential.diagnostics]
    assert any("duplicate object" in d.message for d in parallel.diagnostics)
