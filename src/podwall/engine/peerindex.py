"""Which peer sets hold a class that did not exist when they were computed.

A relabelled pod may need a class of its own; it then becomes a new column of every peer set.
Testing each peer set against it (thousands of peers, most with the same few selectors) would cost
more than everything else an update does, so the peer sets are indexed once by what could make
them match: a namespace-local peer by its namespace, a namespace-selector peer by its selectors,
an ipBlock peer by its block; selectors are interned, and each distinct selector is evaluated once
per new class. The index is append-only, like the peer sets: a later version extends it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from podwall.engine.classes import BoolArray, ClassKey, EndpointClasses, IntArray
from podwall.engine.selectors import selector_matches
from podwall.model import IPBlock, LabelSelector, Peer

PeerKey = tuple[str, tuple[Peer, ...]]
NO_SELECTOR = -1  # an absent podSelector: every pod of the scope


@dataclass(frozen=True, slots=True)
class PeerIndex:
    covers: int  # peer set ids below this are indexed
    selectors: tuple[LabelSelector, ...]
    selector_ids: Mapping[LabelSelector, int]
    # namespace -> (peer set, pod selector id) of its namespace-local peers
    local: Mapping[str, tuple[IntArray, IntArray]]
    # (peer set, namespace selector id, pod selector id) of namespace-selector peers
    across: tuple[IntArray, IntArray, IntArray]
    blocks: Mapping[IPBlock, IntArray]  # block -> peer sets with an ipBlock peer of it

    @staticmethod
    def empty() -> PeerIndex:
        none = np.zeros(0, dtype=np.int64)
        return PeerIndex(0, (), {}, {}, (none, none, none), {})

    def extended(self, keys: Sequence[PeerKey | None]) -> PeerIndex:
        """The index of peer sets `keys` (ids 0..len-1), of which the first `covers` are in."""
        if len(keys) <= self.covers:
            return self
        selectors = list(self.selectors)
        ids = dict(self.selector_ids)

        def intern(selector: LabelSelector | None) -> int:
            if selector is None:
                return NO_SELECTOR
            sid = ids.get(selector)
            if sid is None:
                sid = ids[selector] = len(selectors)
                selectors.append(selector)
            return sid

        local: dict[str, list[tuple[int, int]]] = {}
        across: list[tuple[int, int, int]] = []
        blocks: dict[IPBlock, list[int]] = {}
        for set_id in range(self.covers, len(keys)):
            key = keys[set_id]
            if key is None:
                continue
            namespace, peers = key
            for peer in peers:
                if peer.ip_block is not None:
                    blocks.setdefault(peer.ip_block, []).append(set_id)
                elif peer.namespace_selector is None:
                    local.setdefault(namespace, []).append((set_id, intern(peer.pod_selector)))
                else:
                    across.append((set_id, intern(peer.namespace_selector),
                                   intern(peer.pod_selector)))
        merged_local = dict(self.local)
        for namespace, pairs in local.items():
            sets, pods = np.asarray(pairs, dtype=np.int64).T
            old_sets, old_pods = merged_local.get(namespace, (sets[:0], pods[:0]))
            merged_local[namespace] = (np.concatenate([old_sets, sets]),
                                       np.concatenate([old_pods, pods]))
        merged_across = self.across
        if across:
            new = np.asarray(across, dtype=np.int64).T
            merged_across = (np.concatenate([self.across[0], new[0]]),
                             np.concatenate([self.across[1], new[1]]),
                             np.concatenate([self.across[2], new[2]]))
        merged_blocks = dict(self.blocks)
        for block, sets_list in blocks.items():
            merged_blocks[block] = np.concatenate([self.blocks.get(block, np.zeros(0, np.int64)),
                                                   np.asarray(sets_list, dtype=np.int64)])
        return PeerIndex(len(keys), tuple(selectors), ids, merged_local, merged_across,
                         merged_blocks)

    def holding(self, classes: EndpointClasses, cid: int) -> IntArray:
        """Ids of the indexed peer sets that contain class `cid` (decided from its key)."""
        key: ClassKey = classes.keys[cid]
        found: list[IntArray] = []
        for block, bid in classes.blocks.items():
            if bid in key.blocks and block in self.blocks:
                found.append(self.blocks[block])
        if key.namespace is not None and key.labels is not None:
            pods = _Memo(self.selectors, key.labels)
            sets, pod_ids = self.local.get(key.namespace, (np.zeros(0, np.int64),) * 2)
            if len(sets):
                found.append(sets[pods(pod_ids)])
            across_sets, ns_ids, pod_ids = self.across
            if len(across_sets):
                namespaces = _Memo(self.selectors, classes.cluster.namespace(key.namespace).labels)
                candidates = np.flatnonzero(namespaces(ns_ids))
                found.append(across_sets[candidates][pods(pod_ids[candidates])])
        if not found:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(found))


class _Memo:
    """Whether interned selectors match one label map; each evaluated at most once."""

    def __init__(self, selectors: Sequence[LabelSelector], labels: Mapping[str, str]) -> None:
        self.selectors = selectors
        self.labels = labels
        self.values = np.full(len(selectors) + 1, -1, dtype=np.int8)
        self.values[NO_SELECTOR] = 1

    def __call__(self, ids: IntArray) -> BoolArray:
        for sid in np.unique(ids[self.values[ids] < 0]).tolist():
            self.values[sid] = int(selector_matches(self.selectors[sid], self.labels))
        result: BoolArray = self.values[ids] == 1
        return result
