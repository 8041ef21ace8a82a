"""Tests for benchmarks/generate.py (the realistic-cluster generator used by the benchmarks)."""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"
PODS = 300


def _load() -> ModuleType:
    name = "podwall_bench_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


gen = _load()

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
POD_CIDR = ipaddress.ip_network("10.0.0.0/8")


def is_label(s: str) -> bool:
    return len(s) <= 63 and bool(DNS1123_LABEL.match(s))


def is_subdomain(s: str) -> bool:
    return len(s) <= 253 and bool(DNS1123_SUBDOMAIN.match(s))


def is_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and not is_subdomain(prefix):
        return False
    return len(name) <= 63 and bool(LABEL_NAME.match(name))


def is_label_value(value: object) -> bool:
    return isinstance(value, str) and (
        value == "" or (len(value) <= 63 and bool(LABEL_NAME.match(value))))


def is_port_name(s: str) -> bool:
    return (len(s) <= 15 and bool(IANA_SVC_NAME.match(s)) and "--" not in s
            and re.search("[a-z]", s) is not None)


@pytest.fixture(scope="module")
def cluster() -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = gen.generate(PODS, seed=7)
    return objs


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def test_deterministic_for_a_seed(cluster: list[dict[str, Any]]) -> None:
    assert gen.generate(PODS, seed=7) == cluster
    assert gen.generate(PODS, seed=8) != cluster


@pytest.mark.parametrize("pods", [0, 1, 4, 7, 99, PODS, 1234])
def test_exact_pod_count(pods: int) -> None:
    objs = gen.generate(pods, seed=1)
    assert len(by_kind(objs, "Pod")) == pods
    assert {o["kind"] for o in objs} <= {"Namespace", "Pod", "NetworkPolicy"}


def test_pod_ips_unique_in_pod_cidr(cluster: list[dict[str, Any]]) -> None:
    ips = [p["status"]["podIP"] for p in by_kind(cluster, "Pod")]
    assert len(set(ips)) == len(ips) == PODS
    for p in by_kind(cluster, "Pod"):
        ip = ipaddress.ip_address(p["status"]["podIP"])
        assert ip in POD_CIDR
        assert p["status"]["podIPs"] == [{"ip": p["status"]["podIP"]}]


@pytest.mark.parametrize("ratio", [0.0, 0.05, 0.2, 1.0, 2.5])
def test_policy_count_follows_ratio(ratio: float) -> None:
    objs = gen.generate(PODS, seed=3, policy_ratio=ratio)
    assert len(by_kind(objs, "NetworkPolicy")) == round(ratio * PODS)


def test_namespaces_and_system_workloads(cluster: list[dict[str, Any]]) -> None:
    namespaces = {n["metadata"]["name"]: n for n in by_kind(cluster, "Namespace")}
    assert {"kube-system", "monitoring", "ingress-nginx"} <= namespaces.keys()
    apps = [n for n in namespaces.values() if "team" in n["metadata"]["labels"]
            and "env" in n["metadata"]["labels"]]
    assert len(apps) == max(3, round(PODS / 100))
    assert all(n["metadata"]["labels"]["env"] in {"prod", "staging", "dev"} for n in apps)
    pods = by_kind(cluster, "Pod")
    assert all(p["metadata"]["namespace"] in namespaces for p in pods)
    dns = [p for p in pods if p["metadata"]["labels"].get("k8s-app") == "kube-dns"]
    assert dns and all(p["metadata"]["namespace"] == "kube-system" for p in dns)
    ports = {(q["name"], q["protocol"], q["containerPort"])
             for q in dns[0]["spec"]["containers"][0]["ports"]}
    assert {("dns", "UDP", 53), ("dns-tcp", "TCP", 53), ("metrics", "TCP", 9153)} <= ports
    tiers = {p["metadata"]["labels"].get("tier") for p in pods}
    assert {"web", "api", "db", "cache", "worker"} <= tiers


def test_names_and_labels_are_valid(cluster: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str | None, str]] = set()
    for o in cluster:
        meta = o["metadata"]
        key = (o["kind"], meta.get("namespace"), meta["name"])
        assert key not in seen, key
        seen.add(key)
        if o["kind"] == "Namespace":
            assert is_label(meta["name"]), meta["name"]
        else:
            assert is_subdomain(meta["name"]), meta["name"]
            assert is_label(meta["namespace"])
        for k, v in meta.get("labels", {}).items():
            assert is_label_key(k), k
            assert is_label_value(v), (k, v)


def test_container_ports_are_valid(cluster: list[dict[str, Any]]) -> None:
    for pod in by_kind(cluster, "Pod"):
        names: set[str] = set()
        assert pod["spec"]["containers"]
        for c in pod["spec"]["containers"]:
            assert is_label(c["name"]) and c["image"]
            for p in c.get("ports", []):
                assert is_port_name(p["name"]), p
                assert p["name"] not in names
                names.add(p["name"])
                assert 1 <= p["containerPort"] <= 65535
                assert p["protocol"] in {"TCP", "UDP", "SCTP"}


def check_selector(sel: dict[str, Any]) -> None:
    assert set(sel) <= {"matchLabels", "matchExpressions"}, sel
    for k, v in sel.get("matchLabels", {}).items():
        assert is_label_key(k) and is_label_value(v), (k, v)
    for e in sel.get("matchExpressions", []):
        assert is_label_key(e["key"])
        assert e["operator"] in {"In", "NotIn", "Exists", "DoesNotExist"}
        if e["operator"] in {"In", "NotIn"}:
            assert e["values"] and all(is_label_value(v) for v in e["values"]), e
        else:
            assert not e.get("values"), e


def check_port(p: dict[str, Any]) -> None:
    assert set(p) <= {"protocol", "port", "endPort"}
    assert p.get("protocol", "TCP") in {"TCP", "UDP", "SCTP"}
    port = p.get("port")
    if isinstance(port, str):
        assert is_port_name(port), port
        assert "endPort" not in p
    elif port is not None:
        assert 1 <= port <= 65535
    if "endPort" in p:
        assert isinstance(port, int) and port <= p["endPort"] <= 65535, p


def check_peer(peer: dict[str, Any]) -> None:
    assert peer and set(peer) <= {"podSelector", "namespaceSelector", "ipBlock"}
    if "ipBlock" in peer:
        assert set(peer) == {"ipBlock"}
        block = peer["ipBlock"]
        cidr = ipaddress.IPv4Network(block["cidr"], strict=True)
        for exc in block.get("except", []):
            sub = ipaddress.IPv4Network(exc, strict=True)
            assert sub.subnet_of(cidr) and sub != cidr, block
    for key in ("podSelector", "namespaceSelector"):
        if key in peer:
            check_selector(peer[key])


def test_network_policies_are_valid(cluster: list[dict[str, Any]]) -> None:
    policies = by_kind(cluster, "NetworkPolicy")
    assert policies
    for np in policies:
        assert np["apiVersion"] == "networking.k8s.io/v1"
        spec = np["spec"]
        assert set(spec) <= {"podSelector", "ingress", "egress", "policyTypes"}
        check_selector(spec["podSelector"])
        types = spec.get("policyTypes", [])
        assert set(types) <= {"Ingress", "Egress"} and len(set(types)) == len(types)
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction, []):
                assert set(rule) <= {peers_key, "ports"}
                for peer in rule.get(peers_key, []):
                    check_peer(peer)
                for port in rule.get("ports", []):
                    check_port(port)


def test_policies_use_the_realistic_features() -> None:
    text = json.dumps(by_kind(gen.generate(1000, seed=0), "NetworkPolicy"))
    for needle in ('"endPort"', '"except"', '"operator": "In"', '"operator": "NotIn"',
                   '"operator": "Exists"', '"port": "http"', '"port": "redis"',
                   '"port": "metrics"', '"kubernetes.io/metadata.name": "ingress-nginx"',
                   '"podSelector": {}', '"policyTypes": ["Ingress", "Egress"]'):
        assert needle in text, needle
    policies = by_kind(gen.generate(1000, seed=0), "NetworkPolicy")
    dns = [p for p in policies if p["metadata"]["name"] == "allow-dns"]
    assert dns
    for p in dns:
        (rule,) = p["spec"]["egress"]
        (peer,) = rule["to"]  # namespaceSelector AND podSelector in ONE peer
        assert peer["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "kube-system"}
        assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
        assert {(q["protocol"], q["port"]) for q in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_yaml_and_json_outputs_round_trip(
        tmp_path: Path, cluster: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    ydir, jdir = tmp_path / "yaml", tmp_path / "json"
    assert gen.main(["--pods", str(PODS), "--seed", "7", "--out", str(ydir)]) == 0
    assert gen.main(["--pods", str(PODS), "--seed", "7", "--out", str(jdir),
                     "--format", "json"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and f"{PODS} pods" in err[0]

    files = sorted(ydir.iterdir())
    assert [f.name for f in files] == ["namespaces.yaml", "pods-000.yaml", "policies-000.yaml"]
    order = ["namespaces.yaml", "pods-000.yaml", "policies-000.yaml"]
    from_yaml: list[Any] = []
    for name in order:
        with (ydir / name).open() as f:
            from_yaml.extend(yaml.load_all(f, Loader=yaml.CSafeLoader))
    assert from_yaml == cluster

    (jfile,) = jdir.iterdir()
    doc = json.loads(jfile.read_text())
    assert doc["apiVersion"] == "v1" and doc["kind"] == "List"
    assert doc["items"] == cluster


def test_yaml_chunks_hold_at_most_5000_objects(tmp_path: Path) -> None:
    objs = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"}}
            for i in range(12001)]
    files = gen.write(objs, tmp_path, "yaml")
    assert [f.name for f in files] == ["namespaces.yaml", "pods-000.yaml", "pods-001.yaml",
                                       "pods-002.yaml"]
    counts = [sum(1 for _ in yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader))
              for f in files[1:]]
    assert counts == [5000, 5000, 2001]
