"""What changes between two inputs: connections gained and lost, with the rules behind them.

Computed on endpoint classes, never pair by pair over both full matrices: endpoints present in
both inputs fall into joint classes (distinct pairs of old class and new class); per port the
class-level verdicts of both sides are compared with numpy over the joint classes, and only the
changed joint class pairs are expanded to endpoints. Reasons come from `Engine.check` on one
representative pair per changed joint class pair and port.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.engine import Engine, RuleRef, default_ports
from podwall.engine.classes import IntArray
from podwall.engine.matrix import MatrixComputer
from podwall.engine.verdict import DirectionVerdict, Verdict
from podwall.model import Cluster, PortQuery

ADDED, REMOVED = "added", "removed"


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """Connections from `src` to `dst` on `ports` that appear (`added`) or disappear.

    `src`/`dst` are `ns/name`, or `ns/*` when every endpoint of the namespace changes alike.
    `count` is the number of endpoint pairs times ports it stands for.
    """

    change: str
    src: str
    dst: str
    ports: tuple[PortQuery, ...]
    reason: str
    rules: tuple[RuleRef, ...] = ()
    count: int = 1

    @property
    def sign(self) -> str:
        return "+" if self.change == ADDED else "-"

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "from": self.src, "to": self.dst,
                "ports": [str(p) for p in self.ports], "reason": self.reason,
                "rules": [r.to_json() for r in self.rules], "connections": self.count}


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """An endpoint only one side has, with how many endpoints it reaches / is reached by there."""

    change: str
    endpoint: str
    reaches: int
    reached_by: int

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "endpoint": self.endpoint, "reaches": self.reaches,
                "reachedBy": self.reached_by}


@dataclass(frozen=True)
class Diff:
    ports: tuple[PortQuery, ...]
    endpoints: tuple[EndpointChange, ...]
    changes: tuple[ConnectionChange, ...]
    added: int = 0  # endpoint pairs x ports
    removed: int = 0
    joint_classes: int = field(default=0, compare=False)

    @property
    def empty(self) -> bool:
        return not self.endpoints and not self.changes

    def has(self, which: str) -> bool:
        """`added`, `removed` or `any`: whether such changes exist (for `--fail-on`)."""
        gained = self.added > 0 or any(e.change == ADDED for e in self.endpoints)
        lost = self.removed > 0 or any(e.change == REMOVED for e in self.endpoints)
        return {"added": gained, "removed": lost}.get(which, gained or lost)

    def to_json(self) -> dict[str, Any]:
        return {
            "ports": [str(p) for p in self.ports],
            "summary": {"connectionsAdded": self.added, "connectionsRemoved": self.removed,
                        "endpointsAdded": sum(1 for e in self.endpoints if e.change == ADDED),
                        "endpointsRemoved": sum(1 for e in self.endpoints
                                                if e.change == REMOVED)},
            "endpoints": [e.to_json() for e in self.endpoints],
            "changes": [c.to_json() for c in self.changes],
        }


def diff_clusters(old: Cluster, new: Cluster,
                  ports: Sequence[PortQuery] | None = None) -> Diff:
    chosen = tuple(ports) if ports else tuple(sorted(
        set(default_ports(old)) | set(default_ports(new)),
        key=lambda p: (p.protocol.value, p.port)))
    old_mc, new_mc = MatrixComputer(old), MatrixComputer(new)
    old_index = {ep.key: i for i, ep in enumerate(old.endpoints)}
    new_index = {ep.key: i for i, ep in enumerate(new.endpoints)}
    common = [k for k in old_index if k in new_index]  # sorted: endpoints are sorted
    endpoints = _endpoint_changes(old, new, old_mc, new_mc, old_index, new_index, chosen)

    # joint classes: distinct (old class, new class) pairs among common endpoints
    joint_index: dict[tuple[int, int], int] = {}
    members: list[list[str]] = []
    for key in common:
        pair = (int(old_mc.classes.class_of[old_index[key]]),
                int(new_mc.classes.class_of[new_index[key]]))
        jid = joint_index.get(pair)
        if jid is None:
            jid = joint_index[pair] = len(members)
            members.append([])
        members[jid].append(key)
    old_ids: IntArray = np.array([p[0] for p in joint_index], dtype=np.int64)
    new_ids: IntArray = np.array([p[1] for p in joint_index], dtype=np.int64)

    old_engine, new_engine = Engine(old), Engine(new)
    explainer = _Explainer(old, new, old_engine, new_engine)
    # (sign, src, dst, reason, rules) -> ports
    raw: dict[tuple[str, str, str, str, tuple[RuleRef, ...]], set[PortQuery]] = defaultdict(set)
    totals = {ADDED: 0, REMOVED: 0}
    if len(members):
        for port in chosen:
            before = old_mc.verdicts(port).dense(old_ids)
            after = new_mc.verdicts(port).dense(new_ids)
            for change, mask in ((ADDED, after & ~before), (REMOVED, before & ~after)):
                for js, jd in zip(*np.nonzero(mask), strict=True):
                    pairs = [(s, d) for s in members[int(js)] for d in members[int(jd)]
                             if s != d]
                    if not pairs:
                        continue
                    reason, rules = explainer.reason(change, pairs[0][0], pairs[0][1], port)
                    totals[change] += len(pairs)
                    for s, d in pairs:
                        raw[(change, s, d, reason, rules)].add(port)
    changes = _collapse(raw, common)
    return Diff(chosen, endpoints, changes, totals[ADDED], totals[REMOVED], len(members))


class _Explainer:
    def __init__(self, old: Cluster, new: Cluster, old_engine: Engine, new_engine: Engine) -> None:
        self.old_policies = {p.key: p for p in old.policies}
        self.new_policies = {p.key: p for p in new.policies}
        self.old_engine, self.new_engine = old_engine, new_engine

    def fate(self, key: str) -> str:
        """What NEW did to a policy of OLD."""
        now = self.new_policies.get(key)
        if now is None:
            return "removed"
        return "changed" if now != self.old_policies.get(key) else "unchanged"

    def origin(self, key: str) -> str:
        """What NEW did to a policy that it has."""
        before = self.old_policies.get(key)
        if before is None:
            return "added"
        return "changed" if before != self.new_policies.get(key) else "unchanged"

    def reason(self, change: str, src: str, dst: str,
               port: PortQuery) -> tuple[str, tuple[RuleRef, ...]]:
        before = self.old_engine.check(src, dst, port)
        after = self.new_engine.check(src, dst, port)
        if change == ADDED:
            return self._added(before, after)
        return self._removed(before, after)

    def _added(self, before: Verdict, after: Verdict) -> tuple[str, tuple[RuleRef, ...]]:
        rules = (*after.egress.admitted_by, *after.ingress.admitted_by)
        opened: list[str] = []
        for old_side, new_side in ((before.egress, after.egress), (before.ingress, after.ingress)):
            if old_side.isolated and not new_side.isolated:
                fates = [wording.diff_policy_fate_words(p, self.fate(p))
                         for p in old_side.isolated_by if self.fate(p) != "unchanged"]
                opened.append(wording.diff_opened_words(old_side.direction.word,
                                                        old_side.subject, fates))
        return wording.diff_allowed_words([str(r) for r in rules], opened), tuple(rules)

    def _removed(self, before: Verdict, after: Verdict) -> tuple[str, tuple[RuleRef, ...]]:
        parts: list[str] = []
        rules: list[RuleRef] = []
        sides: list[tuple[DirectionVerdict, DirectionVerdict]] = [
            (before.egress, after.egress), (before.ingress, after.ingress)]
        for old_side, new_side in sides:
            if new_side.allowed:
                continue
            if old_side.isolated:
                rules.extend(old_side.admitted_by)
                seen: set[str] = set()
                for ref in old_side.admitted_by:
                    if ref.policy in seen:
                        continue
                    seen.add(ref.policy)
                    fate = self.fate(ref.policy)
                    parts.append(wording.diff_policy_fate_words(
                        ref.policy if fate != "unchanged" else str(ref),
                        fate if fate != "unchanged" else "no longer matches"))
            else:
                isolators = [f"{p} ({self.origin(p)})" for p in new_side.isolated_by]
                parts.append(wording.diff_newly_isolated_words(
                    new_side.direction.word, new_side.subject, isolators))
        return wording.diff_removed_words(parts), tuple(rules)


def _endpoint_changes(old: Cluster, new: Cluster, old_mc: MatrixComputer,
                      new_mc: MatrixComputer, old_index: dict[str, int],
                      new_index: dict[str, int],
                      ports: Sequence[PortQuery]) -> tuple[EndpointChange, ...]:
    out: list[EndpointChange] = []
    for change, cluster, mc, index, other in ((REMOVED, old, old_mc, old_index, new_index),
                                              (ADDED, new, new_mc, new_index, old_index)):
        only = [k for k in index if k not in other]
        if not only:
            continue
        size = mc.classes.size
        reach = np.zeros((size, size), dtype=np.bool_)
        for port in ports:
            reach |= mc.verdicts(port).dense()
        weight = np.bincount(mc.classes.class_of[: len(cluster.endpoints)],
                             minlength=size).astype(np.int64)
        for key in only:
            c = int(mc.classes.class_of[index[key]])
            self_pair = 1 if reach[c, c] else 0
            reaches = int(reach[c] @ weight) - self_pair
            reached_by = int(reach[:, c] @ weight) - self_pair
            out.append(EndpointChange(change, key, reaches, reached_by))
    return tuple(out)


def _collapse(raw: dict[tuple[str, str, str, str, tuple[RuleRef, ...]], set[PortQuery]],
              common: Sequence[str]) -> tuple[ConnectionChange, ...]:
    """Merge ports, then replace all sources (then all destinations) of a namespace by `ns/*`."""
    by_ns: dict[str, set[str]] = defaultdict(set)
    for key in common:
        by_ns[key.split("/", 1)[0]].add(key)
    # (change, dst, ports, reason, rules) -> sources
    stage1: dict[tuple[str, str, tuple[PortQuery, ...], str, tuple[RuleRef, ...]],
                 dict[str, int]] = defaultdict(dict)
    for (change, src, dst, reason, rules), port_set in raw.items():
        stage1[(change, dst, tuple(sorted(port_set)), reason, rules)][src] = len(port_set)
    stage2: dict[tuple[str, str, tuple[PortQuery, ...], str, tuple[RuleRef, ...]],
                 dict[str, int]] = defaultdict(dict)
    for (change, dst, ports, reason, rules), sources in stage1.items():
        for src, count in _namespace_groups(sources, by_ns, dst).items():
            stage2[(change, src, ports, reason, rules)][dst] = count
    out: list[ConnectionChange] = []
    for (change, src, ports, reason, rules), dests in stage2.items():
        for dst, count in _namespace_groups(dests, by_ns, src).items():
            out.append(ConnectionChange(change, src, dst, ports, reason, rules, count))
    out.sort(key=lambda c: (c.change != ADDED, c.src, c.dst, c.ports))
    return tuple(out)


def _namespace_groups(names: dict[str, int], by_ns: dict[str, set[str]],
                      other: str) -> dict[str, int]:
    """{name: count} with every complete namespace (of 2+ endpoints, `other` aside) as `ns/*`."""
    grouped: dict[str, int] = {}
    per_ns: dict[str, list[str]] = defaultdict(list)
    for name in names:
        per_ns[name.split("/", 1)[0]].append(name)
    for ns, present in per_ns.items():
        everyone = by_ns.get(ns, set()) - {other}
        if len(everyone) >= 2 and everyone <= set(present) and not any(
                n.endswith("/*") for n in present):
            grouped[f"{ns}/*"] = sum(names[n] for n in present)
        else:
            for n in present:
                grouped[n] = names[n]
    return grouped

