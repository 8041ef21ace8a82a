"""The lab's snapshot of a cluster as plain JSON data, and back.

Why not pickle: the lab runs as root, and its state directory can be moved
(`PODWALL_LAB_STATE`); unpickling a file someone else could write runs their code as root.
JSON is data: reading a tampered file can only fail (DataplaneError), never execute anything.
The encoding is explicit per model type (no reflection), so what is stored is exactly what the
engine and compiler read; `Source` is dropped (it points at the files `up` read, which the
snapshot replaces).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from podwall.errors import DataplaneError
from podwall.model import (
    Cluster,
    ContainerPort,
    Direction,
    Endpoint,
    Enforcement,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Operator,
    Peer,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Service,
    ServicePort,
)

VERSION = 1
Data = dict[str, Any]


def dump(cluster: Cluster) -> Data:
    return {
        "version": VERSION,
        "podCIDR": str(cluster.pod_cidr),
        "namespaces": [{"name": ns.name, "labels": dict(ns.labels.items_sorted),
                        "implied": ns.implied} for ns in cluster.namespaces.values()],
        "endpoints": [{"namespace": ep.namespace, "name": ep.name, "kind": ep.kind,
                       "labels": dict(ep.labels.items_sorted),
                       "ip": None if ep.ip is None else str(ep.ip),
                       "ipAssigned": ep.ip_assigned,
                       "ports": [[p.port, p.protocol.value, p.name] for p in ep.ports]}
                      for ep in cluster.endpoints],
        "policies": [_policy(p) for p in cluster.all_policies],
        "services": [_service(s) for s in cluster.services],
        **({"clusterPolicies": _cluster_policies().dump_policies(cluster.cluster_policies)}
           if cluster.cluster_policies else {}),
    }


def _cluster_policies() -> Any:
    """podwall.lab.clustersnapshot (it builds on this module's encoders: imported late)."""
    from podwall.lab import clustersnapshot
    return clustersnapshot


def load(data: Any) -> Cluster:
    """The cluster `dump` wrote; DataplaneError for anything else (never a traceback)."""
    try:
        if data.get("version") != VERSION:
            raise ValueError(f"snapshot version {data.get('version')!r}")
        namespaces = {n["name"]: Namespace(_str(n["name"]), _labels(n["labels"]),
                                           bool(n["implied"])) for n in data["namespaces"]}
        endpoints = tuple(
            Endpoint(_str(e["namespace"]), _str(e["name"]), _labels(e["labels"]),
                     tuple(ContainerPort(_int(port), Protocol(proto), _opt_str(name))
                           for port, proto, name in e["ports"]),
                     None if e["ip"] is None else ipaddress.ip_address(_str(e["ip"])),
                     _str(e["kind"]), bool(e["ipAssigned"]))
            for e in data["endpoints"])
        policies = tuple(_load_policy(p) for p in data["policies"])
        services = tuple(_load_service(s) for s in data.get("services", []))
        cluster_policies = _cluster_policies().load_policies(data.get("clusterPolicies", []))
        return Cluster(namespaces, endpoints, tuple(p for p in policies if not p.audited),
                       ipaddress.ip_network(_str(data["podCIDR"])), services,
                       audited=tuple(p for p in policies if p.audited),
                       cluster_policies=cluster_policies)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DataplaneError(f"the lab's snapshot cannot be read ({exc})") from None


def _selector(s: LabelSelector) -> Data:
    return {"matchLabels": [list(pair) for pair in s.match_labels],
            "matchExpressions": [[r.key, r.operator.value, list(r.values)]
                                 for r in s.match_expressions]}


def _peer(p: Peer) -> Data:
    return {"podSelector": None if p.pod_selector is None else _selector(p.pod_selector),
            "namespaceSelector": (None if p.namespace_selector is None
                                  else _selector(p.namespace_selector)),
            "ipBlock": None if p.ip_block is None else {
                "cidr": str(p.ip_block.cidr), "except": [str(e) for e in p.ip_block.excepts],
                "text": p.ip_block.text}}


def _rule(r: Rule) -> Data:
    return {"peers": [_peer(p) for p in r.peers],
            "ports": [[p.protocol.value, p.port, p.end_port] for p in r.ports],
            "peersGiven": r.peers_given, "portsGiven": r.ports_given}


def _policy(p: NetworkPolicy) -> Data:
    return {"namespace": p.namespace, "name": p.name, "podSelector": _selector(p.pod_selector),
            "policyTypes": sorted(d.value for d in p.policy_types),
            "ingress": [_rule(r) for r in p.ingress], "egress": [_rule(r) for r in p.egress],
            "policyTypesGiven": p.policy_types_given, "egressGiven": p.egress_given,
            "annotations": [list(a) for a in p.annotations],
            "enforcement": p.enforcement.value}


def _service(s: Service) -> Data:
    return {"namespace": s.namespace, "name": s.name,
            "selector": None if s.selector is None else dict(s.selector.items_sorted),
            "ports": [[p.port, p.protocol.value, p.target_port, p.name] for p in s.ports],
            "clusterIP": None if s.cluster_ip is None else str(s.cluster_ip),
            "clusterIPAssigned": s.cluster_ip_assigned, "implied": s.implied}


def _load_service(d: Any) -> Service:
    ports = []
    for port, protocol, target, name in d["ports"]:
        if not isinstance(target, (int, str)) or isinstance(target, bool):
            raise TypeError(f"targetPort {target!r}")
        ports.append(ServicePort(_int(port), Protocol(protocol), target, _opt_str(name)))
    return Service(_str(d["namespace"]), _str(d["name"]),
                   None if d["selector"] is None else _labels(d["selector"]), tuple(ports),
                   None if d["clusterIP"] is None else ipaddress.ip_address(_str(d["clusterIP"])),
                   bool(d["clusterIPAssigned"]), bool(d["implied"]))


def _load_selector(d: Any) -> LabelSelector:
    return LabelSelector(
        tuple((_str(k), _str(v)) for k, v in d["matchLabels"]),
        tuple(Requirement(_str(k), Operator(op), tuple(_str(v) for v in values))
              for k, op, values in d["matchExpressions"]))


def _load_peer(d: Any) -> Peer:
    block = d["ipBlock"]
    return Peer(
        None if d["podSelector"] is None else _load_selector(d["podSelector"]),
        None if d["namespaceSelector"] is None else _load_selector(d["namespaceSelector"]),
        None if block is None else IPBlock(
            ipaddress.ip_network(_str(block["cidr"])),
            tuple(ipaddress.ip_network(_str(e)) for e in block["except"]), _str(block["text"])))


def _load_port(protocol: Any, port: Any, end: Any) -> PolicyPort:
    if port is not None and not isinstance(port, (int, str)):
        raise TypeError(f"port {port!r}")
    return PolicyPort(Protocol(protocol), port, None if end is None else _int(end))


def _load_rule(d: Any) -> Rule:
    return Rule(tuple(_load_peer(p) for p in d["peers"]),
                tuple(_load_port(*port) for port in d["ports"]),
                bool(d["peersGiven"]), bool(d["portsGiven"]))


def _load_policy(d: Any) -> NetworkPolicy:
    return NetworkPolicy(
        _str(d["namespace"]), _str(d["name"]), _load_selector(d["podSelector"]),
        frozenset(Direction(t) for t in d["policyTypes"]),
        tuple(_load_rule(r) for r in d["ingress"]), tuple(_load_rule(r) for r in d["egress"]),
        bool(d["policyTypesGiven"]), bool(d["egressGiven"]),
        annotations=tuple((_str(k), _str(v)) for k, v in d["annotations"]),
        # absent in snapshots written before audit mode: those enforced everything
        enforcement=Enforcement(d.get("enforcement", "enforce")))


def _labels(d: Any) -> Labels:
    if not isinstance(d, dict):
        raise TypeError("labels must be an object")
    return Labels({_str(k): _str(v) for k, v in d.items()})


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value
