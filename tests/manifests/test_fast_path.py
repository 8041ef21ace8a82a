"""The quick path for plain, valid objects changes nothing: for any object, converting with it
gives the same objects (sources included) and the same diagnostics as the reporting path alone."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import podwall.manifests.convert as convert_module
from podwall.manifests.convert import Converted, convert
from podwall.manifests.documents import Document, ReadResult, read_source

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-7d9f8c6b5-x2k4p", "namespace": "shop",
                 "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5"}},
    "spec": {"nodeName": "node-1", "containers": [
        {"name": "web", "image": "nginx", "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"containerPort": 53, "protocol": "UDP"}]}]},
    "status": {"phase": "Running", "podIP": "10.0.0.7"},
}

TEMPLATE = {"metadata": {"labels": {"app": "api"}},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}
WORKLOADS = {
    "Deployment": ("apps/v1", {"replicas": 2, "template": TEMPLATE}),
    "StatefulSet": ("apps/v1", {"template": TEMPLATE}),
    "DaemonSet": ("apps/v1", {"template": TEMPLATE}),
    "ReplicaSet": ("apps/v1", {"template": TEMPLATE}),
    "ReplicationController": ("v1", {"template": TEMPLATE}),
    "Job": ("batch/v1", {"template": TEMPLATE}),
    "CronJob": ("batch/v1", {"jobTemplate": {"spec": {"template": TEMPLATE}}}),
}

# (path, values) to put into an object: valid and invalid alternatives of everything both paths
# read. A path segment "*" is every item of a list.
EDITS: list[tuple[tuple[Any, ...], list[Any]]] = [
    (("metadata", "name"), ["ok", "Bad", "x" * 254, "a" * 53, "", None, 5, "a.b-c", "-a"]),
    (("metadata", "namespace"), ["other", "Bad", "a.b", "", None, 3, "x" * 64]),
    (("metadata", "generateName"), ["web-", "Bad-"]),
    (("metadata", "uid"), ["123"]),
    (("metadata", "colour"), ["blue"]),
    (("metadata", "labels"), [None, {}, {"a": "b"}, {"a": None}, {"a": 1}, {"a": True},
                              {"Bad Key": "v"}, {"a": "bad value"}, {"a": ["x"]}, ["a"],
                              {"example.com/a": "b"}, {"a": datetime.date(2020, 1, 2)}]),
    (("metadata", "annotations"), [None, {}, {"a": "b"}, {"a": 1}, {"A/B": "c"}, {"x": "y" * 300000},
                                   {"Note": "upper case is fine"}, ["a"]]),
    (("metadata",), [None, [], "x"]),
    (("spec",), [None, {}, [], "x"]),
    (("spec", "containers"), [None, [], [None], [{}], {"name": "c"}, [{"ports": None}],
                              [{"ports": "80"}], [{"ports": [None]}],
                              [{"ports": [{"containerPort": 80}, {"containerPort": 80}]}],
                              [{"ports": [{"name": "a", "containerPort": 1},
                                          {"name": "a", "containerPort": 2}]}],
                              [{"ports": [{"name": "a", "containerPort": 1}]},
                               {"ports": [{"name": "a", "containerPort": 2}]}]]),
    (("spec", "initContainers"), [None, [{"restartPolicy": "Always",
                                          "ports": [{"containerPort": 9000}]}],
                                  [{"ports": [{"containerPort": 9001, "name": "init"}]}], "x"]),
    (("spec", "containers", "*", "ports", "*", "containerPort"),
     [0, 1, 65535, 65536, -1, "80", None, True, 8.5]),
    (("spec", "containers", "*", "ports", "*", "protocol"), ["TCP", "UDP", "SCTP", "tcp", "", None, 6]),
    (("spec", "containers", "*", "ports", "*", "name"), ["web", "Web", "a--b", "-a", "", None, "x" * 16,
                                                          "123", 7]),
    (("spec", "containers", "*", "ports", "*", "hostPort"), [0, 80, 70000, None]),
    (("spec", "containers", "*", "ports", "*", "hostIP"), ["", "10.0.0.1", None, 1]),
    (("spec", "containers", "*", "ports", "*", "extra"), [1]),
    (("spec", "containers", "*", "restartPolicy"), ["Always"]),
    (("status",), [None, {}, [], "x"]),
    (("status", "podIP"), [None, "", "10.0.0.300", "fd00::1", "::ffff:10.0.0.1", "010.0.0.1",
                           5, "10.1.2.3", datetime.date(2020, 1, 1)]),
    # fields: known ones podwall does not read, unknown ones at every level it reads
    (("spec", "volumes"), [[{"name": "v", "emptyDir": {"sizeLimt": 1}}]]),
    (("spec", "nodeNme"), ["n"]),
    (("spec", "containers", "*", "imag"), ["nginx"]),
    (("spec", "containers", "*", "env"), [[{"name": "A", "vaule": "b"}]]),
    (("status", "podIp"), ["10.0.0.1"]),
    (("status", "phase"), ["Running"]),
    (("extra",), [1]),
    (("apiVersion",), ["v1", "apps/v1", "v2", None]),
    (("kind",), ["Pod", "Deployment", "Service", None, ["Pod"], 3]),
]


def edit(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    *parents, last = path
    nodes = [obj]
    for seg in parents:
        nxt: list[Any] = []
        for node in nodes:
            if seg == "*" and isinstance(node, list):
                nxt.extend(node)
            elif isinstance(node, dict) and seg in node:
                nxt.append(node[seg])
        nodes = nxt
    for node in nodes:
        if last == "*" and isinstance(node, list):
            node[:] = [value for _ in node]
        elif isinstance(node, dict):
            node[last] = value


def workload(kind: str) -> dict[str, Any]:
    api, spec = WORKLOADS[kind]
    return {"apiVersion": api, "kind": kind,
            "metadata": {"name": kind.lower(), "namespace": "w", "labels": {"owner": "me"}},
            "spec": copy.deepcopy(spec)}


def both_ways(documents: list[Document]) -> tuple[Converted, Converted]:
    quick = convert(documents, "dflt")
    saved = convert_module._fast
    convert_module._fast = lambda doc, namespace: None
    try:
        careful = convert(documents, "dflt")
    finally:
        convert_module._fast = saved
    return quick, careful


def assert_same(quick: Converted, careful: Converted) -> None:
    assert quick.diagnostics == careful.diagnostics
    assert quick.endpoints == careful.endpoints
    assert [(e.source, e.kind, e.ip_assigned) for e in quick.endpoints] == [
        (e.source, e.kind, e.ip_assigned) for e in careful.endpoints]
    assert quick.namespaces == careful.namespaces and quick.policies == careful.policies


def as_documents(obj: dict[str, Any], via_yaml: bool) -> list[Document]:
    if not via_yaml:
        return [Document("x.json", 0, json.loads(json.dumps(obj, default=str)), None)]
    read = ReadResult()
    read_source("x.yaml", yaml.safe_dump(obj), read)
    return read.documents


def test_plain_objects_take_the_quick_path() -> None:
    kinds = [copy.deepcopy(POD), *(workload(k) for k in sorted(WORKLOADS))]
    for obj in kinds:
        for documents in (as_documents(obj, True), as_documents(obj, False)):
            assert convert_module._fast(documents[0], "dflt") is not None, obj["kind"]
            quick, careful = both_ways(documents)
            assert not careful.diagnostics
            assert_same(quick, careful)


@pytest.mark.parametrize("path,values", EDITS, ids=[".".join(map(str, p)) for p, _ in EDITS])
def test_each_edit_alone(path: tuple[Any, ...], values: list[Any]) -> None:
    for base in [POD, *(workload(k) for k in ("Deployment", "CronJob"))]:
        for value in values:
            obj = copy.deepcopy(base)
            if base is not POD and path[0] == "spec" and len(path) > 1:
                template = obj["spec"].get("template") or obj["spec"]["jobTemplate"]["spec"]["template"]
                edit(template, path, copy.deepcopy(value))
            else:
                edit(obj, path, copy.deepcopy(value))
            for via_yaml in (True, False):
                assert_same(*both_ways(as_documents(obj, via_yaml)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["Pod", *sorted(WORKLOADS)]),
       st.lists(st.tuples(st.integers(0, len(EDITS) - 1), st.integers(0, 20)), max_size=5),
       st.booleans())
def test_any_combination_of_edits(kind: str, edits: list[tuple[int, int]], via_yaml: bool) -> None:
    obj = copy.deepcopy(POD) if kind == "Pod" else workload(kind)
    for which, pick in edits:
        path, values = EDITS[which]
        edit(obj, path, copy.deepcopy(values[pick % len(values)]))
    assert_same(*both_ways(as_documents(obj, via_yaml)))


def test_a_document_with_duplicate_keys_takes_the_reporting_path() -> None:
    read = ReadResult()
    read_source("x.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  name: q\n", read)
    assert convert_module._fast(read.documents[0], "dflt") is None
    quick, careful = both_ways(read.documents)
    assert_same(quick, careful)
    assert [d.message for d in quick.diagnostics] == ['duplicate key "name": the last value is used']
