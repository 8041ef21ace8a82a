"""The lab's objects written back as Kubernetes manifests (`lab get -o json|yaml`).

Why: what `lab get -o yaml` prints must be something `lab apply -f` (and `kubectl apply -f`)
reads back to the same object, so the lab's state can be saved, edited and applied again. Fields
are written as the API server returns them (defaults filled in: policyTypes, protocol,
targetPort), from the model alone; `creationTimestamp` is when the object came into the lab.
"""

from __future__ import annotations

import time
from typing import Any

from podwall.model import (
    Endpoint,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    Rule,
    Service,
)

Manifest = dict[str, Any]


def _meta(name: str, namespace: str | None, labels: Any, created: float | None) -> Manifest:
    meta: Manifest = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if created is not None:
        meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
    if labels:
        meta["labels"] = dict(labels.items_sorted)
    return meta


def selector(s: LabelSelector) -> Manifest:
    out: Manifest = {}
    if s.match_labels:
        out["matchLabels"] = dict(s.match_labels)
    if s.match_expressions:
        out["matchExpressions"] = [
            {"key": r.key, "operator": r.operator.value, **({"values": list(r.values)}
                                                            if r.values else {})}
            for r in s.match_expressions]
    return out


def _peer(p: Peer) -> Manifest:
    out: Manifest = {}
    if p.ip_block is not None:
        block: Manifest = {"cidr": p.ip_block.text or str(p.ip_block.cidr)}
        if p.ip_block.excepts:
            block["except"] = [str(e) for e in p.ip_block.excepts]
        out["ipBlock"] = block
    if p.namespace_selector is not None:
        out["namespaceSelector"] = selector(p.namespace_selector)
    if p.pod_selector is not None:
        out["podSelector"] = selector(p.pod_selector)
    return out


def _rule(r: Rule, peers_key: str) -> Manifest:
    out: Manifest = {}
    if r.ports:
        out["ports"] = [{"protocol": p.protocol.value,
                         **({"port": p.port} if p.port is not None else {}),
                         **({"endPort": p.end_port} if p.end_port is not None else {})}
                        for p in r.ports]
    if r.peers:
        out[peers_key] = [_peer(p) for p in r.peers]
    return out


def policy_manifest(p: NetworkPolicy, created: float | None = None) -> Manifest:
    spec: Manifest = {"podSelector": selector(p.pod_selector),
                      "policyTypes": sorted(d.value for d in p.policy_types)}
    if p.ingress:
        spec["ingress"] = [_rule(r, "from") for r in p.ingress]
    if p.egress:
        spec["egress"] = [_rule(r, "to") for r in p.egress]
    meta = _meta(p.name, p.namespace, None, created)
    if p.annotations:
        meta["annotations"] = dict(p.annotations)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": spec}


def pod_manifest(ep: Endpoint, created: float | None = None, running: bool = True) -> Manifest:
    ports = [{"containerPort": p.port, "protocol": p.protocol.value,
              **({"name": p.name} if p.name else {})} for p in ep.ports]
    container: Manifest = {"name": ep.name}
    if ports:
        container["ports"] = ports
    status: Manifest = {"phase": "Running" if running else "Pending"}
    if ep.ip is not None:
        status["podIP"] = str(ep.ip)
        status["podIPs"] = [{"ip": str(ep.ip)}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": _meta(ep.name, ep.namespace, ep.labels, created),
            "spec": {"containers": [container]}, "status": status}


def service_manifest(s: Service, created: float | None = None) -> Manifest:
    spec: Manifest = {"type": "ClusterIP",
                      "ports": [{**({"name": p.name} if p.name else {}), "port": p.port,
                                 "protocol": p.protocol.value,
                                 "targetPort": p.target_port or p.port} for p in s.ports]}
    if s.selector is not None:
        spec["selector"] = dict(s.selector.items_sorted)
    spec["clusterIP"] = "None" if s.cluster_ip is None else str(s.cluster_ip)
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(s.name, s.namespace, None, created), "spec": spec}


def namespace_manifest(ns: Namespace, created: float | None = None) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": _meta(ns.name, None, ns.labels, created),
            "status": {"phase": "Active"}}


def as_list(items: list[Manifest]) -> Manifest:
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": items}
