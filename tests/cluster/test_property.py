"""The live read gives the answer the same objects give in a file (generated clusters)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.cluster import load_live
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import Cluster, Endpoint, LabelSelector, NetworkPolicy, Peer, PolicyPort, Rule
from tests.cluster.fake_apiserver import FakeApiServer, kubeconfig, lists_from_objects
from tests.strategies import clusters


def _selector(s: LabelSelector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.match_labels:
        out["matchLabels"] = dict(s.match_labels)
    if s.match_expressions:
        out["matchExpressions"] = [
            {"key": r.key, "operator": str(r.operator), **({"values": list(r.values)}
                                                            if r.values else {})}
            for r in s.match_expressions]
    return out


def _peer(p: Peer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.pod_selector is not None:
        out["podSelector"] = _selector(p.pod_selector)
    if p.namespace_selector is not None:
        out["namespaceSelector"] = _selector(p.namespace_selector)
    if p.ip_block is not None:
        out["ipBlock"] = {"cidr": str(p.ip_block.cidr),
                          **({"except": [str(e) for e in p.ip_block.excepts]}
                             if p.ip_block.excepts else {})}
    return out


def _port(p: PolicyPort) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": str(p.protocol)}
    if p.port is not None:
        out["port"] = p.port
    if p.end_port is not None:
        out["endPort"] = p.end_port
    return out


def _rule(r: Rule, peers: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.peers:
        out[peers] = [_peer(p) for p in r.peers]
    if r.ports:
        out["ports"] = [_port(p) for p in r.ports]
    return out


def _policy(p: NetworkPolicy) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": p.name, "namespace": p.namespace, "uid": f"uid-{p.key}"},
            "spec": {"podSelector": _selector(p.pod_selector),
                     "policyTypes": sorted(str(t) for t in p.policy_types),
                     "ingress": [_rule(r, "from") for r in p.ingress],
                     "egress": [_rule(r, "to") for r in p.egress]}}


def _pod(ep: Endpoint, index: int) -> dict[str, Any]:
    containers = [{"name": "main", "image": "busybox",
                   "ports": [{"containerPort": cp.port, "protocol": str(cp.protocol),
                              **({"name": cp.name} if cp.name else {})} for cp in ep.ports]}]
    spec = {"containers": containers}
    meta = {"name": ep.name, "namespace": ep.namespace, "labels": dict(ep.labels)}
    if index % 3 == 2:  # some endpoints are Deployments standing for their pods
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"selector": {"matchLabels": dict(ep.labels)},
                         "template": {"metadata": {"labels": dict(ep.labels)}, "spec": spec}}}
    status = {} if ep.ip_assigned or ep.ip is None else {"podIP": str(ep.ip)}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": status}


def objects_of(cluster: Cluster) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": ns.name, "labels": dict(ns.labels)}}
        for ns in cluster.namespaces.values()]
    out.extend(_pod(ep, i) for i, ep in enumerate(cluster.endpoints))
    out.extend(_policy(p) for p in cluster.policies)
    return out


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApiServer]:
    with FakeApiServer(lists_from_objects([])) as server:
        yield server


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=clusters(max_endpoints=8, max_policies=5), page=st.integers(1, 4))
def test_live_read_equals_file_read(generated: Cluster, page: int, fake: FakeApiServer,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = objects_of(generated)
    fake.lists = lists_from_objects(objects)
    fake.page_cap = page
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(fake.url)))
    live = load_live(str(config), pod_cidr="10.3.0.0/16")
    file = tmp_path / "cluster.json"
    file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    from_file = load_cluster([str(file)], pod_cidr="10.3.0.0/16")
    assert live.cluster == from_file.cluster
    # the same diagnostics (the server lists kind by kind, so their order may differ)
    # (and a file's diagnostics carry a line, and the item of its List, which a live object
    # has not)
    assert sorted(str(d).removeprefix("cluster:kind-test") for d in live.diagnostics) == \
           sorted(re.sub(r"items\[\d+\]\.", "", re.sub(r"^:\d+", "", str(d).removeprefix(str(file))),
                         count=1)
                  for d in from_file.diagnostics)
    live_matrix = Engine(live.cluster).matrix(None)
    file_matrix = Engine(from_file.cluster).matrix(None)
    assert live_matrix.to_json() == file_matrix.to_json()
