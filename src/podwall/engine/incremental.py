"""Incremental updates of a compiled cluster: one policy replaced, one endpoint relabelled.

Both return a new `Compiled` that equals, verdict for verdict, the compilation of the changed
cluster from scratch, and shares every array the change did not touch. What is recomputed:

- a policy added, changed or removed (`replace_policy`): the policy's own peer sets (new ones
  only; equal peer lists are shared) and its targets; then the classes it selected before or
  selects now get their new profile, hence their unit, and only units not seen before get
  incidences. A changed policy is retired and compiled under a fresh id, so a unit's meaning
  never changes and no existing row is ever rewritten. An ipBlock that the universe did not tell
  apart yet splits classes (`EndpointClasses.with_blocks`): the split-off classes keep their
  origin's unit and become new columns.
- an endpoint replaced (`replace_endpoint`): when its new class key is one the universe has, it
  only moves there (no class-level table changes at all); otherwise one class is appended: one
  new column in every peer row (its membership decided from its key), and its own unit.

`Compiled.updated_rows` then turns the rows of a port built for the earlier version into those of
the new one: new columns for the old units, rows for the new units.

Units, peer sets and classes that nothing uses any more are kept (ids are append-only); they cost
memory, never correctness. `MatrixComputer(cluster)` on the current cluster compacts them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from podwall.engine.classes import EndpointClasses, IntArray
from podwall.engine.compiled import (
    EVERY_PEER,
    Builder,
    Compiled,
    U64Array,
    classes_selected_by,
    words_for,
)
from podwall.errors import QueryError
from podwall.model import Cluster, Direction, Endpoint, Namespace, NetworkPolicy


def replace_policy(base: Compiled, old_key: str | None, new: NetworkPolicy | None) -> Compiled:
    """`base` with policy `old_key` (ns/name) replaced by `new`; None on either side adds or
    removes."""
    if old_key is None and new is None:
        return base
    if old_key is not None and old_key not in base.policy_ids:
        raise QueryError(f"no policy {old_key!r} to replace")
    if new is not None and new.key != old_key and new.key in base.policy_ids:
        raise QueryError(f"policy {new.key!r} exists already")
    cluster = _cluster_with_policy(base.cluster, old_key, new)
    classes = base.classes
    first_new = classes.size
    origins: IntArray = np.zeros(0, dtype=np.int64)
    if new is not None:
        blocks = [peer.ip_block for rule in (*new.ingress, *new.egress) for peer in rule.peers
                  if peer.ip_block is not None and peer.ip_block not in classes.blocks]
        if blocks:
            classes, origins = classes.with_blocks(blocks, cluster)
    builder = Builder(cluster, classes, base)
    if classes.size > first_new:
        builder.peer_base = _peer_rows_with_classes(base, classes, first_new, origins)
        for side in builder.sides.values():
            side.unit_of = np.concatenate([side.unit_of, side.unit_of[origins]])
    old_pid = builder.retire_policy(old_key) if old_key is not None else -1
    new_pid = builder.add_policy(new) if new is not None else -1
    for direction in Direction:
        side = builder.sides[direction]
        before = (classes_selected_by(side.unit_of, side.unit_keys, old_pid)
                  if old_pid >= 0 else np.zeros(0, dtype=np.int64))
        after = (classes.policy_targets(new.namespace, new.pod_selector)
                 if new is not None and direction in new.policy_types
                 else np.zeros(0, dtype=np.int64))
        chosen = set(after.tolist())
        for c in sorted({*before.tolist(), *chosen}):
            uid = int(side.unit_of[c])
            pids = set(side.unit_keys[uid][0]) if uid >= 0 else set()
            pids.discard(old_pid)
            if c in chosen:
                pids.add(new_pid)
            side.unit_of[c] = (builder.unit(direction, tuple(sorted(pids)), classes.keys[c])
                               if pids else -1)
    return builder.freeze(base, same_universe=classes is base.classes)


def replace_endpoint(base: Compiled, endpoint: Endpoint) -> Compiled:
    """`base` with the endpoint of the same ns/name replaced by `endpoint`."""
    position = _positions(base).get(endpoint.key)
    if position is None:
        raise QueryError(f"no endpoint {endpoint.key!r} to replace")
    old = base.classes.targets[position]
    if not isinstance(old, Endpoint):
        raise QueryError(f"{endpoint.key!r} is not an endpoint")
    if endpoint.ip is None:
        endpoint = replace(endpoint, ip=old.ip, ip_assigned=old.ip_assigned)
    cluster = base.cluster
    endpoints = cluster.endpoints  # targets are the endpoints (same order), then outside hosts
    endpoints = (*endpoints[:position], endpoint, *endpoints[position + 1:])
    cluster = replace(cluster, endpoints=endpoints)
    classes, appended = base.classes.with_target(position, endpoint, cluster)
    if not appended:  # same classes, same keys: every class-level table and cache still holds
        return replace(base, cluster=cluster, classes=classes)
    builder = Builder(cluster, classes, base)
    builder.peer_base = _peer_rows_with_classes(base, classes, base.classes.size)
    cid = classes.size - 1
    for direction, side in builder.sides.items():
        pids = builder.selecting(direction, cid)
        uid = builder.unit(direction, pids, classes.keys[cid]) if pids else -1
        side.unit_of = np.append(side.unit_of, uid)
    return builder.freeze(base)


# -- helpers ---------------------------------------------------------------------------------


def _peer_rows_with_classes(base: Compiled, classes: EndpointClasses, first_new: int,
                            origins: IntArray | None = None) -> U64Array:
    """`base.peer_rows` with the columns of the classes appended since `first_new`.

    A class split off by a new ipBlock matches every existing peer set as its origin does (they
    do not know the new block), so its column is a copy; any other new class is tested against
    the peer sets that could hold it (`PeerIndex`), from its key. Row 0 (every peer) holds all."""
    rows = base.peer_rows
    out = np.zeros((len(rows), words_for(classes.size)), dtype=np.uint64)
    out[:, :rows.shape[1]] = rows
    as_bytes = out.view(np.uint8)
    for offset, cid in enumerate(range(first_new, classes.size)):
        if origins is not None:
            origin = int(origins[offset])
            hit = ((as_bytes[:, origin >> 3] >> np.uint8(7 - (origin & 7))) & 1).astype(np.bool_)
            hits = np.flatnonzero(hit)
        else:
            hits = np.concatenate([[EVERY_PEER], base.membership_index().holding(classes, cid)])
        as_bytes[hits, cid >> 3] |= np.uint8(1 << (7 - (cid & 7)))
    return out


def _cluster_with_policy(cluster: Cluster, old_key: str | None,
                         new: NetworkPolicy | None) -> Cluster:
    policies = [p for p in cluster.policies if p.key != old_key]
    namespaces = cluster.namespaces
    if new is not None:
        policies.append(new)
        policies.sort(key=lambda p: (p.namespace, p.name))
        if new.namespace not in namespaces:
            namespaces = dict(sorted({**namespaces,
                                      new.namespace: Namespace.make(new.namespace, implied=True)
                                      }.items()))
    return replace(cluster, namespaces=namespaces, policies=tuple(policies))


def _positions(compiled: Compiled) -> dict[str, int]:
    """ns/name -> position among the targets, built once and shared by later versions."""
    found = compiled.positions
    if not found:
        found.update((t.key, i) for i, t in enumerate(compiled.classes.targets)
                     if isinstance(t, Endpoint))
    return found
