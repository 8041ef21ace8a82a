"""Endpoint equivalence classes and their selection sets.

Endpoints with the same namespace, labels, container ports and ipBlock membership are
indistinguishable to every policy, so the matrix is computed once per class. Selections are kept
as sorted arrays of class ids (most are small), built from an inverted label index rather than by
testing every selector against every class.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from podwall.engine.selectors import selector_matches
from podwall.engine.targets import ExternalHost, Target
from podwall.model import (
    Cluster,
    ContainerPort,
    Endpoint,
    IPBlock,
    Labels,
    LabelSelector,
    Operator,
    Peer,
    Protocol,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ClassKey:
    namespace: str | None  # None for hosts outside the cluster
    labels: Labels | None
    ports: tuple[ContainerPort, ...]
    blocks: tuple[int, ...]  # ids of the ipBlocks that contain the member's address
    external: str | None = None  # each outside host is a class of its own


class EndpointClasses:
    """Classes of a fixed universe: the cluster's endpoints followed by outside hosts."""

    def __init__(self, cluster: Cluster, externals: Sequence[ExternalHost] = ()) -> None:
        self.cluster = cluster
        self.targets: tuple[Target, ...] = (*cluster.endpoints, *externals)
        self.blocks: dict[IPBlock, int] = {}
        for policy in cluster.policies:
            for rule in (*policy.ingress, *policy.egress):
                for peer in rule.peers:
                    if peer.ip_block is not None and peer.ip_block not in self.blocks:
                        self.blocks[peer.ip_block] = len(self.blocks)
        memberships = self._block_memberships()
        index: dict[ClassKey, int] = {}
        class_of = np.empty(len(self.targets), dtype=np.int64)
        keys: list[ClassKey] = []
        for i, target in enumerate(self.targets):
            if isinstance(target, Endpoint):
                key = ClassKey(target.namespace, target.labels, target.ports, memberships[i])
            else:
                key = ClassKey(None, None, (), memberships[i], external=target.key)
            cid = index.get(key)
            if cid is None:
                cid = index[key] = len(keys)
                keys.append(key)
            class_of[i] = cid
        self.keys = keys
        self.class_of = class_of
        self.size = len(keys)
        names = sorted({k.namespace for k in keys if k.namespace is not None}
                       | set(cluster.namespaces))
        self.namespace_ids = {name: i for i, name in enumerate(names)}
        self.ns_of = np.array(
            [self.namespace_ids[k.namespace] if k.namespace is not None else -1 for k in keys],
            dtype=np.int64)
        self.is_pod = self.ns_of >= 0
        self.all_classes = np.arange(self.size, dtype=np.int64)
        self.pod_classes = np.flatnonzero(self.is_pod).astype(np.int64)
        self._kv: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._key: dict[str, list[int]] = defaultdict(list)
        self._named: dict[tuple[str, Protocol, int], list[int]] = defaultdict(list)
        for cid, key in enumerate(keys):
            if key.labels is not None:
                for k, v in key.labels.items_sorted:
                    self._kv[(k, v)].append(cid)
                    self._key[k].append(cid)
            for cp in key.ports:
                if cp.name:
                    self._named[(cp.name, cp.protocol, cp.port)].append(cid)
        self._block_classes: dict[int, list[int]] = defaultdict(list)
        for cid, key in enumerate(keys):
            for b in key.blocks:
                self._block_classes[b].append(cid)
        self._selector_cache: dict[LabelSelector, IntArray] = {}
        self._ns_cache: dict[str, IntArray] = {}
        self._nssel_cache: dict[LabelSelector, IntArray] = {}
        self._peer_cache: dict[tuple[str | None, Peer], IntArray] = {}

    # -- ipBlock membership ----------------------------------------------------------------
    def _block_memberships(self) -> list[tuple[int, ...]]:
        members: list[list[int]] = [[] for _ in self.targets]
        if not self.blocks:
            return [() for _ in self.targets]
        v4_idx = [i for i, t in enumerate(self.targets) if t.ip is not None and t.ip.version == 4]
        v4 = np.array([int(self.targets[i].ip) for i in v4_idx], dtype=np.int64)  # type: ignore[arg-type]
        v4_idx_arr = np.array(v4_idx, dtype=np.int64)
        others = [i for i, t in enumerate(self.targets) if t.ip is not None and t.ip.version == 6]
        for block, bid in self.blocks.items():
            if block.cidr.version == 4 and len(v4):
                inside = _in_network(v4, block.cidr)
                for ex in block.excepts:
                    inside &= ~_in_network(v4, ex)
                for i in v4_idx_arr[inside]:
                    members[int(i)].append(bid)
            elif block.cidr.version == 6:
                for i in others:
                    ip = self.targets[i].ip
                    if ip is not None and block.contains(ip):
                        members[i].append(bid)
        return [tuple(m) for m in members]

    # -- selections (sorted arrays of class ids) ---------------------------------------------
    def pods_matching(self, selector: LabelSelector) -> IntArray:
        hit = self._selector_cache.get(selector)
        if hit is not None:
            return hit
        mask = self.is_pod.copy()
        for pair in selector.match_labels:
            mask &= self._mask(self._kv.get(pair, ()))
        for req in selector.match_expressions:
            if req.operator is Operator.EXISTS:
                mask &= self._mask(self._key.get(req.key, ()))
            elif req.operator is Operator.DOES_NOT_EXIST:
                mask &= ~self._mask(self._key.get(req.key, ()))
            else:
                any_value = self._mask([c for v in req.values for c in self._kv.get((req.key, v), ())])
                mask &= any_value if req.operator is Operator.IN else ~any_value
        hit = np.flatnonzero(mask).astype(np.int64)
        self._selector_cache[selector] = hit
        return hit

    def in_namespace(self, namespace: str) -> IntArray:
        hit = self._ns_cache.get(namespace)
        if hit is None:
            nid = self.namespace_ids.get(namespace, -2)
            hit = self._ns_cache[namespace] = np.flatnonzero(self.ns_of == nid).astype(np.int64)
        return hit

    def in_namespaces_matching(self, selector: LabelSelector) -> IntArray:
        hit = self._nssel_cache.get(selector)
        if hit is None:
            ids = [self.namespace_ids[ns.name] for ns in self.cluster.namespaces.values()
                   if ns.name in self.namespace_ids and selector_matches(selector, ns.labels)]
            hit = np.flatnonzero(np.isin(self.ns_of, ids)).astype(np.int64)
            self._nssel_cache[selector] = hit
        return hit

    def peer(self, policy_namespace: str, peer: Peer) -> IntArray:
        """Classes a peer matches. Keyed without the namespace when the peer does not depend on it."""
        ns_key = policy_namespace if peer.ip_block is None and peer.namespace_selector is None else None
        cache_key = (ns_key, peer)
        hit = self._peer_cache.get(cache_key)
        if hit is not None:
            return hit
        if peer.ip_block is not None:
            hit = np.array(self._block_classes.get(self.blocks[peer.ip_block], ()), dtype=np.int64)
        else:
            scope = (self.in_namespace(policy_namespace) if peer.namespace_selector is None
                     else self.in_namespaces_matching(peer.namespace_selector))
            if peer.pod_selector is not None:
                scope = np.intersect1d(scope, self.pods_matching(peer.pod_selector),
                                       assume_unique=True)
            hit = scope
        self._peer_cache[cache_key] = hit
        return hit

    def policy_targets(self, namespace: str, selector: LabelSelector) -> IntArray:
        return np.intersect1d(self.in_namespace(namespace), self.pods_matching(selector),
                              assume_unique=True)

    def with_named_port(self, name: str, protocol: Protocol, port: int) -> IntArray:
        return np.array(self._named.get((name, protocol, port), ()), dtype=np.int64)

    def _mask(self, ids: Sequence[int] | list[int]) -> BoolArray:
        mask = np.zeros(self.size, dtype=np.bool_)
        if len(ids):
            mask[np.asarray(ids, dtype=np.int64)] = True
        return mask


def _in_network(addresses: IntArray, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> BoolArray:
    low = int(network.network_address)
    high = int(network.broadcast_address)
    result: BoolArray = (addresses >= low) & (addresses <= high)
    return result
