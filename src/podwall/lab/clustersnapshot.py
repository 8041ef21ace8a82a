"""ClusterNetworkPolicies in the lab's snapshot, as plain JSON data, and back (see
podwall.lab.snapshot for why JSON). Written only when a cluster has any, so snapshots without
them read as before."""

from __future__ import annotations

import ipaddress
from typing import Any

from podwall.lab.snapshot import Data, _load_selector, _selector, _str
from podwall.model import Protocol
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterPort,
    ClusterRule,
    PeerKind,
    Subject,
    Tier,
)


def dump_policies(policies: tuple[ClusterNetworkPolicy, ...]) -> list[Data]:
    return [{"name": p.name, "kind": p.kind, "apiVersion": p.api_version, "tier": p.tier.value,
             "priority": p.priority,
             "subject": [_selector(p.subject.namespace_selector),
                         None if p.subject.pod_selector is None
                         else _selector(p.subject.pod_selector)],
             "ingress": [_rule(r) for r in p.ingress], "egress": [_rule(r) for r in p.egress]}
            for p in policies]


def _rule(r: ClusterRule) -> Data:
    return {"name": r.name, "action": r.action.value,
            "peers": [_peer(p) for p in r.peers],
            "ports": [[None if p.protocol is None else p.protocol.value, p.start, p.end, p.name]
                      for p in r.ports]}


def _peer(p: ClusterPeer) -> Data:
    def sel(s: Any) -> Data | None:
        return None if s is None else _selector(s)
    return {"kind": p.kind.value, "namespaces": sel(p.namespace_selector),
            "pods": sel(p.pod_selector), "nodes": sel(p.node_selector),
            "networks": [str(n) for n in p.networks], "domainNames": list(p.domain_names)}


def load_policies(items: Any) -> tuple[ClusterNetworkPolicy, ...]:
    """The policies `dump_policies` wrote (TypeError/KeyError/ValueError for anything else:
    `snapshot.load` turns them into a DataplaneError)."""
    return tuple(ClusterNetworkPolicy(
        _str(d["name"]), Tier(d["tier"]), _int(d["priority"]),
        Subject(_load_selector(d["subject"][0]),
                None if d["subject"][1] is None else _load_selector(d["subject"][1])),
        tuple(_load_rule(r) for r in d["ingress"]), tuple(_load_rule(r) for r in d["egress"]),
        kind=_str(d["kind"]), api_version=_str(d["apiVersion"])) for d in items)


def _load_rule(d: Any) -> ClusterRule:
    return ClusterRule(Action(d["action"]), tuple(_load_peer(p) for p in d["peers"]),
                       tuple(_load_port(*p) for p in d["ports"]), _str(d["name"]))


def _load_peer(d: Any) -> ClusterPeer:
    def sel(s: Any) -> Any:
        return None if s is None else _load_selector(s)
    return ClusterPeer(PeerKind(d["kind"]), sel(d["namespaces"]), sel(d["pods"]),
                       tuple(ipaddress.ip_network(_str(n)) for n in d["networks"]),
                       sel(d["nodes"]), tuple(_str(n) for n in d["domainNames"]))


def _load_port(protocol: Any, start: Any, end: Any, name: Any) -> ClusterPort:
    return ClusterPort(None if protocol is None else Protocol(protocol), _int(start), _int(end),
                       None if name is None else _str(name))


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value
