#!/usr/bin/env python3
"""Generate realistic Kubernetes clusters (Namespaces, Pods, NetworkPolicies) for benchmarks.

    python benchmarks/generate.py --pods 10000 --out DIR [--format yaml|json] [--seed N]
                                  [--policies-per-pod 0.2]

The point is that policies look the way teams actually write them: per-namespace default-deny,
DNS egress to kube-dns, tier-to-tier allows on named ports, ingress from the ingress controller,
Prometheus scrapes, cross-namespace allows by namespace label (matchLabels and matchExpressions,
alone or AND-ed with a podSelector), ipBlock egress with `except`, endPort ranges, and one or
more policies per workload to reach the requested density.

Cluster layout
  * App namespaces: max(3, round(pods / 100)), named `<team>-<env>[-N]`, labelled
    `team`, `env` (prod|staging|dev) and `kubernetes.io/metadata.name` (the API server sets
    the latter itself; we write it so that files are self-contained).
  * System namespaces: `default` (no pods), `kube-system` (CoreDNS, `k8s-app: kube-dns`),
    `monitoring` (Prometheus, `app: prometheus`) and `ingress-nginx` (controller pods).
  * Workloads in tiers web/api/db/cache/worker, 1-10 replicas each, emitted as individual Pods
    named like a ReplicaSet would (`api-7d9f8c6b5-x2k4p`) with `pod-template-hash` labels.
  * Pod CIDR is 10.0.0.0/8: node i owns the /24 `10.<i // 256>.<i % 256>.0/24` and hands out
    .2, .3, ... to its pods (at most 110 per node, the kubelet default), so every `status.podIP`
    is unique and inside 10.0.0.0/8. Node (host) addresses are in 172.20.0.0/14 (never used as
    pod addresses), external ranges in policies are public or RFC 5737 documentation ranges.
  * The total number of Pod objects (system pods included) is exactly `pods`; the number of
    NetworkPolicies is exactly round(policy_ratio * pods), spread over the app namespaces in
    proportion to their size.

Output
  * yaml: `namespaces.yaml`, `pods-NNN.yaml` and `policies-NNN.yaml` (multi-document, at most
    5000 objects per file).
  * json: one `cluster.json` holding `{"apiVersion": "v1", "kind": "List", "items": [...]}`.
  Files of a previous run with those names in the output directory are removed first.

Determinism: everything derives from `random.Random(seed)`; the same arguments give
byte-identical files. Pods of one workload share their `labels` dict and `containers` list (it
keeps 100k pods small in memory): copy before mutating the returned objects.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

CHUNK = 5000
MAX_WORKERS = 4             # processes dumping YAML chunks in parallel
POD_CIDR = "10.0.0.0/8"
PODS_PER_NODE = 110          # kubelet default maxPods
NODE_FILL = 80               # average pods per node we aim for
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

TEAMS = [
    "payments", "checkout", "search", "identity", "catalog", "orders", "shipping", "billing",
    "analytics", "platform", "growth", "messaging", "media", "risk", "ledger", "inventory",
    "pricing", "support", "marketing", "data",
]
ENVS = ["prod", "staging", "dev"]
ENV_WEIGHTS = [0.45, 0.3, 0.25]
TIERS = ["web", "api", "db", "cache", "worker"]
TIER_WEIGHTS = [0.15, 0.35, 0.1, 0.1, 0.3]
WORKLOAD_NAMES = {
    "web": ["frontend", "storefront", "web", "portal", "dashboard", "admin-ui", "docs", "landing"],
    "api": ["api", "orders-api", "users-api", "search-api", "auth", "gateway", "catalog",
            "pricing", "notifications", "graphql", "profile", "accounts", "quotes"],
    "db": ["postgres", "orders-db", "users-db", "ledger-db", "events-db"],
    "cache": ["redis", "session-cache", "rate-limiter", "feature-cache"],
    "worker": ["worker", "email-worker", "indexer", "scheduler", "report-builder", "thumbnailer",
               "sync", "billing-job", "webhook-sender"],
}
REPLICAS = {"web": (2, 10), "api": (2, 10), "db": (1, 3), "cache": (1, 3), "worker": (1, 8)}
# Kubernetes' SafeEncodeString alphabet (no vowels, no look-alikes), used for hashes/suffixes.
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

BACKUP_RANGES = ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24"]
OFFICE_RANGES = ["198.51.100.0/24", "203.0.113.0/25", "192.0.2.64/26"]
PARTNER_RANGES = [("52.94.0.0/16", "52.94.7.0/24"), ("34.120.0.0/14", "34.122.0.0/16"),
                  ("185.199.108.0/22", "185.199.111.0/24")]
NODE_NETWORK = "172.20.0.0/14"


# --------------------------------------------------------------------------- model


@dataclass
class Workload:
    name: str
    tier: str
    replicas: int
    metrics: bool
    labels: dict[str, str]
    containers: list[Obj]


@dataclass
class Namespace:
    name: str
    team: str
    env: str
    deny_egress: bool
    pods: int = 0
    workloads: list[Workload] = field(default_factory=list)

    def apps(self, tier: str) -> list[str]:
        return [w.name for w in self.workloads if w.tier == tier]

    def has(self, tier: str) -> bool:
        return any(w.tier == tier for w in self.workloads)


def _token(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(ALPHABET, k=k))


def _port(name: str, port: int, protocol: str = "TCP") -> Obj:
    return {"name": name, "containerPort": port, "protocol": protocol}


def _namespace_obj(name: str, labels: dict[str, str] | None = None) -> Obj:
    all_labels = {"kubernetes.io/metadata.name": name, **(labels or {})}
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": all_labels}}


# --------------------------------------------------------------------------- pod addresses


class _Nodes:
    """Hands out unique pod IPs: node i owns 10.<i//256>.<i%256>.0/24, hosts .2 .. .111."""

    def __init__(self, rng: random.Random, pods: int) -> None:
        count = max(1, math.ceil(pods / NODE_FILL))
        if count > 65536:
            raise ValueError(f"{pods} pods do not fit in {POD_CIDR} at {NODE_FILL} per node")
        self.rng = rng
        self.names = [f"node-{i:05d}" for i in range(count)]
        base = 0xAC140000 + 10  # 172.20.0.10
        self.host_ips = [_ipv4(base + i) for i in range(count)]
        self.used = [0] * count
        self.open = list(range(count))

    def place(self) -> tuple[str, str, str]:
        """(nodeName, hostIP, podIP) for one new pod."""
        k = self.rng.randrange(len(self.open))
        node = self.open[k]
        host = self.used[node] + 2
        self.used[node] += 1
        if self.used[node] >= PODS_PER_NODE:
            self.open[k] = self.open[-1]
            self.open.pop()
        return (self.names[node], self.host_ips[node],
                f"10.{node >> 8}.{node & 255}.{host}")


def _ipv4(value: int) -> str:
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


# --------------------------------------------------------------------------- pods


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of `total` in proportion to `weights` (sums exactly)."""
    if not weights:
        return []
    wsum = sum(weights)
    if wsum <= 0:
        weights, wsum = [1.0] * len(weights), float(len(weights))
    raw = [total * w / wsum for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _pod(name: str, namespace: str, labels: dict[str, str], containers: list[Obj],
         place: tuple[str, str, str]) -> Obj:
    node, host_ip, ip = place
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": node, "containers": containers},
        "status": {"phase": "Running", "hostIP": host_ip, "podIP": ip, "podIPs": [{"ip": ip}]},
    }


def _replica_pods(rng: random.Random, nodes: _Nodes, namespace: str, base: str,
                  labels: dict[str, str], containers: list[Obj], replicas: int,
                  out: list[Obj]) -> None:
    seen: set[str] = set()
    for _ in range(replicas):
        suffix = _token(rng, 5)
        while suffix in seen:
            suffix = _token(rng, 5)
        seen.add(suffix)
        out.append(_pod(f"{base}-{suffix}", namespace, labels, containers, nodes.place()))


def _system_pods(rng: random.Random, nodes: _Nodes, budget: int, out: list[Obj]) -> int:
    """CoreDNS, Prometheus and ingress-nginx pods; returns how many were emitted."""
    want = [2 + budget // 20000, 1 + budget // 50000, 2 + budget // 20000]
    dns, prom, ingress = (min(w, max(0, budget - sum(want[:i]))) for i, w in enumerate(want))

    h = _token(rng, 10)
    labels = {"k8s-app": "kube-dns", "pod-template-hash": h}
    containers = [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                   "ports": [_port("dns", 53, "UDP"), _port("dns-tcp", 53, "TCP"),
                             _port("metrics", 9153, "TCP")]}]
    _replica_pods(rng, nodes, "kube-system", f"coredns-{h}", labels, containers, dns, out)

    rev = _token(rng, 10)
    for i in range(prom):
        name = f"prometheus-k8s-{i}"
        labels = {"app": "prometheus", "app.kubernetes.io/name": "prometheus",
                  "controller-revision-hash": f"prometheus-k8s-{rev}",
                  "statefulset.kubernetes.io/pod-name": name}
        containers = [{"name": "prometheus", "image": "quay.io/prometheus/prometheus:v2.51.2",
                       "ports": [_port("web", 9090)]}]
        out.append(_pod(name, "monitoring", labels, containers, nodes.place()))

    h = _token(rng, 10)
    labels = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance":
              "ingress-nginx", "app.kubernetes.io/component": "controller",
              "pod-template-hash": h}
    containers = [{"name": "controller",
                   "image": "registry.k8s.io/ingress-nginx/controller:v1.10.1",
                   "ports": [_port("http", 80), _port("https", 443), _port("metrics", 10254)]}]
    _replica_pods(rng, nodes, "ingress-nginx", f"ingress-nginx-controller-{h}", labels,
                  containers, ingress, out)
    return dns + prom + ingress


def _containers(rng: random.Random, team: str, name: str, tier: str, metrics: bool) -> list[Obj]:
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 12)}"
    image = f"registry.example.com/{team}/{name}:{version}"
    main: Obj
    exporter: Obj = {"name": "exporter", "image": "quay.io/prometheus/node-exporter:v1.8.0",
                "ports": [_port("metrics", 9100)]}
    if tier == "web":
        main = {"name": name, "image": image, "ports": [_port("http", 8080)]}
    elif tier == "api":
        main = {"name": name, "image": image, "ports": [_port("http", 8080), _port("grpc", 9090)]}
    elif tier == "db":
        main = {"name": "postgres", "image": "docker.io/library/postgres:16.3",
                "ports": [_port("postgres", 5432)]}
        return [main, exporter] if metrics else [main]
    elif tier == "cache":
        main = {"name": "redis", "image": "docker.io/library/redis:7.2",
                "ports": [_port("redis", 6379)]}
        return [main, exporter] if metrics else [main]
    else:  # worker
        main = {"name": name, "image": image}
    if metrics:
        main.setdefault("ports", []).append(_port("metrics", 9100))
    return [main]


def _fill_namespace(rng: random.Random, nodes: _Nodes, ns: Namespace, out: list[Obj]) -> None:
    remaining = ns.pods
    used: set[str] = set()
    initial = list(TIERS)
    while remaining > 0:
        tier = initial.pop(0) if initial else rng.choices(TIERS, TIER_WEIGHTS)[0]
        base = rng.choice(WORKLOAD_NAMES[tier])
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        lo, hi = REPLICAS[tier]
        replicas = min(remaining, rng.randint(lo, hi))
        remaining -= replicas
        metrics = rng.random() < (0.5 if tier == "worker" else 0.85)
        h = _token(rng, rng.choice((9, 10)))
        labels = {"app": name, "tier": tier, "team": ns.team, "pod-template-hash": h}
        containers = _containers(rng, ns.team, name, tier, metrics)
        ns.workloads.append(Workload(name, tier, replicas, metrics, labels, containers))
        _replica_pods(rng, nodes, ns.name, f"{name}-{h}", labels, containers, replicas, out)


# --------------------------------------------------------------------------- policy pieces


def _labels(**kv: str) -> Obj:
    return {"matchLabels": dict(kv)}


def _ns_name(name: str) -> Obj:
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


def _expr(key: str, op: str, values: Sequence[str] = ()) -> Obj:
    e: Obj = {"key": key, "operator": op}
    if op in ("In", "NotIn"):
        e["values"] = list(values)
    return e


def _tcp(port: int | str, end: int | None = None, *, explicit: bool = True) -> Obj:
    p: Obj = {"protocol": "TCP", "port": port} if explicit else {"port": port}
    if end is not None:
        p["endPort"] = end
    return p


def _dns_rule() -> Obj:
    return {"to": [{"namespaceSelector": _ns_name("kube-system"),
                    "podSelector": _labels(**{"k8s-app": "kube-dns"})}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def _prometheus_peer() -> Obj:
    return {"namespaceSelector": _ns_name("monitoring"),
            "podSelector": _labels(app="prometheus")}


def _external_rule(ports: list[Obj]) -> Obj:
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE)}}], "ports": ports}


def _sample(rng: random.Random, items: Sequence[str], k: int) -> list[str]:
    return rng.sample(list(items), min(k, len(items)))


class _PolicyWriter:
    def __init__(self, rng: random.Random, namespaces: list[Namespace]) -> None:
        self.rng = rng
        self.namespaces = namespaces

    # Peers in other namespaces, the way teams select them.
    def cross_peer(self, ns: Namespace) -> Obj:
        rng = self.rng
        others = [o for o in self.namespaces if o is not ns] or [ns]
        o = rng.choice(others)
        kind = rng.randrange(7)
        if kind == 0:
            return {"namespaceSelector": _labels(team=o.team, env=o.env)}
        if kind == 1:
            return {"namespaceSelector": _labels(team=o.team),
                    "podSelector": _labels(tier=rng.choice(["api", "worker", "web"]))}
        if kind == 2:
            return {"namespaceSelector": {"matchExpressions": [
                _expr("env", "In", sorted(_sample(rng, ENVS, 2))),
                _expr("team", "NotIn", [ns.team])]}}
        if kind == 3:
            apps = [w.name for w in o.workloads] or ["api"]
            return {"namespaceSelector": {"matchExpressions": [_expr("team", "Exists")]},
                    "podSelector": _labels(app=rng.choice(apps))}
        if kind == 4:
            return {"namespaceSelector": _ns_name(o.name),
                    "podSelector": {"matchExpressions": [
                        _expr("tier", "In", sorted(_sample(rng, ["web", "api", "worker"], 2)))]}}
        if kind == 5:
            return {"namespaceSelector": {
                "matchLabels": {"env": o.env},
                "matchExpressions": [_expr("team", "In", sorted({o.team, ns.team}))]}}
        return {"namespaceSelector": {"matchExpressions": [_expr("env", "NotIn", ["dev"]),
                                                           _expr("team", "Exists")]},
                "podSelector": {"matchExpressions": [_expr("tier", "Exists"),
                                                     _expr("tier", "NotIn", ["db"])]}}

    def app_selector(self, apps: list[str]) -> Obj:
        if len(apps) == 1 or self.rng.random() < 0.5:
            return _labels(app=self.rng.choice(apps))
        return {"matchExpressions": [_expr("app", "In", sorted(apps))]}

    # ---- namespace-wide baseline, in the order teams usually add them
    def baseline(self, ns: Namespace) -> Iterator[tuple[str, Obj, Obj]]:
        rng = self.rng
        if ns.deny_egress:
            yield "default-deny-all", {}, {"policyTypes": ["Ingress", "Egress"]}
            yield "allow-dns", {}, {"egress": [_dns_rule()], "policyTypes": ["Egress"]}
            yield "allow-egress-same-namespace", {}, {
                "egress": [{"to": [{"podSelector": {}}]}], "policyTypes": ["Egress"]}
        else:
            yield "default-deny-ingress", {}, {"policyTypes": ["Ingress"]}
        extras: list[tuple[str, Obj, Obj]] = []
        if ns.has("api"):
            extras.append(("allow-web-to-api", _labels(tier="api"), {
                "ingress": [{"from": [{"podSelector": _labels(tier="web")}],
                             "ports": [_tcp("http")]}], "policyTypes": ["Ingress"]}))
            extras.append(("allow-api-port-range", _labels(tier="api"), {
                "ingress": [{"from": [{"podSelector": _labels(tier="worker")}],
                             "ports": [_tcp(8000, 8100)]}], "policyTypes": ["Ingress"]}))
            extras.append(("allow-cross-namespace-api", _labels(tier="api"), {
                "ingress": [{"from": [self.cross_peer(ns) for _ in range(rng.randint(1, 3))],
                             "ports": [_tcp("http"), _tcp("grpc")]}],
                "policyTypes": ["Ingress"]}))
        if ns.has("db"):
            extras.append(("allow-api-to-db", _labels(tier="db"), {
                "ingress": [{"from": [{"podSelector": _labels(tier="api")}],
                             "ports": [_tcp(5432)]}], "policyTypes": ["Ingress"]}))
            extras.append(("allow-db-backup-egress", _labels(tier="db"), {
                "egress": [{"to": [{"ipBlock": {"cidr": BACKUP_RANGES[0]}},
                                   {"ipBlock": {"cidr": BACKUP_RANGES[1],
                                                "except": ["198.51.100.7/32"]}}],
                            "ports": [_tcp(22), _tcp(873)]}], "policyTypes": ["Egress"]}))
        if ns.has("cache"):
            extras.append(("allow-api-to-cache", _labels(tier="cache"), {
                "ingress": [{"from": [{"podSelector": _labels(tier="api")}],
                             "ports": [_tcp("redis")]}], "policyTypes": ["Ingress"]}))
        if ns.has("web"):
            peer: Obj = {"namespaceSelector": _ns_name("ingress-nginx")}
            if rng.random() < 0.5:
                peer["podSelector"] = _labels(**{"app.kubernetes.io/name": "ingress-nginx"})
            extras.append(("allow-ingress-nginx", _labels(tier="web"), {
                "ingress": [{"from": [peer], "ports": [_tcp("http")]}],
                "policyTypes": ["Ingress"]}))
        extras.append(("allow-prometheus-scrape", {}, {
            "ingress": [{"from": [_prometheus_peer()], "ports": [{"port": "metrics"}]}],
            "policyTypes": ["Ingress"]}))
        if ns.has("api") or ns.has("worker"):
            extras.append(("allow-external-https",
                           {"matchExpressions": [_expr("tier", "In", ["api", "worker"])]},
                           {"egress": [_external_rule([_tcp(443)])],
                            "policyTypes": ["Egress"]}))
        if ns.has("worker"):
            extras.append(("allow-nodeports-egress", _labels(tier="worker"), {
                "egress": [{"to": [{"ipBlock": {"cidr": NODE_NETWORK}}],
                            "ports": [_tcp(30000, 32767)]}], "policyTypes": ["Egress"]}))
        rng.shuffle(extras)
        yield from extras

    # ---- per-workload policies
    def ingress_rules(self, ns: Namespace, w: Workload) -> list[Obj]:
        rng = self.rng
        rules: list[Obj] = []
        if w.tier == "web":
            rules.append({"from": [{"namespaceSelector": _ns_name("ingress-nginx")}],
                          "ports": [_tcp("http")]})
            pick = rng.randrange(3)
            if pick == 0:
                rules.append({"ports": [_tcp(8080, explicit=False)]})
            elif pick == 1:
                rules.append({"from": [{"podSelector": {}}], "ports": [_tcp("http")]})
            else:
                rules.append({"from": [{"ipBlock": {"cidr": rng.choice(OFFICE_RANGES)}}],
                              "ports": [_tcp("http")]})
        elif w.tier == "api":
            webs = ns.apps("web")
            sel = self.app_selector(webs) if webs else _labels(tier="web")
            rules.append({"from": [{"podSelector": sel}], "ports": [_tcp("http")]})
            if ns.has("worker"):
                rules.append({"from": [{"podSelector": self.app_selector(ns.apps("worker"))}],
                              "ports": [_tcp("grpc"), _tcp(9090)]})
            if rng.random() < 0.6:
                rules.append({"from": [self.cross_peer(ns)], "ports": [_tcp("grpc")]})
        elif w.tier == "db":
            apis = ns.apps("api")
            sel = self.app_selector(apis) if apis else _labels(tier="api")
            rules.append({"from": [{"podSelector": sel}], "ports": [_tcp(5432)]})
            if ns.has("worker"):
                rules.append({"from": [{"podSelector": _labels(tier="worker")}],
                              "ports": [_tcp("postgres")]})
        elif w.tier == "cache":
            callers = ns.apps("api") + ns.apps("worker")
            sel = ({"matchExpressions": [_expr("app", "In", sorted(_sample(rng, callers, 3)))]}
                   if callers else _labels(tier="api"))
            rules.append({"from": [{"podSelector": sel}], "ports": [_tcp("redis"), _tcp(6379)]})
            if w.replicas > 1:  # replication between the cache's own replicas
                rules.append({"from": [{"podSelector": _labels(app=w.name)}],
                              "ports": [_tcp(6379), _tcp(26379)]})
        if w.metrics:
            rules.append({"from": [_prometheus_peer()], "ports": [{"port": "metrics"}]})
        return rules  # worker without metrics: empty = deny all ingress

    def egress_rules(self, ns: Namespace, w: Workload) -> list[Obj]:
        rng = self.rng
        rules = [_dns_rule()]
        if w.tier == "web":
            apis = ns.apps("api")
            sel = self.app_selector(apis) if apis else _labels(tier="api")
            rules.append({"to": [{"podSelector": sel}],
                          "ports": [_tcp("http"), _tcp(8080)]})
        elif w.tier == "api":
            rules.append({"to": [{"podSelector": _labels(tier="db")}], "ports": [_tcp(5432)]})
            rules.append({"to": [{"podSelector": _labels(tier="cache")}],
                          "ports": [_tcp(6379)]})
            rules.append(_external_rule([_tcp(443)]))
        elif w.tier == "db":
            cidr = rng.choice(BACKUP_RANGES)
            rules.append({"to": [{"ipBlock": {"cidr": cidr}}], "ports": [_tcp(22), _tcp(5432)]})
        elif w.tier == "cache":
            rules.append({"to": [{"podSelector": _labels(app=w.name)}],
                          "ports": [_tcp(6379), _tcp(26379)]})
        else:
            rules.append({"to": [{"podSelector": _labels(tier="api")}], "ports": [_tcp("grpc")]})
            if ns.has("db"):
                rules.append({"to": [{"podSelector": _labels(tier="db")}],
                              "ports": [_tcp(5432)]})
            rules.append(_external_rule([_tcp(443), _tcp(587)]))
            cidr, exc = rng.choice(PARTNER_RANGES)
            rules.append({"to": [{"ipBlock": {"cidr": cidr, "except": [exc]}}],
                          "ports": [_tcp(8000, 8100)]})
            if rng.random() < 0.3:
                rules.append({"to": [{"ipBlock": {"cidr": NODE_NETWORK}}],
                              "ports": [_tcp(30000, 32767)]})
        return rules

    def extra_rule(self, ns: Namespace, w: Workload) -> tuple[str, Obj]:
        """One more ingress rule for `w`, with a short name for it."""
        rng = self.rng
        ports = [p for c in w.containers for p in c.get("ports", [])]
        if ports:
            p = rng.choice(ports)
            port: Obj = _tcp(p["name"] if rng.random() < 0.5 else p["containerPort"])
        else:
            port = _tcp(rng.choice([8080, 9090, 9100]))
        pick = rng.randrange(4)
        if pick == 0:
            return "cross-namespace", {"from": [self.cross_peer(ns)], "ports": [port]}
        if pick == 1:
            others = [x.name for x in ns.workloads if x is not w] or [w.name]
            caller = rng.choice(others)
            return f"from-{caller}", {"from": [{"podSelector": _labels(app=caller)}],
                                      "ports": [port]}
        if pick == 2:
            cidr, exc = rng.choice(PARTNER_RANGES)
            return "partners", {"from": [{"ipBlock": {"cidr": cidr, "except": [exc]}}],
                                "ports": [port]}
        lo = rng.choice([8000, 8443, 9000, 15000])
        return "port-range", {"from": [{"namespaceSelector": _labels(team=ns.team)}],
                              "ports": [_tcp(lo, lo + rng.choice([10, 50, 100]))]}

    def per_workload(self, ns: Namespace) -> Iterator[tuple[str, Obj, Obj]]:
        rng = self.rng
        if not ns.workloads:
            r = 0
            while True:
                r += 1
                yield f"allow-team-{r}", {}, {
                    "ingress": [{"from": [self.cross_peer(ns)], "ports": [_tcp(8080)]}],
                    "policyTypes": ["Ingress"]}
        for w in ns.workloads:
            spec: Obj = {"ingress": self.ingress_rules(ns, w)}
            if rng.random() < 0.7 or not spec["ingress"]:
                spec["policyTypes"] = ["Ingress"]
            yield f"{w.name}-ingress", _labels(app=w.name), spec
            # Teams that deny egress by default write egress allows per app; others rarely do.
            if ns.deny_egress or rng.random() < 0.15:
                yield f"{w.name}-egress", _labels(app=w.name), {
                    "egress": self.egress_rules(ns, w), "policyTypes": ["Egress"]}
        while True:
            for w in ns.workloads:
                suffix, rule = self.extra_rule(ns, w)
                sel = (_labels(app=w.name) if rng.random() < 0.7 else
                       _labels(app=w.name, tier=w.tier))
                yield f"{w.name}-allow-{suffix}", sel, {"ingress": [rule],
                                                       "policyTypes": ["Ingress"]}

    def policies(self, ns: Namespace, count: int) -> list[Obj]:
        out: list[Obj] = []
        names: set[str] = set()
        source = chain(self.baseline(ns), self.per_workload(ns))
        for base, selector, spec in islice(source, count):
            name, n = base, 1
            while name in names:
                n += 1
                name = f"{base}-{n}"
            names.add(name)
            labels = {"team": ns.team}
            if self.rng.random() < 0.3:
                labels["app.kubernetes.io/managed-by"] = "Helm"
            out.append({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": ns.name, "labels": labels},
                "spec": {"podSelector": selector, **spec},
            })
        return out


# --------------------------------------------------------------------------- entry points


def generate(pods: int, seed: int = 0, policy_ratio: float = 0.2) -> list[dict[str, Any]]:
    """The cluster as plain dicts: Namespaces, then Pods, then NetworkPolicies."""
    if pods < 0:
        raise ValueError("pods must be >= 0")
    if policy_ratio < 0:
        raise ValueError("policy_ratio must be >= 0")
    rng = random.Random(seed)
    n_app = max(3, round(pods / 100))

    namespaces: list[Namespace] = []
    taken: set[str] = set()
    for i in range(n_app):
        team = TEAMS[i % len(TEAMS)] if i < len(TEAMS) else rng.choice(TEAMS)
        env = rng.choices(ENVS, ENV_WEIGHTS)[0]
        name, n = f"{team}-{env}", 1
        while name in taken:
            n += 1
            name = f"{team}-{env}-{n}"
        taken.add(name)
        namespaces.append(Namespace(name, team, env, deny_egress=rng.random() < 0.5))

    nodes = _Nodes(rng, pods)
    pod_objs: list[Obj] = []
    system = _system_pods(rng, nodes, pods, pod_objs)
    sizes = _split(pods - system, [rng.uniform(0.4, 1.6) for _ in namespaces])
    for ns, size in zip(namespaces, sizes, strict=True):
        ns.pods = size
        _fill_namespace(rng, nodes, ns, pod_objs)

    writer = _PolicyWriter(rng, namespaces)
    counts = _split(round(policy_ratio * pods), [ns.pods + 10 for ns in namespaces])
    policy_objs: list[Obj] = []
    for ns, count in zip(namespaces, counts, strict=True):
        policy_objs.extend(writer.policies(ns, count))

    ns_objs = [
        _namespace_obj("default"),
        _namespace_obj("kube-system"),
        _namespace_obj("monitoring", {"team": "platform"}),
        _namespace_obj("ingress-nginx", {"team": "platform", "app.kubernetes.io/name":
                                         "ingress-nginx"}),
        *(_namespace_obj(ns.name, {"team": ns.team, "env": ns.env}) for ns in namespaces),
    ]
    return [*ns_objs, *pod_objs, *policy_objs]


class _Dumper(yaml.CSafeDumper):
    """libyaml emitter; never emit anchors/aliases for shared sub-objects."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump_yaml(path: Path, objs: list[Obj]) -> None:
    with path.open("w", encoding="utf-8") as f:
        yaml.dump_all(objs, f, Dumper=_Dumper, sort_keys=False)


def write(objs: list[Obj], out: Path, fmt: str) -> list[Path]:
    """Write `objs` (as returned by generate) into directory `out`; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    for pattern in ("namespaces.yaml", "pods-*.yaml", "policies-*.yaml", "cluster.json"):
        for stale in out.glob(pattern):
            stale.unlink()
    if fmt == "json":
        path = out / "cluster.json"
        with path.open("w", encoding="utf-8") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f,
                      separators=(",", ":"))
            f.write("\n")
        return [path]
    groups: dict[str, list[Obj]] = {"Namespace": [], "Pod": [], "NetworkPolicy": []}
    for o in objs:
        groups[o["kind"]].append(o)
    jobs: list[tuple[Path, list[Obj]]] = [(out / "namespaces.yaml", groups["Namespace"])]
    for prefix, kind in (("pods", "Pod"), ("policies", "NetworkPolicy")):
        items = groups[kind]
        for i, start in enumerate(range(0, len(items), CHUNK)):
            jobs.append((out / f"{prefix}-{i:03d}.yaml", items[start:start + CHUNK]))
    # PyYAML's representer is pure Python (~5k objects/s); dump the chunks in parallel.
    # Chunks go to the workers pickled; gc.freeze() keeps forked children from touching (and so
    # copying) the parent's heap. At most MAX_WORKERS: beyond that the disk is the limit anyway.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = min(len(jobs), cpus or 1, MAX_WORKERS)
    if workers > 1 and len(jobs) > 2:
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for _ in pool.map(_dump_yaml, *zip(*jobs, strict=True)):
                    pass
        finally:
            gc.unfreeze()
    else:
        for path, items in jobs:
            _dump_yaml(path, items)
    return [path for path, _ in jobs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate a realistic Kubernetes cluster (Namespaces, Pods, "
                    "NetworkPolicies) for benchmarks.")
    parser.add_argument("--pods", type=int, required=True, help="exact number of Pod objects")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--policies-per-pod", type=float, default=0.2, dest="ratio",
                        help="NetworkPolicies per pod (default 0.2)")
    args = parser.parse_args(argv)
    if args.pods < 0 or args.ratio < 0:
        parser.error("--pods and --policies-per-pod must be >= 0")

    t0 = time.perf_counter()
    objs = generate(args.pods, args.seed, args.ratio)
    files = write(objs, args.out, args.format)
    seconds = time.perf_counter() - t0
    kinds = {"Namespace": 0, "Pod": 0, "NetworkPolicy": 0}
    for o in objs:
        kinds[o["kind"]] += 1
    size = sum(p.stat().st_size for p in files)
    print(f"generate: {kinds['Pod']} pods, {kinds['Namespace']} namespaces, "
          f"{kinds['NetworkPolicy']} policies -> {len(files)} files "
          f"({size / 1e6:.1f} MB) in {args.out} in {seconds:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
