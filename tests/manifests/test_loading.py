"""What the loader makes of inputs: files, directories, stdin, JSON, Lists, YAML problems,
workloads, namespaces, pod IPs, and the same result when large inputs load in parallel."""

from __future__ import annotations

import gc
import io
import ipaddress
import json
import sys
from pathlib import Path

import pytest

import podwall.manifests.load as load_module
from podwall.errors import InputError, Severity
from podwall.manifests import LoadResult, load_cluster
from podwall.manifests.documents import (
    ReadResult,
    json_root_is_list,
    read_json_part,
    split_json_items,
)
from podwall.model import NAMESPACE_NAME_LABEL, ContainerPort, Protocol
from tests.manifests.helpers import POLICY_HEADER, load_text, only

FIXTURES = Path(__file__).parents[1] / "fixtures" / "manifests"

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
    text = (f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: w\n"
            "  labels: {owner: me}\n" + spec % {"name": name})
    result = load_text(text, pod_cidr="10.9.0.0/24")
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    (ep,) = result.cluster.endpoints
    assert (ep.key, ep.kind, dict(ep.labels)) == (f"w/{name}", kind, {"app": name})
    assert ep.ports == (ContainerPort(53, Protocol.UDP), ContainerPort(8080, Protocol.TCP, "http"))
    assert ep.ip_assigned and ep.ip in ipaddress.ip_network("10.9.0.0/24")


def test_an_invalid_object_does_not_hide_a_valid_one() -> None:
    result = load_cluster([str(FIXTURES / "mixed.yaml")])
    assert [p.key for p in result.cluster.policies] == ["prod/web-from-anywhere"]
    d = only([x for x in result.diagnostics if x.severity is Severity.ERROR])
    assert (d.obj, d.path, d.line) == ("NetworkPolicy prod/broken", "spec.ingress[0].ports[0].port",
                                       11)


def test_yaml_syntax_error_names_file_line_and_column_and_other_documents_survive() -> None:
    path = str(FIXTURES / "syntax-error.yaml")
    result = load_cluster([path])
    d = only(list(result.diagnostics))
    assert d.message.startswith("YAML syntax error")
    assert (d.file, d.line, d.column) == (path, 8, 1)
    assert set(result.cluster.namespaces) == {"one", "three"}
    assert result.documents == 2


def test_json_syntax_error() -> None:
    d = only(list(load_text("{").diagnostics))  # YAML reads '{' too: either way, a syntax error
    assert "syntax error" in d.message and d.line is not None


def test_json_files_load_and_their_duplicate_keys_are_found(tmp_path: Path) -> None:
    (tmp_path / "ns.json").write_text(
        '{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "a", "name": "b"}}')
    result = load_cluster([str(tmp_path)])
    assert set(result.cluster.namespaces) == {"b"}
    d = only(list(result.diagnostics))
    assert (d.severity, d.path, d.message) == (
        Severity.WARNING, "metadata.name", 'duplicate key "name": the last value is used')


def test_duplicate_keys_are_warnings_with_path_and_line_and_the_last_value_is_used() -> None:
    result = load_text(POLICY_HEADER + "  podSelector: {}\n  ingress:\n  - from:\n"
                       "    - podSelector: {matchLabels: {a: b, a: c}}\n"
                       "  podSelector: {matchLabels: {x: z}}\n")
    warnings = [(d.path, d.line, d.message) for d in result.diagnostics]
    assert warnings == [
        ("spec.ingress[0].from[0].podSelector.matchLabels.a", 10,
         'duplicate key "a": the last value is used'),
        ("spec.podSelector", 11, 'duplicate key "podSelector": the last value is used'),
    ]
    assert all(d.severity is Severity.WARNING for d in result.diagnostics)
    (policy,) = result.cluster.policies
    assert policy.pod_selector.match_labels == (("x", "z"),)
    peer_selector = policy.ingress[0].peers[0].pod_selector
    assert peer_selector is not None and peer_selector.match_labels == (("a", "c"),)


def test_list_kinds_are_flattened() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"
            "- apiVersion: v1\n  kind: PodList\n  items:\n"
            "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p, namespace: a}\n"
            "    spec: {containers: [{name: c, ports: [{containerPort: 0}]}]}\n"
            "  - {apiVersion: v1, kind: Pod, metadata: {name: q, namespace: a}}\n")
    result = load_text(text)
    assert [e.key for e in result.cluster.endpoints] == ["a/q"]
    assert result.documents == 3
    d = only(list(result.diagnostics))  # items keep their own lines
    assert (d.obj, d.path, d.line) == ("Pod a/p", "items[1].items[0].spec.containers[0].ports[0]"
                                                  ".containerPort", 11)


def test_list_items_that_are_not_a_list() -> None:
    d = only(list(load_text("apiVersion: v1\nkind: List\nitems: {a: b}\n").diagnostics))
    assert d.path == "items" and d.severity is Severity.ERROR


def test_stdin_is_read_when_the_path_is_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("apiVersion: v1\nkind: Namespace\n"
                                                  "metadata: {name: from-stdin}\n"))
    result = load_cluster(["-"])
    ns = result.cluster.namespaces["from-stdin"]
    assert ns.source is not None and ns.source.file == "<stdin>"


def test_directories_are_read_recursively_skipping_hidden_entries(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n"
    (tmp_path / "a.yaml").write_text(ns % "a")
    (tmp_path / "sub" / "b.yml").write_text(ns % "b")
    (tmp_path / "sub" / "deeper" / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}')
    (tmp_path / "sub" / ".hidden.yaml").write_text(ns % "h")
    (tmp_path / ".git" / "d.yaml").write_text(ns % "d")
    (tmp_path / "notes.txt").write_text("not a manifest")
    result = load_cluster([str(tmp_path)])
    assert set(result.cluster.namespaces) == {"a", "b", "c"}
    assert result.documents == 3


def test_a_missing_path_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no such file"):
        load_cluster(["/no/such/place"])


def test_default_namespace_and_namespace_argument() -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    assert load_text(pod).cluster.endpoints[0].key == "default/p"
    assert load_text(pod, namespace="dev").cluster.endpoints[0].key == "dev/p"
    policy = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
              "spec: {podSelector: {}}\n")
    assert load_text(policy, namespace="dev").cluster.policies[0].key == "dev/np"
    explicit = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ops}\n"
    assert load_text(explicit, namespace="dev").cluster.endpoints[0].key == "ops/p"


def test_referenced_namespaces_are_implied_with_their_name_label() -> None:
    text = ("apiVersion: v1\nkind: Namespace\nmetadata: {name: given, labels: {team: t}}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: implied}\n---\n"
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: np, namespace: by-policy}\nspec: {podSelector: {}}\n")
    nss = load_text(text).cluster.namespaces
    assert set(nss) == {"given", "implied", "by-policy"}
    assert dict(nss["given"].labels) == {"team": "t", NAMESPACE_NAME_LABEL: "given"}
    assert dict(nss["implied"].labels) == {NAMESPACE_NAME_LABEL: "implied"}
    assert nss["implied"].implied and not nss["given"].implied


def test_pod_ips_are_kept_or_assigned_deterministically_without_collisions() -> None:
    pods = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n" for i in range(50))
    text = pods + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: fixed}\nstatus: {podIP: 10.9.0.1}\n"
    first = load_text(text, pod_cidr="10.9.0.0/26").cluster
    again = load_text(text, pod_cidr="10.9.0.0/26").cluster
    ips = [e.ip for e in first.endpoints]
    assert ips == [e.ip for e in again.endpoints]
    assert len(set(ips)) == len(ips)
    fixed = first.endpoint("default/fixed")
    assert fixed is not None and fixed.ip == ipaddress.ip_address("10.9.0.1")
    assert all(ip in ipaddress.ip_network("10.9.0.0/26") for ip in ips)


def test_a_pod_cidr_too_small_is_an_input_error() -> None:
    pods = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n" for i in range(5))
    with pytest.raises(InputError, match="larger --pod-cidr"):
        load_text(pods, pod_cidr="10.0.0.0/30")


def test_diagnostics_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: P%d}\n"
    (tmp_path / "b.yaml").write_text(bad % 1 + "---\n" + bad % 2)
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    result = load_cluster([str(tmp_path)])
    assert [(Path(d.file or "").name, d.line) for d in result.diagnostics] == [
        ("a.yaml", 1), ("b.yaml", 3), ("b.yaml", 7)]


def test_the_collector_is_restored_after_loading() -> None:
    assert gc.isenabled()
    load_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    assert gc.isenabled()
    gc.disable()
    try:
        load_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
        assert not gc.isenabled()
    finally:
        gc.enable()


def _pods_json(prefix: str, count: int, *, indent: int | None = None, tail: bool = False,
               owners: bool = False, duplicate_at: int | None = None) -> str:
    items = []
    for i in range(count):
        item: dict[str, object] = {"apiVersion": "v1", "kind": "Pod",
                                   "metadata": {"name": f"{prefix}{i}", "labels": {"app": f"a{i % 3}"}}}
        if owners:  # lists of objects that start like an item: a cut may land inside one
            item["metadata"]["ownerReferences"] = [  # type: ignore[index]
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs2"}]
        items.append(json.dumps(item, indent=indent))
    if duplicate_at is not None:
        items[duplicate_at] = items[duplicate_at].replace('"kind"', '"kind": "Pod", "kind"', 1)
    sep = ",\n" + " " * (indent or 0) if indent else ","
    body = "[" + ("\n" + " " * indent if indent else "") + sep.join(items) + "]"
    if tail:  # kubectl's order: items first, kind after them
        return '{"apiVersion": "v1", "items": ' + body + ', "kind": "List", "metadata": {}}'
    return '{"apiVersion": "v1", "kind": "List", "items": ' + body + "}"


def test_large_inputs_load_the_same_in_parallel(tmp_path: Path) -> None:
    docs = [f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, labels: {{app: a{i % 7}}}}}\n"
            f"spec:\n  containers:\n  - name: c\n    ports: [{{containerPort: {80 + i % 3}}}]\n"
            for i in range(400)]
    docs[17] = docs[17].replace("containerPort: 82", "containerPort: 0")  # an error
    docs[30] = "# only a comment: an empty document\n"
    docs[31] = docs[31].replace("kind: Pod", "kind: Pod\nkind: Pod")  # a duplicate key
    block = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b{i}\n  namespace: nb\n"
                    for i in range(300))
    (tmp_path / "pods.yaml").write_text("---\n".join(docs) + "---\n" + docs[3])  # a duplicate
    (tmp_path / "block.yaml").write_text("# leading comment\n" + block)
    (tmp_path / "more.json").write_text(_pods_json("j", 200))
    (tmp_path / "kubectl.json").write_text(_pods_json("k", 200, indent=4, tail=True))
    (tmp_path / "owners.json").write_text(_pods_json("o", 200, owners=True))
    (tmp_path / "dups.json").write_text(_pods_json("d", 200, duplicate_at=150))
    for i in range(30):  # small files: read in batches
        (tmp_path / f"small-{i:02}.yaml").write_text(
            f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: s{i % 25}}}\n---\n"
            f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: np, namespace: s{i}}}\n"
            f"spec: {{podSelector: {{}}, ingress: [{{ports: [{{port: {i - 1}}}]}}]}}\n")
    sequential = load_cluster([str(tmp_path)], jobs=1)
    saved = load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES
    load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES = 1, 2000
    try:
        parallel = load_cluster([str(tmp_path)], jobs=2)
    finally:
        load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES = saved
    assert_same(parallel, sequential)
    assert any("duplicate object" in d.message for d in parallel.diagnostics)
    assert any(d.severity is Severity.ERROR for d in parallel.diagnostics)
    assert any('duplicate key "kind"' in d.message and d.file and d.file.endswith("dups.json")
               for d in parallel.diagnostics)
    assert len(parallel.cluster.endpoints) == 398 + 300 + 800
    load_module.PIECE_BYTES = 2000
    try:  # the YAML files and the JSON Lists were cut into pieces
        sources = [(str(p), p.read_text()) for p in sorted(tmp_path.iterdir())]
        units, json_files = load_module._plan(sources)
    finally:
        load_module.PIECE_BYTES = saved[1]
    assert len(json_files) == 4 and len(units) > 30
    assert any(u.last_source is not None and u.last_source > u.source for u in units)
    assert len(parallel.cluster.policies) == 28  # ports -1 and 0 are invalid


def test_a_large_json_list_is_cut_at_item_boundaries() -> None:
    for text in (_pods_json("j", 50), _pods_json("k", 50, indent=2, tail=True)):
        split = split_json_items(text, 5)
        assert split is not None and len(split.parts) >= 4
        names: list[str] = []
        end = None
        for start, stop in split.parts:
            read = ReadResult()
            ended = read_json_part("x.json", text, start, stop, read)
            assert ended is not None and not ended[1]
            end = ended[0]
            names += [d.data["metadata"]["name"] for d in read.documents]
        assert names == [d["metadata"]["name"] for d in json.loads(text)["items"]]
        assert end is not None and json_root_is_list(text, split, end)


def test_a_cut_inside_an_item_is_noticed() -> None:
    # Items and the ownerReferences inside them are written alike ("}, {" then "apiVersion"),
    # so some cuts fall inside an item: the part before such a cut does not end at it.
    text = _pods_json("o", 40, owners=True).replace('[{"apiVersion"', '[ {"apiVersion"', 1)
    text = text.replace('},{"apiVersion"', '}, {"apiVersion"')
    split = split_json_items(text, 8)
    assert split is not None and len(split.parts) > 1
    ends = [read_json_part("x.json", text, a, b, ReadResult()) for a, b in split.parts]
    assert None in ends


def test_a_json_root_that_is_not_a_plain_list_is_noticed() -> None:
    for text in ('{"kind": "List", "items": [{"a": 1}, {"a": 2}], "kind": "List"}',
                 '{"kind": "Pod", "items": [{"a": 1}, {"a": 2}]}',
                 '{"kind": "List", "items": [{"a": 1}, {"a": 2}]} trailing'):
        split = split_json_items(text, 2)
        assert split is not None
        ended = read_json_part("x.json", text, split.parts[0][0], len(text), ReadResult())
        assert ended is None or not json_root_is_list(text, split, ended[0])


def assert_same(a: LoadResult, b: LoadResult) -> None:
    assert a.cluster.endpoints == b.cluster.endpoints
    assert [e.source for e in a.cluster.endpoints] == [e.source for e in b.cluster.endpoints]
    assert a.cluster.namespaces == b.cluster.namespaces
    assert a.cluster.policies == b.cluster.policies
    assert [str(d) for d in a.diagnostics] == [str(d) for d in b.diagnostics]
    assert a.documents == b.documents
