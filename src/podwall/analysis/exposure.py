"""Exposure: what each endpoint accepts from, and may open to, the world outside the cluster.

The outside is partitioned into blocks that every policy treats alike, and the port space into
ranges over which no verdict with the outside changes (`podwall.engine.outside`). One
representative address per block joins the class universe as an outside host, so the engine's
bit-packed rows answer every (endpoint class, block, port range) at once: ingress at a pod from
a block is the pod's ingress row at the block's column (the outside host's egress is never
isolated), egress likewise. Endpoints whose answers are identical are then grouped per
namespace, and each group's answers become lines "ADDRESSES -> ns/name PORTS" (ingress) or
"ns/name -> ADDRESSES PORTS" (egress), with the rules that admit them.

Rules come from the rules themselves, not from a scalar evaluation per cell: a rule admits a
product (the blocks its peers contain) x (the port ranges its ports match at the pod), and a
line is such a product too, so the rules of a line are those whose two sets meet the line's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from podwall.analysis.filters import View
from podwall.engine import Engine, ExternalHost, RuleRef, port_matches
from podwall.engine.classes import BoolArray
from podwall.engine.matrix import MatrixComputer
from podwall.engine.offline import offline_rules, undecided_cells
from podwall.engine.outside import (
    AddressSet,
    Outside,
    PortRange,
    merged_ranges,
    partition,
    port_partition,
    ports_words,
)
from podwall.engine.verdict import ClusterRuleRef
from podwall.model import Cluster, Direction, Endpoint, PortQuery, Rule

_BRACE_LIMIT = 6


@dataclass(frozen=True, slots=True)
class Opening:
    """Connections that may be opened between endpoints and outside addresses, one direction.

    INGRESS: from `addresses` to each of `endpoints`; EGRESS: from each of `endpoints` to
    `addresses`; on `ports`. `rules` admit it (empty when the direction is not isolated).
    `implied`: the endpoints among `endpoints` that the input did not carry (kube-dns).
    """

    direction: Direction
    namespace: str
    endpoints: tuple[str, ...]
    label: str
    blocks: tuple[int, ...]
    addresses: AddressSet
    ports: tuple[PortRange, ...]
    rules: tuple[RuleRef, ...]
    isolated: bool
    # with cluster policies: how the endpoint's side decides the line, as `check` words it
    # (one sentence per distinct decision over its blocks and port ranges), and the cluster
    # rules those sentences name
    decided: tuple[str, ...] = ()
    cluster_rules: tuple[ClusterRuleRef, ...] = ()
    implied: tuple[str, ...] = ()

    @property
    def ports_text(self) -> str:
        return ports_words(self.ports)

    def line(self) -> str:
        from podwall.analysis.wording import exposure_line

        return exposure_line(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction.word,
            "endpoints": list(self.endpoints),
            "label": self.label,
            "addresses": str(self.addresses),
            "cidrs": [str(n) for n in self.addresses.cidrs()],
            "blocks": [f"b{b + 1}" for b in self.blocks],
            "ports": [str(p) for p in merged_ranges(self.ports)],
            "isolated": self.isolated,
            "rules": [r.to_json() for r in self.rules],
            **({"decided": list(self.decided),
                "clusterRules": [r.to_json() for r in self.cluster_rules]}
               if self.decided else {}),
            **({"implied": list(self.implied)} if self.implied else {}),
        }


@dataclass(frozen=True, slots=True)
class UndecidedOpening:
    """Connections between `endpoints` and `addresses` on `ports` that cannot be decided
    offline: a cluster policy's nodes or domainNames peers (`rules`) may or may not match the
    addresses. `allowed` is the answer shown elsewhere (the peers matching nothing)."""

    direction: Direction
    namespace: str
    endpoints: tuple[str, ...]
    label: str
    addresses: AddressSet
    ports: tuple[PortRange, ...]
    allowed: bool
    rules: tuple[ClusterRuleRef, ...]

    def line(self) -> str:
        from podwall.analysis.wording import exposure_undecided_line

        return exposure_undecided_line(self)

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction.word, "endpoints": list(self.endpoints),
                "label": self.label, "addresses": str(self.addresses),
                "cidrs": [str(n) for n in self.addresses.cidrs()],
                "ports": [str(p) for p in merged_ranges(self.ports)],
                "shownAs": "allowed" if self.allowed else "denied",
                "rules": [r.to_json() for r in self.rules]}


@dataclass(frozen=True)
class Exposure:
    outside: Outside
    ports: tuple[PortRange, ...]
    openings: tuple[Opening, ...]
    shown: tuple[Endpoint, ...]  # endpoints in view
    accepting: frozenset[str]  # in view, accept something from outside
    opening: frozenset[str]  # in view, may open something to outside
    undecided: tuple[UndecidedOpening, ...] = ()  # cannot be decided offline (nodes, domains)

    def of(self, direction: Direction) -> tuple[Opening, ...]:
        return tuple(o for o in self.openings if o.direction is direction)

    def to_json(self) -> dict[str, Any]:
        o = self.outside
        return {
            "outside": {
                "podCidr": str(o.pod_cidr),
                "serviceCidr": None if o.service_cidr is None else str(o.service_cidr),
                "podIpsOutsidePodCidr": [str(ip) for ip in o.stray_pod_ips],
                "serviceIpsOutsideServiceCidr": [str(ip) for ip in o.stray_service_ips],
                "blocks": [{"block": b.name, "addresses": str(b.addresses),
                            "cidrs": [str(n) for n in b.addresses.cidrs()],
                            "ipBlocks": [str(o.ipblocks[i]) for i in b.within],
                            "representative": str(b.representative)} for b in o.blocks],
            },
            "ports": [str(p) for p in self.ports],
            "ingress": [x.to_json() for x in self.of(Direction.INGRESS)],
            "egress": [x.to_json() for x in self.of(Direction.EGRESS)],
            **({"cannotDecideOffline": [u.to_json() for u in self.undecided]}
               if self.undecided else {}),
            "summary": {"endpoints": len(self.shown), "acceptFromOutside": len(self.accepting),
                        "openToOutside": len(self.opening),
                        "closed": len(self.shown) - len(self.accepting | self.opening)},
        }


def port_ranges(ports: Sequence[PortQuery]) -> tuple[PortRange, ...]:
    return tuple(sorted({PortRange(p.protocol, p.port, p.port) for p in ports}))


class ExposureTable:
    """Per endpoint class, per direction: (port ranges x blocks) verdicts with the outside."""

    def __init__(self, cluster: Cluster, outside: Outside | None = None,
                 ports: Sequence[PortRange] | None = None) -> None:
        self.cluster = cluster
        self._index: dict[str, int] = {}
        self.outside = outside if outside is not None else partition(cluster)
        self.ports = tuple(ports) if ports is not None else port_partition(cluster)
        hosts = [ExternalHost(b.representative) for b in self.outside.blocks]
        self.computer = computer = MatrixComputer(cluster, hosts)
        n = len(cluster.endpoints)
        class_of = computer.classes.class_of
        self.class_of = class_of[:n]
        host_cls = class_of[n:]
        size = computer.classes.size
        shape = (len(self.ports), size, len(hosts))
        self.ingress: BoolArray = np.zeros(shape, dtype=np.bool_)
        self.egress: BoolArray = np.zeros(shape, dtype=np.bool_)
        if hosts and n:
            for k, port in enumerate(self.ports):
                v = computer.verdicts(port.representative)
                self.ingress[k] = v.ingress.columns(host_cls)[v.ingress.of]
                self.egress[k] = v.egress.columns(host_cls)[v.egress.of]

    def class_of_key(self, key: str) -> int:
        """The class (in this table) of endpoint `ns/name`."""
        if not self._index:
            self._index = {ep.key: i for i, ep in enumerate(self.cluster.endpoints)}
        return int(self.class_of[self._index[key]])

    def side(self, direction: Direction) -> BoolArray:
        return self.ingress if direction is Direction.INGRESS else self.egress

    def allowed(self, endpoint: int, direction: Direction, block: int, port: int) -> bool:
        return bool(self.side(direction)[port, self.class_of[endpoint], block])


def exposure(cluster: Cluster, view: View | None = None,
             ports: Sequence[PortQuery] | None = None) -> Exposure:
    """What every endpoint in view accepts from outside and may open to it (see module doc)."""
    view = view if view is not None else View()
    view.check(cluster.endpoints)
    table = ExposureTable(cluster, ports=port_ranges(ports) if ports else None)
    engine = Engine(cluster)
    names: dict[str, list[str]] = defaultdict(list)
    for ep in cluster.endpoints:
        names[ep.namespace].append(ep.name)
    openings: list[Opening] = []
    shown: dict[str, Endpoint] = {}
    touched: dict[Direction, set[str]] = {d: set() for d in Direction}
    for direction in (Direction.INGRESS, Direction.EGRESS):
        side = table.side(direction)  # (ports, classes, blocks)
        flat = side.transpose(1, 0, 2).reshape(side.shape[1], -1)
        _, sig = np.unique(np.packbits(flat, axis=1), axis=0, return_inverse=True)
        sig = sig.reshape(-1)
        # grouped by answers AND by the policies that select them: a line names the rules of
        # its members, so endpoints with the same answers by different policies are two lines
        groups: dict[tuple[str, int, tuple[str, ...]], list[int]] = defaultdict(list)
        selecting: dict[int, tuple[str, ...]] = {}
        for i, ep in enumerate(cluster.endpoints):
            if not _shows(view, ep, direction):
                continue
            shown[ep.key] = ep
            cls = int(table.class_of[i])
            if cls not in selecting:
                selecting[cls] = tuple(p.key for p in engine.selecting(ep, direction))
            groups[(ep.namespace, int(sig[cls]), selecting[cls])].append(i)
        for (ns, _, _), members in sorted(groups.items(), key=lambda kv: (
                kv[0][0], cluster.endpoints[kv[1][0]].name)):
            rep = cluster.endpoints[members[0]]
            cells = side[:, table.class_of[members[0]], :]  # (ports, blocks)
            keys = [ep_key for ep_key in (cluster.endpoints[i].key for i in members)]
            implied = tuple(cluster.endpoints[i].key for i in members
                            if cluster.endpoints[i].implied)
            label = group_label(ns, sorted(cluster.endpoints[i].name for i in members),
                                sorted(names[ns]))
            policies = engine.selecting(rep, direction)
            by_blocks: dict[tuple[int, ...], list[int]] = defaultdict(list)
            for k in range(cells.shape[0]):
                blocks = tuple(np.flatnonzero(cells[k]).tolist())
                if blocks:
                    by_blocks[blocks].append(k)
            if by_blocks:
                touched[direction].update(keys)
            for blocks, port_ix in sorted(by_blocks.items(), key=lambda kv: (kv[1][0], kv[0])):
                chosen = tuple(table.ports[k] for k in port_ix)
                rules = tuple(
                    RuleRef(p.key, direction, idx)
                    for p in policies for idx, rule in enumerate(p.rules(direction))
                    if _rule_meets(rule, table, blocks, chosen, rep, direction))
                decided, cluster_rules = (_tier_words(engine, table, rep, direction, blocks,
                                                      port_ix)
                                          if cluster.cluster_policies else ((), ()))
                openings.append(Opening(direction, ns, tuple(keys), label, blocks,
                                        table.outside.union(blocks), chosen, rules,
                                        bool(policies), decided, cluster_rules, implied))
    return Exposure(table.outside, table.ports, tuple(openings),
                    tuple(shown[k] for k in sorted(shown, key=_order)),
                    frozenset(touched[Direction.INGRESS]), frozenset(touched[Direction.EGRESS]),
                    _undecided(engine, table, [shown[k] for k in sorted(shown, key=_order)],
                               names))


_TIER_CELLS = 64  # at most this many (block, port range) cells of a line are worded


def _tier_words(engine: Engine, table: ExposureTable, rep: Endpoint, direction: Direction,
                blocks: tuple[int, ...], port_ix: Sequence[int]
                ) -> tuple[tuple[str, ...], tuple[ClusterRuleRef, ...]]:
    """How the endpoint's side decides the line's cells with cluster policies, as `check`
    words it (distinct sentences), and the cluster rules named."""
    from podwall.analysis.wording import tier_decision_words

    words: dict[str, None] = {}
    refs: dict[ClusterRuleRef, None] = {}
    took_part = False  # a cluster rule decided, passed, or cannot be decided offline
    for b, k in [(b, k) for b in blocks for k in port_ix][:_TIER_CELLS]:
        host = ExternalHost(table.outside.blocks[b].representative)
        verdict = engine.evaluator.direction_verdict(
            direction, rep, host, table.ports[k].representative,
            host if direction is Direction.EGRESS else rep)
        words[tier_decision_words(verdict, str(table.outside.blocks[b].addresses))] = None
        took_part |= bool(verdict.decided_by or verdict.passed or verdict.unknown)
        for ref in (*verdict.passed, *((verdict.decided_by,) if verdict.decided_by else ())):
            refs[ref] = None
    return (tuple(words), tuple(refs)) if took_part else ((), ())


def _undecided(engine: Engine, table: ExposureTable, endpoints: Sequence[Endpoint],
               names: dict[str, list[str]]) -> tuple[UndecidedOpening, ...]:
    """The cells with the outside that a nodes or domainNames peer may change, as lines:
    endpoints of one namespace with the same cells, answer and rules share one."""
    if not offline_rules(engine.cluster):
        return ()
    outside = table.outside
    hosts = [ExternalHost(b.representative) for b in outside.blocks]
    block_of = {str(b.representative): i for i, b in enumerate(outside.blocks)}
    port_of = {r.representative: k for k, r in enumerate(table.ports)}
    cells = undecided_cells(engine.evaluator, endpoints, hosts, list(port_of))
    per: dict[tuple[str, Direction, bool, tuple[ClusterRuleRef, ...]],
              dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for cell in cells:
        inbound = cell.src in block_of  # from an outside address to the pod
        pod, host = (cell.dst, cell.src) if inbound else (cell.src, cell.dst)
        direction = Direction.INGRESS if inbound else Direction.EGRESS
        per[(pod, direction, cell.allowed, cell.rules)][port_of[cell.port]].add(block_of[host])
    lines: dict[tuple[Direction, str, tuple[int, ...], tuple[int, ...], bool,
                      tuple[ClusterRuleRef, ...]], list[str]] = defaultdict(list)
    for (pod, direction, allowed, rules), by_port in per.items():
        same: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for k, found in sorted(by_port.items()):
            same[tuple(sorted(found))].append(k)
        for where, port_list in same.items():
            lines[(direction, pod.split("/", 1)[0], where, tuple(port_list), allowed,
                   rules)].append(pod)
    out = []
    for (direction, ns, where, at, allowed, rules), pods in sorted(lines.items(), key=lambda kv: (
            kv[0][0].word, kv[0][1], kv[1][0])):
        members = sorted(p.split("/", 1)[1] for p in pods)
        out.append(UndecidedOpening(direction, ns, tuple(sorted(pods)),
                                    group_label(ns, members, sorted(names[ns])),
                                    outside.union(where), tuple(table.ports[k] for k in at),
                                    allowed, rules))
    return tuple(out)


def _shows(view: View, ep: Endpoint, direction: Direction) -> bool:
    """The pod end of an outside connection is in view (outside hosts match no selector)."""
    if not view.is_subject(ep):
        return False
    if direction is Direction.INGRESS:
        return view.sources is None and view.is_destination(ep)
    return view.destinations is None and view.is_source(ep)


def _rule_meets(rule: Rule, table: ExposureTable, blocks: tuple[int, ...],
                ports: tuple[PortRange, ...], pod: Endpoint, direction: Direction) -> bool:
    """Whether the rule admits some (block, port range) of the line (see module doc)."""
    if rule.peers:
        outside = table.outside
        if not any(p.ip_block is not None
                   and any(outside.blocks[b].representative in p.ip_block.cidr
                           and p.ip_block.contains(outside.blocks[b].representative)
                           for b in blocks)
                   for p in rule.peers):
            return False
    if not rule.ports:
        return True
    destination = pod if direction is Direction.INGRESS else ExternalHost(
        table.outside.blocks[blocks[0]].representative)
    return any(port_matches(pp, r.representative, destination)
               for pp in rule.ports for r in ports)


def _order(key: str) -> tuple[str, str]:
    ns, _, name = key.partition("/")
    return ns, name


def group_label(ns: str, members: Sequence[str], everyone: Sequence[str]) -> str:
    """`ns/name`; `ns/*` (all of the namespace); `ns/prefix*` when exactly these names start
    so; `ns/{a,b}` when few; else the first few and how many (all are in -o json)."""
    if len(members) == 1:
        return f"{ns}/{members[0]}"
    if len(members) == len(everyone):
        return f"{ns}/*"
    first, last = members[0], members[-1]
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    if prefix and sum(1 for e in everyone if e.startswith(prefix)) == len(members):
        return f"{ns}/{prefix}*"
    if len(members) <= _BRACE_LIMIT:
        return f"{ns}/{{{','.join(members)}}}"
    return f"{ns}/{{{','.join(members[:3])},…}} ({len(members)} endpoints)"


# -- the summary of a big view ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamespaceExposure:
    """One namespace, one direction: how many endpoints in view have an opening, to where."""

    direction: Direction
    namespace: str
    endpoints: int
    addresses: AddressSet
    ports: tuple[PortRange, ...]
    implied: tuple[str, ...] = ()  # implied endpoints among them (kube-dns)


def per_namespace(result: Exposure) -> list[NamespaceExposure]:
    out: list[NamespaceExposure] = []
    for direction in (Direction.INGRESS, Direction.EGRESS):
        grouped: dict[str, list[Opening]] = defaultdict(list)
        for o in result.of(direction):
            grouped[o.namespace].append(o)
        for ns in sorted(grouped):
            items = grouped[ns]
            endpoints = {k for o in items for k in o.endpoints}
            addresses = AddressSet()
            ports: set[PortRange] = set()
            for o in items:
                addresses = addresses.union(o.addresses)
                ports.update(o.ports)
            implied = tuple(sorted({k for o in items for k in o.implied}))
            out.append(NamespaceExposure(direction, ns, len(endpoints), addresses,
                                         tuple(sorted(ports)), implied))
    return out
