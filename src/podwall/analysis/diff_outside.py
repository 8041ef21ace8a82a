"""What a change does to the connections between endpoints and the world outside the cluster.

Both inputs are judged on one partition of the outside (the ipBlocks of both: a block of OLD
that NEW widens is cut where NEW's ipBlock ends) and one partition of the ports, so the two
exposure tables have the same columns and compare cell by cell. An endpoint only one input has
compares with nothing (all its openings are added or removed). Lines name the addresses as
CIDRs (`+ 0.0.0.0/0 except 10.0.0.0/8 -> prod/db TCP/5432`), never a pod: a widened ipBlock
is a change with the outside even when it also happens to match some pod's IP.

`--external IP` narrows the comparison to the blocks holding those addresses, and lines then
name the address itself.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.analysis.exposure import ExposureTable, _rule_meets, _shows, group_label, port_ranges
from podwall.analysis.filters import View
from podwall.engine import Engine, ExternalHost, RuleRef
from podwall.engine.evaluate import Evaluator
from podwall.engine.outside import (
    AddressSet,
    PortRange,
    merged_ranges,
    partition,
    port_partition,
    ports_words,
)
from podwall.engine.verdict import ClusterRuleRef
from podwall.errors import QueryError
from podwall.model import Cluster, Direction, Endpoint, IPAddress, NetworkPolicy, PortQuery

ADDED, REMOVED = "added", "removed"
# A rule a reason names: a NetworkPolicy's, or a cluster policy's (tier, priority, action).
Ref = RuleRef | ClusterRuleRef
# At most this many (block, port range) cells of one line are judged for its tier words.
_TIER_CELLS = 64


@dataclass(frozen=True, slots=True)
class OutsideChange:
    """Connections between `endpoints` (named `label`) and `addresses` that appear or go.
    `implied`: the endpoints among them that the input the line is about did not carry."""

    change: str
    direction: Direction
    label: str
    endpoints: tuple[str, ...]
    addresses: str
    cidrs: tuple[str, ...]
    ports: tuple[PortRange, ...]
    reason: str
    rules: tuple[Ref, ...]
    implied: tuple[str, ...] = ()

    @property
    def sign(self) -> str:
        return "+" if self.change == ADDED else "-"

    def line(self) -> str:
        ports = ports_words(self.ports)
        label = wording.implied_end_words(self.label, self.implied)
        if self.direction is Direction.INGRESS:
            text = f"{self.sign} {self.addresses} -> {label} {ports}"
        else:
            text = f"{self.sign} {label} -> {self.addresses} {ports}"
        return f"{text}  ({self.reason})"

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "direction": self.direction.word,
                "endpoints": list(self.endpoints), "label": self.label,
                "addresses": self.addresses, "cidrs": list(self.cidrs),
                "ports": [str(p) for p in merged_ranges(self.ports)], "reason": self.reason,
                "rules": [r.to_json() for r in self.rules],
                **({"implied": list(self.implied)} if self.implied else {})}


def implied_keys(old: Cluster, new: Cluster) -> dict[str, frozenset[str]]:
    """Per change, the implied endpoints of the input its lines are about: an added line
    exists in NEW, a removed one existed in OLD (kube-dns implied in OLD may be real in NEW)."""
    return {ADDED: frozenset(ep.key for ep in new.endpoints if ep.implied),
            REMOVED: frozenset(ep.key for ep in old.endpoints if ep.implied)}


def outside_changes(old: Cluster, new: Cluster, view: View | None = None,
                    ports: Sequence[PortQuery] | None = None,
                    externals: Sequence[IPAddress] = ()) -> tuple[OutsideChange, ...]:
    """Every opening to or from the outside that NEW has and OLD had not, and the reverse."""
    view = view if view is not None else View()
    outside = partition([new, old])
    ranges = port_ranges(ports) if ports else port_partition([new, old])
    columns: list[tuple[list[int], str | None]]  # (blocks, the address that names them)
    if externals:
        columns = []
        for address in externals:
            block = outside.block_of(address)
            if block is None:
                because = outside.inside_because(address) or ("pod-ip", str(address))
                raise QueryError(wording.not_outside_words(f"--external {address}",
                                                           str(address), because))
            columns.append(([block.index], str(address)))
    else:
        columns = [(list(range(len(outside.blocks))), None)]
    tables = {"old": ExposureTable(old, outside, ranges), "new": ExposureTable(new, outside,
                                                                               ranges)}
    engines = {"old": Engine(old), "new": Engine(new)}
    everyone: dict[str, set[str]] = defaultdict(set)
    for cluster in (old, new):
        for ep in cluster.endpoints:
            everyone[ep.namespace].add(ep.name)
    out: list[OutsideChange] = []
    for blocks, named in columns:
        cols = np.array(blocks, dtype=np.int64)
        for direction in (Direction.INGRESS, Direction.EGRESS):
            out.extend(_direction(old, new, tables, engines, view, direction, cols, named,
                                  everyone, implied_keys(old, new)))
    out.sort(key=lambda c: (c.change != ADDED, c.direction is Direction.EGRESS,
                            c.label, c.addresses))
    return tuple(out)


def _direction(old: Cluster, new: Cluster, tables: dict[str, ExposureTable],
               engines: dict[str, Engine], view: View, direction: Direction,
               cols: Any, named: str | None,
               everyone: dict[str, set[str]],
               implied_in: Mapping[str, frozenset[str]]) -> list[OutsideChange]:
    t_old, t_new = tables["old"], tables["new"]
    old_pos = {ep.key: i for i, ep in enumerate(old.endpoints)}
    new_pos = {ep.key: i for i, ep in enumerate(new.endpoints)}
    keys = sorted(set(old_pos) | set(new_pos), key=lambda k: k.partition("/")[::2])
    # endpoints grouped by (namespace, class in OLD, class in NEW); -1: not in that input
    groups: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for key in keys:
        ep = new.endpoints[new_pos[key]] if key in new_pos else old.endpoints[old_pos[key]]
        if not _shows(view, ep, direction):
            continue
        co = int(t_old.class_of[old_pos[key]]) if key in old_pos else -1
        cn = int(t_new.class_of[new_pos[key]]) if key in new_pos else -1
        groups[(ep.namespace, co, cn)].append(key)
    side_old, side_new = t_old.side(direction), t_new.side(direction)
    empty = np.zeros((len(t_new.ports), len(cols)), dtype=np.bool_)
    # merged by what changes AND why: endpoints whose openings change alike by different
    # policies are separate lines, each with its own rules
    Why = tuple[str, tuple[Ref, ...]]
    merged: dict[tuple[str, str, tuple[int, ...], tuple[int, ...], Why],
                 list[tuple[str, ...]]] = defaultdict(list)
    for (ns, co, cn), members in groups.items():
        before = side_old[:, co, :][:, cols] if co >= 0 else empty
        after = side_new[:, cn, :][:, cols] if cn >= 0 else empty
        for change, cells in ((ADDED, after & ~before), (REMOVED, before & ~after)):
            by_blocks: dict[tuple[int, ...], list[int]] = defaultdict(list)
            for k in np.flatnonzero(cells.any(axis=1)).tolist():
                by_blocks[tuple(cols[np.flatnonzero(cells[k])].tolist())].append(k)
            for blocks, ix in by_blocks.items():
                why = _reason(change, direction, members[0], old, new, tables, engines,
                              blocks, ix)
                merged[(ns, change, blocks, tuple(ix), why)].append(tuple(members))
    out: list[OutsideChange] = []
    outside = t_new.outside
    for group, parts in merged.items():
        ns, change, blocks, port_ix, (reason, rules) = group
        members = sorted(k.partition("/")[2] for part in parts for k in part)
        label = group_label(ns, members, sorted(everyone[ns]))
        addresses: AddressSet = outside.union(blocks)
        words = named if named is not None else str(addresses)
        named_keys = tuple(f"{ns}/{m}" for m in members)
        implied = tuple(k for k in named_keys if k in implied_in[change])
        out.append(OutsideChange(
            change, direction, label, named_keys, words,
            tuple(str(n) for n in addresses.cidrs()) if named is None
            else (str(ipaddress.ip_network(named)),),
            tuple(t_new.ports[k] for k in port_ix), reason, rules, implied))
    return out


def _reason(change: str, direction: Direction, key: str, old: Cluster, new: Cluster,
            tables: dict[str, ExposureTable], engines: dict[str, Engine],
            blocks: tuple[int, ...], port_ix: Sequence[int]) -> tuple[str, tuple[Ref, ...]]:
    """Added: the rules of NEW that admit it (or: not isolated in NEW, and what isolated it in
    OLD). Removed: the rules of OLD that admitted it, and what NEW isolates it by. With
    cluster policies in either input: how NEW decides it, as `check` words it."""
    if old.cluster_policies or new.cluster_policies:
        return _tier_reason(change, direction, key, old, new, tables, engines, blocks, port_ix)
    side, other = ("new", "old") if change == ADDED else ("old", "new")
    cluster = new if side == "new" else old
    endpoint = cluster.endpoint(key)
    assert endpoint is not None
    ports = tuple(tables[side].ports[k] for k in port_ix)
    policies = engines[side].selecting(endpoint, direction)
    rules = tuple(RuleRef(p.key, direction, i) for p in policies
                  for i, rule in enumerate(p.rules(direction))
                  if _rule_meets(rule, tables[side], blocks, ports, endpoint, direction))
    other_cluster = old if other == "old" else new
    other_ep = other_cluster.endpoint(key)
    other_policies = (engines[other].selecting(other_ep, direction)
                      if isinstance(other_ep, Endpoint) else ())
    return wording.diff_outside_reason_words(
        change, direction.word, [str(r) for r in rules], bool(policies),
        None if other_ep is None else [p.key for p in other_policies]), rules


def _tier_reason(change: str, direction: Direction, key: str, old: Cluster, new: Cluster,
                 tables: dict[str, ExposureTable], engines: dict[str, Engine],
                 blocks: tuple[int, ...], port_ix: Sequence[int]) -> tuple[str, tuple[Ref, ...]]:
    """The scalar verdicts of the endpoint's side with the line's blocks and port ranges, in
    NEW (OLD when the endpoint is gone), each worded once: which tier, policy, priority and
    rule decided, the Pass rules followed, and the rules that cannot be decided offline."""
    side = "new" if new.endpoint(key) is not None else "old"
    endpoint = (new if side == "new" else old).endpoint(key)
    assert isinstance(endpoint, Endpoint)
    table = tables[side]
    evaluator = engines[side].evaluator
    words: dict[str, None] = {}
    refs: dict[Ref, None] = {}
    cells = [(b, k) for b in blocks for k in port_ix][:_TIER_CELLS]
    for b, k in cells:
        host = ExternalHost(table.outside.blocks[b].representative)
        port = table.ports[k].representative
        verdict = evaluator.direction_verdict(
            direction, endpoint, host, port,
            host if direction is Direction.EGRESS else endpoint)
        words[wording.tier_decision_words(verdict, str(table.outside.blocks[b].addresses))] = None
        for ref in (*verdict.passed, *((verdict.decided_by,) if verdict.decided_by else ()),
                    *verdict.admitted_by, *verdict.unknown):
            refs[ref] = None
    return wording.diff_outside_tier_words(change, direction.word, list(words),
                                           side == "old", old.endpoint(key) is None), tuple(refs)


def pod_ip_note(evaluator: Evaluator, policies: Mapping[str, NetworkPolicy],
                refs: Sequence[RuleRef], src: Endpoint, dst: Endpoint) -> str:
    """`; kube-system/coredns only by its IP 10.96.0.53, in ipBlock 0.0.0.0/0 of prod/db
    ingress[0] (...)` when a rule admits the other end of a pod-to-pod line through an ipBlock
    alone: the rule was written for addresses, and the line must not read as a rule for pods."""
    parts: list[str] = []
    for ref in refs:
        policy = policies.get(ref.policy)
        if policy is None:
            continue
        rule = policy.rules(ref.direction)[ref.index]
        other = src if ref.direction is Direction.INGRESS else dst
        matched = [p for p in rule.peers if evaluator.peer_matches(policy, p, other)]
        if matched and all(p.ip_block is not None for p in matched):
            block = matched[0].ip_block
            parts.append(wording.pod_ip_words(other.key, str(other.ip), str(block), str(ref),
                                              other.ip_assigned))
    return "".join(f"; {p}" for p in parts)
