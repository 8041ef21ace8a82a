"""Endpoint equivalence classes and their selection sets.

Endpoints with the same namespace, labels, container ports and ipBlock membership are
indistinguishable to every policy, so the matrix is computed once per class. Selections are kept
as sorted arrays of class ids (most are small), built from inverted label indexes (one over
classes, one over namespaces) with boolean masks, rather than by testing every selector against
every class or namespace.

A universe can be *derived* from another (`with_target`, `with_blocks`) for incremental updates:
class ids never change meaning, new classes are appended, and a class left without members stays
(harmless: no endpoint maps to it). Derived universes share nothing mutable with their origin.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from podwall.engine.targets import ExternalHost, Target
from podwall.model import (
    Cluster,
    ContainerPort,
    Endpoint,
    IPAddress,
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


class _LabelIndex:
    """Which items (classes or namespaces) carry a label pair or key; answers selectors as masks.

    Lists are append-only in `with_item`, which copies the lists it touches (copy on write)."""

    __slots__ = ("key", "kv", "size")

    def __init__(self, size: int, kv: dict[tuple[str, str], list[int]],
                 key: dict[str, list[int]]) -> None:
        self.size = size
        self.kv = kv
        self.key = key

    @staticmethod
    def of(items: Sequence[Labels | None]) -> _LabelIndex:
        kv: dict[tuple[str, str], list[int]] = defaultdict(list)
        key: dict[str, list[int]] = defaultdict(list)
        for i, labels in enumerate(items):
            if labels is not None:
                for k, v in labels.items_sorted:
                    kv[(k, v)].append(i)
                    key[k].append(i)
        return _LabelIndex(len(items), dict(kv), dict(key))

    def with_item(self, labels: Labels | None) -> _LabelIndex:
        item = self.size
        kv = dict(self.kv)
        key = dict(self.key)
        if labels is not None:
            for k, v in labels.items_sorted:
                kv[(k, v)] = [*kv.get((k, v), ()), item]
                key[k] = [*key.get(k, ()), item]
        return _LabelIndex(self.size + 1, kv, key)

    def mask(self, ids: Sequence[int]) -> BoolArray:
        out = np.zeros(self.size, dtype=np.bool_)
        if len(ids):
            out[np.asarray(ids, dtype=np.int64)] = True
        return out

    def matching(self, selector: LabelSelector) -> BoolArray:
        """Items whose labels the selector matches (items without labels match nothing)."""
        mask = np.ones(self.size, dtype=np.bool_)
        for pair in selector.match_labels:
            mask &= self.mask(self.kv.get(pair, []))
        for req in selector.match_expressions:
            if req.operator is Operator.EXISTS:
                mask &= self.mask(self.key.get(req.key, []))
            elif req.operator is Operator.DOES_NOT_EXIST:
                mask &= ~self.mask(self.key.get(req.key, []))
            else:
                any_value = np.zeros(self.size, dtype=np.bool_)
                for v in req.values:
                    any_value |= self.mask(self.kv.get((req.key, v), []))
                mask &= any_value if req.operator is Operator.IN else ~any_value
        return mask


class EndpointClasses:
    """Classes of a fixed universe: the cluster's endpoints followed by outside hosts."""

    cluster: Cluster
    targets: tuple[Target, ...]
    blocks: dict[IPBlock, int]
    keys: list[ClassKey]
    index: dict[ClassKey, int]
    class_of: IntArray
    size: int
    namespace_ids: dict[str, int]
    ns_of: IntArray
    is_pod: BoolArray
    all_classes: IntArray
    pod_classes: IntArray

    def __init__(self, cluster: Cluster, externals: Sequence[ExternalHost] = ()) -> None:
        targets: tuple[Target, ...] = (*cluster.endpoints, *externals)
        blocks: dict[IPBlock, int] = {}
        for policy in cluster.policies:
            for rule in (*policy.ingress, *policy.egress):
                for peer in rule.peers:
                    if peer.ip_block is not None and peer.ip_block not in blocks:
                        blocks[peer.ip_block] = len(blocks)
        for block in cluster_policy_blocks(cluster):
            blocks.setdefault(block, len(blocks))
        memberships = _block_memberships(targets, blocks)
        index: dict[ClassKey, int] = {}
        class_of = np.empty(len(targets), dtype=np.int64)
        keys: list[ClassKey] = []
        for i, target in enumerate(targets):
            key = _key_of(target, memberships[i])
            cid = index.get(key)
            if cid is None:
                cid = index[key] = len(keys)
                keys.append(key)
            class_of[i] = cid
        names = sorted({k.namespace for k in keys if k.namespace is not None}
                       | set(cluster.namespaces))
        namespace_ids = {name: i for i, name in enumerate(names)}
        ns_of = np.array([namespace_ids[k.namespace] if k.namespace is not None else -1
                          for k in keys], dtype=np.int64)
        self._fill(cluster, targets, blocks, keys, index, class_of, namespace_ids, ns_of,
                   _LabelIndex.of([k.labels for k in keys]), _named_index(keys),
                   _block_index(keys))

    def _fill(self, cluster: Cluster, targets: tuple[Target, ...], blocks: dict[IPBlock, int],
              keys: list[ClassKey], index: dict[ClassKey, int], class_of: IntArray,
              namespace_ids: dict[str, int], ns_of: IntArray, labels: _LabelIndex,
              named: dict[tuple[str, Protocol, int], list[int]],
              block_classes: dict[int, list[int]], ns_labels: _LabelIndex | None = None) -> None:
        self.cluster = cluster
        self.targets = targets
        self.blocks = blocks
        self.keys = keys
        self.index = index
        self.class_of = class_of
        self.size = len(keys)
        self.namespace_ids = namespace_ids
        self.ns_of = ns_of
        self.is_pod = ns_of >= 0
        self.all_classes = np.arange(self.size, dtype=np.int64)
        self.pod_classes = np.flatnonzero(self.is_pod).astype(np.int64)
        self._labels = labels
        self._named = named
        self._block_classes = block_classes
        if ns_labels is None:
            ns_names = sorted(namespace_ids, key=namespace_ids.__getitem__)
            ns_labels = _LabelIndex.of([cluster.namespace(n).labels for n in ns_names])
        self._ns_labels = ns_labels
        self._selector_cache: dict[LabelSelector, IntArray] = {}
        self._ns_cache: dict[str, IntArray] = {}
        self._nssel_cache: dict[LabelSelector, BoolArray] = {}
        self._peer_cache: dict[tuple[str | None, Peer], IntArray] = {}

    # -- selections (sorted arrays of class ids) ---------------------------------------------
    def pods_matching(self, selector: LabelSelector) -> IntArray:
        hit = self._selector_cache.get(selector)
        if hit is None:
            hit = np.flatnonzero(self._labels.matching(selector) & self.is_pod).astype(np.int64)
            self._selector_cache[selector] = hit
        return hit

    def in_namespace(self, namespace: str) -> IntArray:
        hit = self._ns_cache.get(namespace)
        if hit is None:
            nid = self.namespace_ids.get(namespace, -2)
            hit = self._ns_cache[namespace] = np.flatnonzero(self.ns_of == nid).astype(np.int64)
        return hit

    def _namespaces_mask(self, selector: LabelSelector) -> BoolArray:
        """Over classes: is the class's namespace matched by `selector` (outside hosts: no)."""
        hit = self._nssel_cache.get(selector)
        if hit is None:
            by_ns = np.append(self._ns_labels.matching(selector), False)  # index -1: outside
            hit = self._nssel_cache[selector] = by_ns[self.ns_of]
        return hit

    def in_namespaces_matching(self, selector: LabelSelector) -> IntArray:
        return np.flatnonzero(self._namespaces_mask(selector)).astype(np.int64)

    def peer(self, policy_namespace: str, peer: Peer) -> IntArray:
        """Classes a peer matches. Keyed without the namespace when the peer does not depend on it."""
        ns_key = policy_namespace if peer.ip_block is None and peer.namespace_selector is None else None
        cache_key = (ns_key, peer)
        hit = self._peer_cache.get(cache_key)
        if hit is not None:
            return hit
        if peer.ip_block is not None:
            hit = np.array(self._block_classes.get(self.blocks[peer.ip_block], ()), dtype=np.int64)
        elif peer.namespace_selector is None:
            hit = self.in_namespace(policy_namespace)
            if peer.pod_selector is not None:
                hit = _intersect_sorted(hit, self.pods_matching(peer.pod_selector))
        else:
            mask = self._namespaces_mask(peer.namespace_selector)
            if peer.pod_selector is None:
                hit = np.flatnonzero(mask).astype(np.int64)
            else:
                pods = self.pods_matching(peer.pod_selector)
                hit = pods[mask[pods]]
        self._peer_cache[cache_key] = hit
        return hit

    def policy_targets(self, namespace: str, selector: LabelSelector) -> IntArray:
        return _intersect_sorted(self.in_namespace(namespace), self.pods_matching(selector))

    def with_named_port(self, name: str, protocol: Protocol, port: int) -> IntArray:
        return np.array(self._named.get((name, protocol, port), ()), dtype=np.int64)

    # -- derived universes ---------------------------------------------------------------------
    def with_target(self, position: int, target: Endpoint,
                    cluster: Cluster) -> tuple[EndpointClasses, bool]:
        """The universe with target `position` replaced (same name; labels, ports or IP changed).

        The target joins the class of its new key; when no class has that key, one is appended
        (id `self.size`) and the second value is True. Returns a new universe.
        """
        targets = (*self.targets[:position], target, *self.targets[position + 1:])
        memberships = tuple(bid for block, bid in self.blocks.items()
                            if target.ip is not None and block.contains(target.ip))
        key = _key_of(target, memberships)
        class_of = self.class_of.copy()
        cid = self.index.get(key)
        derived = object.__new__(EndpointClasses)
        if cid is not None:
            class_of[position] = cid
            derived._fill(cluster, targets, self.blocks, self.keys, self.index, class_of,
                          self.namespace_ids, self.ns_of, self._labels, self._named,
                          self._block_classes, self._ns_labels)
            return derived, False
        cid = self.size
        class_of[position] = cid
        ns_of = np.append(self.ns_of, self.namespace_ids[target.namespace])
        named = dict(self._named)
        for cp in key.ports:
            if cp.name:
                named[(cp.name, cp.protocol, cp.port)] = [
                    *named.get((cp.name, cp.protocol, cp.port), ()), cid]
        block_classes = dict(self._block_classes)
        for bid in key.blocks:
            block_classes[bid] = [*block_classes.get(bid, ()), cid]
        derived._fill(cluster, targets, self.blocks, [*self.keys, key], {**self.index, key: cid},
                      class_of, self.namespace_ids, ns_of, self._labels.with_item(key.labels), named,
                      block_classes, self._ns_labels)
        return derived, True

    def with_blocks(self, blocks: Sequence[IPBlock],
                    cluster: Cluster) -> tuple[EndpointClasses, IntArray]:
        """The universe that also tells `blocks` (not yet known) apart.

        A class whose members all fall inside the same new blocks keeps its id (its key gains
        them); members that differ from the rest of their class move to appended classes. Returns
        the new universe and, for every appended class, the class it was split from.
        """
        fresh = [b for b in dict.fromkeys(blocks) if b not in self.blocks]
        if not fresh:
            return self, np.zeros(0, dtype=np.int64)
        all_blocks = dict(self.blocks)
        for block in fresh:
            all_blocks[block] = len(all_blocks)
        added = _block_memberships(self.targets, {b: all_blocks[b] for b in fresh})
        keys = list(self.keys)
        index = dict(self.index)
        class_of = self.class_of.copy()
        counts = np.bincount(self.class_of, minlength=self.size)
        groups: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
        for position, extra in enumerate(added):
            if extra:
                groups[(int(self.class_of[position]), extra)].append(position)
        origins: list[int] = []
        for (cid, extra), positions in groups.items():
            old = self.keys[cid]
            key = replace(old, blocks=tuple(sorted((*old.blocks, *extra))))
            if len(positions) == counts[cid] and keys[cid] == old:
                del index[old]
                keys[cid] = key
                index[key] = cid
                continue
            new_id = index.get(key)
            if new_id is None:
                new_id = index[key] = len(keys)
                keys.append(key)
                origins.append(cid)
            class_of[np.asarray(positions, dtype=np.int64)] = new_id
        labels = self._labels
        for key in keys[self.size:]:
            labels = labels.with_item(key.labels)
        ns_of = np.concatenate([self.ns_of, self.ns_of[np.asarray(origins, dtype=np.int64)]])
        derived = object.__new__(EndpointClasses)
        derived._fill(cluster, self.targets, all_blocks, keys, index, class_of, self.namespace_ids,
                      ns_of, labels, _named_index(keys), _block_index(keys), self._ns_labels)
        return derived, np.asarray(origins, dtype=np.int64)


def _intersect_sorted(small: IntArray, sorted_ids: IntArray) -> IntArray:
    """`small` ∩ `sorted_ids` (both sorted, unique) in O(|small| log |sorted_ids|): no sort."""
    if not len(small) or not len(sorted_ids):
        return small[:0]
    pos = np.minimum(np.searchsorted(sorted_ids, small), len(sorted_ids) - 1)
    result: IntArray = small[sorted_ids[pos] == small]
    return result


def cluster_policy_blocks(cluster: Cluster) -> list[IPBlock]:
    """The `networks` of cluster policies, as blocks: classes split by them too."""
    return [IPBlock(network, (), str(network))
            for policy in cluster.cluster_policies
            for rule in (*policy.ingress, *policy.egress)
            for peer in rule.peers for network in peer.networks]


def _key_of(target: Target, blocks: tuple[int, ...]) -> ClassKey:
    if isinstance(target, Endpoint):
        return ClassKey(target.namespace, target.labels, target.ports, blocks)
    return ClassKey(None, None, (), blocks, external=target.key)


def _named_index(keys: Sequence[ClassKey]) -> dict[tuple[str, Protocol, int], list[int]]:
    named: dict[tuple[str, Protocol, int], list[int]] = defaultdict(list)
    for cid, key in enumerate(keys):
        for cp in key.ports:
            if cp.name:
                named[(cp.name, cp.protocol, cp.port)].append(cid)
    return dict(named)


def _block_index(keys: Sequence[ClassKey]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for cid, key in enumerate(keys):
        for b in key.blocks:
            out[b].append(cid)
    return dict(out)


def _block_memberships(targets: Sequence[Target],
                       blocks: Mapping[IPBlock, int]) -> list[tuple[int, ...]]:
    """For every target, the ids of `blocks` that contain its address (vectorised for IPv4)."""
    if not blocks:
        return [() for _ in targets]
    members: list[list[int]] = [[] for _ in targets]
    v4_list: list[int] = []
    v4_addresses: list[int] = []
    v6: list[int] = []
    for i, t in enumerate(targets):
        if t.ip is not None:
            if t.ip.version == 4:
                v4_list.append(i)
                v4_addresses.append(int(t.ip))
            else:
                v6.append(i)
    v4_idx = np.array(v4_list, dtype=np.int64)
    v4 = np.array(v4_addresses, dtype=np.int64)
    for block, bid in blocks.items():
        if block.cidr.version == 4:
            if not len(v4):
                continue
            inside = _in_network(v4, block.cidr)
            for ex in block.excepts:
                inside &= ~_in_network(v4, ex)
            for i in v4_idx[inside].tolist():
                members[i].append(bid)
        else:
            for i in v6:
                if block.contains(_ip(targets[i])):
                    members[i].append(bid)
    return [tuple(sorted(m)) for m in members]


def _ip(target: Target) -> IPAddress:
    if target.ip is None:
        raise ValueError(f"{target.key} has no address")
    return target.ip


def _in_network(addresses: IntArray, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> BoolArray:
    low = int(network.network_address)
    high = int(network.broadcast_address)
    result: BoolArray = (addresses >= low) & (addresses <= high)
    return result
