"""`report`: everything a reviewer needs in one offline HTML page, precomputed here.

The page (rendered by `podwall.analysis.render.html`) shows the connectivity picture, lets one
click a box to see what it reaches and what reaches it, per port, and why; the matrix; lint
findings; and every policy in plain words. The browser only looks things up: every verdict comes
from the engine's matrix, every reason from the policies' rules, compiled here once.

Reasons are stored per *side* (egress at the source, ingress at the destination), because a side's
answer depends only on the subject's selecting policies (and, for ingress, on its own container
ports, which resolve named ports), not on the subject itself. So the data is:

- `classes`: engine endpoint classes in picture order, each pointing at its egress side and its
  ingress side (-1: not isolated, allows everything) and the policies that isolate it;
- `sides`: per side, per port, the index of a `row`;
- `rows`: which peer classes a side admits on a port, and by which rules: a list of
  `[rule-set index, "0-4,9"]` (ranges of class indices; classes of one namespace are contiguous,
  so selections by namespace compress well). A class in no range is not admitted;
- `boxes`: the picture's nodes, each a list of classes that connect identically.
- `classes[k].noPort`: (only when a --port is a name) the indices of named ports that class
  has no container port for: nothing reaches it by that name, whatever its sides say.

The verdict of `s -> d` on a port is "the egress side of s admits d AND the ingress side of d
admits s" (the definition of a connection); the page combines the two lookups and nothing else.
Tests hold this data to `Engine.check` on every pair.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podwall.analysis import wording
from podwall.analysis.explain import PolicyExplanation, explain_policies
from podwall.analysis.exposure import Exposure, exposure
from podwall.analysis.graph import (
    Boxes,
    ConnectivityGraph,
    boxes,
    build_graph,
    class_layout,
    port_sides,
)
from podwall.analysis.overview import Overview, build_overview, namespace_picture
from podwall.analysis.services import ServiceSummary, service_summaries
from podwall.engine import Engine, Matrix, RuleRef
from podwall.engine.classes import BoolArray, EndpointClasses
from podwall.engine.named import numbers_of
from podwall.engine.tiermatrix import CellDecision, TierRows, cell_decisions
from podwall.engine.verdict import DirectionVerdict
from podwall.model import (
    Direction,
    Endpoint,
    NamedPortQuery,
    NetworkPolicy,
    PolicyPort,
    Port,
    PortQuery,
    Rule,
)


@dataclass(frozen=True, slots=True)
class LintRow:
    """One lint finding as the report shows it (whatever the lint module's own type is)."""

    id: str
    severity: str
    object: str
    file: str
    line: int | None
    message: str
    fix: str


#: The page opens on the whole picture up to this many boxes, on the namespace overview above
#: (at 1,000 pods the whole picture has ~100 boxes and ~400 arrows: a tangle), and leaves the
#: whole picture out altogether above WHOLE_MAX (Graphviz takes minutes and nobody reads it).
OPEN_WHOLE_MAX, WHOLE_MAX = 40, 150

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Report:
    title: str
    graph: ConnectivityGraph
    data: dict[str, Any]
    policies: tuple[PolicyExplanation, ...]
    lint: tuple[LintRow, ...] | None  # None: lint is not available in this build
    counts: dict[str, int] = field(default_factory=dict)
    policy_classes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    overview: Overview | None = None
    namespace_pictures: tuple[ConnectivityGraph, ...] = ()  # per namespace, overview order
    audit_view: bool = False  # drawn with audited policies enforced (report --audit)
    services: tuple[ServiceSummary, ...] | None = None  # --services: Services after DNAT
    exposure: Exposure | None = None  # what each endpoint accepts from / opens to the outside

    @property
    def draws_whole(self) -> bool:
        return self.counts.get("boxes", 0) <= WHOLE_MAX

    @property
    def opens_on(self) -> str:
        """`whole` (the whole picture) or `overview` (namespaces first)."""
        return "whole" if self.counts.get("boxes", 0) <= OPEN_WHOLE_MAX else "overview"

    def to_json(self) -> dict[str, Any]:
        """The report's model (`podwall report -o json`): what the page shows, as data."""
        return {
            "title": self.title,
            "counts": dict(self.counts),
            "opensOn": self.opens_on,
            "overview": self.overview.to_json() if self.overview is not None else None,
            "graph": self.graph.to_json(),
            "lint": None if self.lint is None else [
                {"id": f.id, "severity": f.severity, "object": f.object, "file": f.file,
                 "line": f.line, "message": f.message, "fix": f.fix} for f in self.lint],
            "policies": [pe.to_json() for pe in self.policies],
            "exposure": None if self.exposure is None else self.exposure.to_json(),
            "data": self.data,
            **({"services": [s.to_json() for s in self.services]}
               if self.services is not None else {}),
        }


def build_report(engine: Engine, *, ports: Sequence[Port] | None = None,
                 title: str = "podwall report",
                 lint: Sequence[LintRow] | None = None, services: bool = False) -> Report:
    """Compute everything the page shows. `lint=None` means lint is unavailable; `services`
    adds each Service port as a destination after its DNAT."""
    matrix = engine.matrix(ports)
    groups = boxes(engine, matrix, class_layout(engine, matrix))
    graph = build_graph(engine, matrix=matrix, groups=groups)
    # audited policies (podwall.io/enforcement: audit) are listed too, marked, as explain does
    policies = explain_policies(Engine(engine.cluster.audit_view()) if engine.cluster.audited
                                else engine)
    data = report_data(engine, matrix, groups, graph)
    layout = groups.layout
    policy_classes = {
        pe.policy.key: tuple(sorted({layout.class_of_endpoint[k] for k in pe.selects}))
        for pe in policies}
    counts = {
        "namespaces": len({ep.namespace for ep in engine.cluster.endpoints}),
        "endpoints": len(engine.cluster.endpoints),
        "classes": layout.size,
        "boxes": groups.size,
        "policies": len(engine.cluster.policies),
        "ports": len(matrix.ports),
    }
    overview = build_overview(matrix, groups)
    pictures = tuple(namespace_picture(graph, k) for k in range(len(graph.namespaces)))
    return Report(title, graph, data, policies, sort_lint(lint) if lint is not None else None,
                  counts, policy_classes, overview, pictures,
                  services=service_summaries(engine, ports) if services else None,
                  audit_view=not engine.cluster.audited and any(
                      p.audited for p in engine.cluster.policies),
                  exposure=exposure(engine.cluster))


def sort_lint(rows: Sequence[LintRow]) -> tuple[LintRow, ...]:
    """Errors first, then warnings, then the rest; by file and line within each."""
    return tuple(sorted(rows, key=lambda r: (_SEVERITY_ORDER.get(r.severity.lower(), 3),
                                             r.file, r.line or 0, r.id, r.object)))


# -- lint, when it is there ---------------------------------------------------------------------


def lint_rows(findings: Sequence[Any]) -> tuple[LintRow, ...]:
    """Findings of `podwall.analysis.lint` (id, severity, object, file, line, message, fix)."""
    rows: list[LintRow] = []
    for f in findings:
        line = getattr(f, "line", None)
        rows.append(LintRow(
            str(getattr(f, "id", "") or ""), str(getattr(f, "severity", "") or ""),
            str(getattr(f, "object", getattr(f, "obj", "")) or ""),
            str(getattr(f, "file", "") or ""), line if isinstance(line, int) else None,
            str(getattr(f, "message", "") or ""), str(getattr(f, "fix", "") or "")))
    return tuple(rows)


def lint_function() -> Callable[..., Any] | None:
    """`podwall.analysis.lint.lint`, or None when this build has no lint module."""
    try:
        module = importlib.import_module("podwall.analysis.lint")
    except ImportError:
        return None
    found = getattr(module, "lint", None)
    return found if callable(found) else None


# -- the data the page looks up -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    ref: int  # index into the `rules` table
    peers: BoolArray  # over classes in picture order
    ports: tuple[PolicyPort, ...]


def report_data(engine: Engine, matrix: Matrix, groups: Boxes,
                graph: ConnectivityGraph) -> dict[str, Any]:
    cluster = engine.cluster
    layout = groups.layout
    size = layout.size
    universe = EndpointClasses(cluster)
    n = len(cluster.endpoints)
    if not np.array_equal(universe.class_of[:n], matrix.class_of[:n]):
        raise AssertionError("report: endpoint classes differ from the matrix")
    picture_of = np.full(universe.size, -1, dtype=np.int64)  # engine class -> picture order
    picture_of[layout.order] = np.arange(size, dtype=np.int64)

    policy_index = {p.key: i for i, p in enumerate(cluster.policies)}
    rule_refs: list[str] = []
    rule_objs: list[RuleRef] = []
    compiled: dict[tuple[int, Direction], list[_CompiledRule]] = {}
    for pid, policy in enumerate(cluster.policies):
        for direction in Direction:
            compiled_rules: list[_CompiledRule] = []
            for index, rule in enumerate(policy.rules(direction)):
                peers = _peers(universe, picture_of, size, policy, rule)
                compiled_rules.append(_CompiledRule(len(rule_refs), peers, rule.ports))
                rule_refs.append(str(RuleRef(policy.key, direction, index)))
                rule_objs.append(RuleRef(policy.key, direction, index))
            compiled[(pid, direction)] = compiled_rules

    rule_sets: dict[tuple[int, ...], int] = {}
    rows: dict[str, int] = {}
    row_list: list[list[list[Any]]] = []
    sides: dict[tuple[Any, ...], int] = {}
    side_list: list[list[int]] = []
    classes_json: list[dict[str, Any]] = []
    side_rows = {port: port_sides(matrix, port, layout.order) for port in matrix.ports}

    def row_index(admitted: dict[int, tuple[int, ...]]) -> int:
        by_set: dict[int, list[int]] = defaultdict(list)
        for peer, refs in sorted(admitted.items()):
            sid = rule_sets.setdefault(refs, len(rule_sets))
            by_set[sid].append(peer)
        row = [[sid, _ranges(peers)] for sid, peers in sorted(by_set.items())]
        key = repr(row)
        if key not in rows:
            rows[key] = len(row_list)
            row_list.append(row)
        return rows[key]

    # Sides a cluster policy applies to: per port, which rule decided each peer, worded as
    # `check` words it (engine.tiermatrix.cell_decisions), with `{peer}` for the page to fill
    tier_rows = TierRows(universe, cluster.cluster_policies) if cluster.cluster_policies else None
    tier_sides: dict[tuple[Any, ...], int] = {}
    tier_side_list: list[list[int]] = []
    tier_texts: dict[str, int] = {}
    tier_row_ids: dict[str, int] = {}
    tier_row_list: list[list[list[Any]]] = []

    def tier_row(k: int, ep: Endpoint, direction: Direction, port: Port, sides_of: Any,
                 isolating: list[str]) -> int:
        """The page's row of decisions for picture class k's side at `port` (-1: none)."""
        assert tier_rows is not None
        if isinstance(port, NamedPortQuery):
            number = port.resolve(ep.ports) if direction is Direction.INGRESS else None
            if number is None:  # an egress named port resolves per peer: the rules say it
                return -1
            port = number
        picture_row = (sides_of.egress[k] if direction is Direction.EGRESS
                       else sides_of.ingress[k])
        final = np.zeros(universe.size, dtype=np.bool_)
        final[layout.order] = picture_row
        codes, decisions = cell_decisions(tier_rows, direction, port, int(layout.order[k]),
                                          final, bool(isolating))
        codes = codes[layout.order]
        np_rules = [r for pid in (policy_index[key] for key in isolating)
                    for r in compiled[(pid, direction)]]
        admitted = _admitted(universe, picture_of, np_rules, port, direction, k,
                             np.asarray(picture_row)) if isolating else {}
        by_text: dict[int, list[int]] = defaultdict(list)

        def word(d: CellDecision, refs: tuple[RuleRef, ...]) -> int:
            verdict = DirectionVerdict(direction, ep.key, d.allowed,
                                       isolated_by=tuple(isolating), admitted_by=refs,
                                       tier=d.tier, decided_by=d.rule, passed=d.passed)
            text = wording.tier_decision_words(verdict, "{peer}")
            return tier_texts.setdefault(text, len(tier_texts))

        for c, d in enumerate(decisions):
            peers = np.flatnonzero(codes == c).tolist()
            if d.tier == "networkpolicy" and d.allowed:  # the admitting rules, per peer
                for peer in peers:
                    by_text[word(d, tuple(rule_objs[i] for i in admitted.get(peer, ())))
                            ].append(peer)
            elif peers:
                by_text[word(d, ())].extend(peers)
        row = [[tid, _ranges(sorted(peers))] for tid, peers in sorted(by_text.items())]
        found = repr(row)
        if found not in tier_row_ids:
            tier_row_ids[found] = len(tier_row_list)
            tier_row_list.append(row)
        return tier_row_ids[found]

    for k in range(size):
        ep = layout.members[k][0]
        entry: dict[str, Any] = {"stem": layout.stems[k],
                                 "members": [e.key for e in layout.members[k]],
                                 "labels": str(ep.labels)}
        implied = [e.key for e in layout.members[k] if e.implied]
        if implied:  # components the input did not carry (kube-dns): marked in the panel
            entry["implied"] = implied
        lacking = [p for p, port in enumerate(matrix.ports)
                   if isinstance(port, NamedPortQuery) and port.resolve(ep.ports) is None]
        if lacking:  # named ports it has no container port for: nothing reaches it by them
            entry["noPort"] = lacking
        for direction, name in ((Direction.EGRESS, "out"), (Direction.INGRESS, "in")):
            selecting = engine.selecting(ep, direction)
            entry["iso" + name.capitalize()] = [policy_index[p.key] for p in selecting]
            tiers = engine.tiers_applying(ep, direction)  # cluster policies: not simply open
            pids = tuple(policy_index[p.key] for p in selecting)
            key: tuple[Any, ...] = (direction, pids, ep.ports if direction is Direction.INGRESS
                                    else (), tiers, ep.namespace if tiers else "")
            if tier_rows is not None:  # with cluster policies, check words every side so
                if key not in tier_sides:
                    tier_sides[key] = len(tier_side_list)
                    tier_side_list.append([tier_row(k, ep, direction, port, side_rows[port],
                                                    [p.key for p in selecting])
                                           for port in matrix.ports])
                entry["tier" + name.capitalize()] = tier_sides[key]
            if not selecting and not tiers:
                entry[name] = -1
                continue
            if key not in sides:
                per_port: list[int] = []
                for port in matrix.ports:
                    engine_row = (side_rows[port].egress[k] if direction is Direction.EGRESS
                                  else side_rows[port].ingress[k])
                    rules = [r for pid in pids for r in compiled[(pid, direction)]]
                    per_port.append(row_index(_admitted(
                        universe, picture_of, rules, port, direction, k, engine_row)))
                sides[key] = len(side_list)
                side_list.append(per_port)
            entry[name] = sides[key]
        classes_json.append(entry)

    namespaces = sorted({layout.namespace(i) for i in range(size)})
    ns_index = {name: i for i, name in enumerate(namespaces)}
    boxes_json = [{
        "id": f"n{b}",
        "ns": ns_index[groups.namespace(b)],
        "label": groups.labels[b],
        "classes": list(groups.classes[b]),
    } for b in range(groups.size)]
    return {
        "ports": [str(p) for p in matrix.ports],
        "namespaces": namespaces,
        "policies": [p.key for p in cluster.policies],
        "rules": rule_refs,
        "ruleSets": [list(refs) for refs in rule_sets],
        "rows": row_list,
        "sides": side_list,
        "classes": classes_json,
        "boxes": boxes_json,
        "tierSides": tier_side_list,
        "tierRows": tier_row_list,
        "tierTexts": list(tier_texts),
        "phrases": dict(wording.SIDE_PHRASES),
        "words": {"openIn": wording.OPEN_IN, "openOut": wording.OPEN_OUT},
    }


def _peers(universe: EndpointClasses, picture_of: np.ndarray[Any, Any], size: int,
           policy: NetworkPolicy, rule: Rule) -> BoolArray:
    mask = np.zeros(size, dtype=np.bool_)
    if not rule.peers:
        mask[:] = True
        return mask
    for peer in rule.peers:
        ids = picture_of[universe.peer(policy.namespace, peer)]
        mask[ids[ids >= 0]] = True
    return mask


def _port_match(universe: EndpointClasses, picture_of: np.ndarray[Any, Any], size: int,
                ports: tuple[PolicyPort, ...], port: Port) -> BoolArray | bool:
    """True (every destination), False (none), or the destination classes (named ports)."""
    if not ports:
        return True
    if isinstance(port, NamedPortQuery):  # at each destination, the number it gives the name
        number_of = numbers_of([key.ports for key in universe.keys], port)
        out = np.zeros(size, dtype=np.bool_)
        for n in sorted(set(number_of[number_of >= 0].tolist())):
            dest = picture_of[np.flatnonzero(number_of == n)]
            dest = dest[dest >= 0]
            match = _port_match(universe, picture_of, size, ports, PortQuery(port.protocol, n))
            if match is True:
                out[dest] = True
            elif match is not False:
                out[dest] |= match[dest]
        return out if out.any() else False
    named = np.zeros(size, dtype=np.bool_)
    for pp in ports:
        if pp.protocol is not port.protocol:
            continue
        if pp.port is None or (isinstance(pp.port, int)
                               and pp.port <= port.port <= (pp.end_port or pp.port)):
            return True
        if isinstance(pp.port, str):
            ids = picture_of[universe.with_named_port(pp.port, port.protocol, port.port)]
            named[ids[ids >= 0]] = True
    return named if named.any() else False


def _admitted(universe: EndpointClasses, picture_of: np.ndarray[Any, Any],
              rules: list[_CompiledRule], port: Port, direction: Direction, subject: int,
              engine_row: BoolArray) -> dict[int, tuple[int, ...]]:
    """peer class -> the rules admitting it, for the peers the engine says this side admits."""
    size = len(engine_row)
    hits: list[tuple[int, BoolArray]] = []
    for rule in rules:
        match = _port_match(universe, picture_of, size, rule.ports, port)
        if match is False:
            continue
        if match is True:
            hits.append((rule.ref, rule.peers))
        elif direction is Direction.EGRESS:
            hits.append((rule.ref, rule.peers & match))  # named ports resolve at the peer
        elif match[subject]:
            hits.append((rule.ref, rule.peers))  # ... which for ingress is the subject
    peers = np.flatnonzero(engine_row).tolist()
    if not hits:  # only if the engine and these rules disagree (tests say they never do)
        return {peer: () for peer in peers}
    table = np.stack([mask for _, mask in hits])
    refs = [ref for ref, _ in hits]
    return {peer: tuple(refs[i] for i in np.flatnonzero(table[:, peer]).tolist())
            for peer in peers}


def _ranges(values: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> "0-2,5,7-8"."""
    spans: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], -2]:
        if v == prev + 1:
            prev = v
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = v
    return ",".join(spans)
