"""The cluster-admin tiers, vectorised: NetworkPolicy rows turned into final rows per class.

The NetworkPolicy rows of one direction at one port (`podwall.engine.compiled`) say, for a
subject class, which other classes its NetworkPolicies admit. With cluster policies the final
row of a subject class is (numpy over the other classes, one pass per rule, in tier order):

    admin:    walk the Admin rules; a rule's cells that no earlier rule took are Accepted,
              Denied or Passed;
    then      cells the Admin tier left open (not matched, or Passed) take the NetworkPolicy row
              when a NetworkPolicy isolates the class, else the Baseline walk (Accept, Deny;
              Pass and unmatched cells: allowed).

A class's row depends only on its NetworkPolicy row, the Admin and Baseline policies whose
subject selects it, whether a NetworkPolicy isolates it, and (ingress, where rules name ports)
which named ports resolve at it: classes sharing those share one computed row. Rules, peers and
ports mean what `podwall.engine.tiers` says they mean; property tests hold the two together.
Peers that cannot be decided offline (nodes, domainNames) match no class here: the answer if
they do not match, which `check` reports with them and the reader warns about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podwall.engine.classes import BoolArray, EndpointClasses, IntArray
from podwall.engine.compiled import UInt8Array
from podwall.engine.verdict import ClusterRuleRef
from podwall.model import Direction, IPBlock, Peer, PortQuery
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    PeerKind,
    Tier,
    tier_order,
)


@dataclass(frozen=True, slots=True)
class CellDecision:
    """How the tiers decided a cell, as `check` reports it: the deciding `tier` ("admin",
    "networkpolicy", "baseline" or "default"), its Accept/Deny `rule` (None for the
    NetworkPolicy tier and the default), the Pass rules followed, and the answer."""

    tier: str
    rule: ClusterRuleRef | None
    passed: tuple[ClusterRuleRef, ...]
    allowed: bool


class TierRows:
    """The tiers of one cluster against one class universe; rows per (direction, port)."""

    def __init__(self, classes: EndpointClasses,
                 policies: Sequence[ClusterNetworkPolicy]) -> None:
        self.classes = classes
        self.admin = tier_order(tuple(policies), Tier.ADMIN)
        self.baseline = tier_order(tuple(policies), Tier.BASELINE)
        self._subjects: dict[str, BoolArray] = {}
        self._peers: dict[ClusterPeer, BoolArray] = {}

    # -- selections over classes --------------------------------------------------------------
    def subject_mask(self, policy: ClusterNetworkPolicy) -> BoolArray:
        hit = self._subjects.get(policy.key)
        if hit is None:
            c = self.classes
            hit = np.zeros(c.size, dtype=np.bool_)
            chosen = c.in_namespaces_matching(policy.subject.namespace_selector)
            if policy.subject.pod_selector is not None:
                pods = c.pods_matching(policy.subject.pod_selector)
                chosen = np.intersect1d(chosen, pods)
            hit[chosen] = True
            self._subjects[policy.key] = hit
        return hit

    def peer_mask(self, peer: ClusterPeer) -> BoolArray:
        hit = self._peers.get(peer)
        if hit is None:
            c = self.classes
            hit = np.zeros(c.size, dtype=np.bool_)
            if peer.kind is PeerKind.NETWORKS:
                for network in peer.networks:
                    hit[c.peer("", Peer(ip_block=IPBlock(network, (), str(network))))] = True
            elif peer.kind.offline:
                assert peer.namespace_selector is not None
                chosen = c.in_namespaces_matching(peer.namespace_selector)
                if peer.pod_selector is not None:
                    chosen = np.intersect1d(chosen, c.pods_matching(peer.pod_selector))
                hit[chosen] = True
            self._peers[peer] = hit
        return hit

    def _rule_mask(self, rule: ClusterRule, direction: Direction, port: PortQuery,
                   subject: int) -> BoolArray:
        """Other classes the rule matches at `port`, for subject class `subject`."""
        c = self.classes
        peers = np.zeros(c.size, dtype=np.bool_)
        for peer in rule.peers:
            peers |= self.peer_mask(peer)
        if not rule.ports:
            return peers
        ports = np.zeros(c.size, dtype=np.bool_)
        for p in rule.ports:
            if p.name is None:
                if p.protocol is port.protocol and p.start <= port.port <= p.end:
                    return peers
            elif direction is Direction.INGRESS:  # the destination is the subject itself
                if any(cp.name == p.name and cp.protocol is port.protocol
                       and cp.port == port.port for cp in c.keys[subject].ports):
                    return peers
            else:
                ports[c.with_named_port(p.name, port.protocol, port.port)] = True
        return peers & ports

    # -- rows -----------------------------------------------------------------------------------
    def rows(self, direction: Direction, port: PortQuery, packed: UInt8Array, of: IntArray,
             isolated: BoolArray) -> tuple[UInt8Array, IntArray]:
        """Final rows from the NetworkPolicy rows `packed` (row of class k: `of[k]`) and where a
        NetworkPolicy isolates (`isolated`). Returns (packed rows, row of every class)."""
        c = self.classes
        size = c.size
        admin = [p for p in self.admin if p.rules(direction)]
        baseline = [p for p in self.baseline if p.rules(direction)]
        a_masks = [self.subject_mask(p) for p in admin]
        b_masks = [self.subject_mask(p) for p in baseline]
        named = direction is Direction.INGRESS and any(
            q.name is not None for p in (*admin, *baseline) for r in p.rules(direction)
            for q in r.ports)
        if not a_masks and not b_masks:
            return packed, of
        a_stack: BoolArray = (np.stack(a_masks, axis=1) if a_masks
                              else np.zeros((size, 0), dtype=np.bool_))
        b_stack: BoolArray = (np.stack(b_masks, axis=1) if b_masks
                              else np.zeros((size, 0), dtype=np.bool_))
        # Baseline is never reached where a NetworkPolicy isolates
        b_stack = np.logical_and(b_stack, ~isolated[:, None])
        touched: BoolArray = np.logical_or(a_stack.any(axis=1), b_stack.any(axis=1))
        columns = [of[:, None], isolated[:, None].astype(np.int64), a_stack.astype(np.int64),
                   b_stack.astype(np.int64)]
        if named:
            port_ids: dict[object, int] = {}
            columns.append(np.array([port_ids.setdefault(k.ports, len(port_ids)) if touched[i]
                                     else -1 for i, k in enumerate(c.keys)],
                                    dtype=np.int64)[:, None])
        table = np.concatenate(columns, axis=1)
        table[~touched, 1:] = 0  # untouched classes group by their NetworkPolicy row alone
        uniq, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
        width = packed.shape[1]
        out = np.empty((len(uniq), width), dtype=np.uint8)
        for g, k in enumerate(first.tolist()):
            if not touched[k]:
                out[g] = packed[of[k]]
                continue
            np_row = np.unpackbits(packed[of[k]], count=size).astype(np.bool_)
            final = self._final(direction, port, k,
                                [admin[i] for i in np.flatnonzero(a_stack[k]).tolist()],
                                [baseline[i] for i in np.flatnonzero(b_stack[k]).tolist()],
                                np_row, bool(isolated[k]))
            bits = np.packbits(final)
            out[g] = 0
            out[g, :len(bits)] = bits
        return out, inverse.reshape(-1).astype(np.int64)

    def _final(self, direction: Direction, port: PortQuery, subject: int,
               admin: Sequence[ClusterNetworkPolicy], baseline: Sequence[ClusterNetworkPolicy],
               np_row: BoolArray, isolated: bool) -> BoolArray:
        size = self.classes.size
        taken = np.zeros(size, dtype=np.bool_)  # matched by an earlier rule of the tier
        accepted = np.zeros(size, dtype=np.bool_)
        decided = np.zeros(size, dtype=np.bool_)  # Accept or Deny in the Admin tier
        for policy in admin:
            for rule in policy.rules(direction):
                m = self._rule_mask(rule, direction, port, subject) & ~taken
                taken |= m
                if rule.action is Action.ACCEPT:
                    accepted |= m
                    decided |= m
                elif rule.action is Action.DENY:
                    decided |= m
        if isolated:
            after = np_row
        else:
            b_taken = np.zeros(size, dtype=np.bool_)
            denied = np.zeros(size, dtype=np.bool_)
            for policy in baseline:
                for rule in policy.rules(direction):
                    m = self._rule_mask(rule, direction, port, subject) & ~b_taken
                    b_taken |= m
                    if rule.action is Action.DENY:
                        denied |= m
            after = ~denied
        result: BoolArray = accepted | (~decided & after)
        return result


def cell_decisions(rows: TierRows, direction: Direction, port: PortQuery, subject: int,
                   final: BoolArray, isolated: bool) -> tuple[IntArray, list[CellDecision]]:
    """Which rule decided each cell of subject class `subject`'s row (`final`: its final row,
    which equals its NetworkPolicy row wherever the NetworkPolicy tier decides; `isolated`:
    whether a NetworkPolicy isolates it), as indices into a list of decisions: the provenance
    `check` gives per pair, for every other class at once (one numpy pass per rule, the walk
    of `TierRows._final`). Peers that cannot be decided offline match nothing, as there."""
    size = rows.classes.size
    refs: list[ClusterRuleRef] = []
    chosen: list[tuple[str, IntArray, IntArray]] = []  # tier, rule taken (-1), pass taken (-1)
    for tier, policies in (("admin", rows.admin), ("baseline", () if isolated else rows.baseline)):
        taken = np.full(size, -1, dtype=np.int64)
        passed = np.full(size, -1, dtype=np.int64)
        free = np.ones(size, dtype=np.bool_)
        for policy in policies:
            if not policy.rules(direction) or not rows.subject_mask(policy)[subject]:
                continue
            for index, rule in enumerate(policy.rules(direction)):
                m = rows._rule_mask(rule, direction, port, subject) & free
                free &= ~m
                refs.append(ClusterRuleRef(policy.tier.word, policy.priority, policy.key,
                                           direction, index, rule.action.value, rule.name))
                (passed if rule.action is Action.PASS else taken)[m] = len(refs) - 1
        chosen.append((tier, taken, passed))
    (_, a_taken, a_pass), (_, b_taken, b_pass) = chosen
    if isolated:
        b_taken = np.full(size, -1, dtype=np.int64)
        b_pass = b_taken
    b_taken = np.where(a_taken >= 0, -1, b_taken)
    b_pass = np.where(a_taken >= 0, -1, b_pass)
    table = np.stack([a_taken, a_pass, b_taken, b_pass, final.astype(np.int64)], axis=1)
    uniq, inverse = np.unique(table, axis=0, return_inverse=True)
    out: list[CellDecision] = []
    for at, ap, bt, bp, allowed in uniq.tolist():
        passes = tuple(refs[i] for i in (ap, bp) if i >= 0)
        if at >= 0:
            out.append(CellDecision("admin", refs[at], (), bool(allowed)))
        elif isolated:
            out.append(CellDecision("networkpolicy", None, passes, bool(allowed)))
        elif bt >= 0:
            out.append(CellDecision("baseline", refs[bt], passes, bool(allowed)))
        else:
            out.append(CellDecision("default", None, passes, bool(allowed)))
    return inverse.reshape(-1).astype(np.int64), out
