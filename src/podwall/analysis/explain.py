"""`explain`: every policy and every endpoint, in plain words, from the engine's answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podwall.analysis import wording
from podwall.engine import Engine, Matrix, default_ports, selector_matches
from podwall.model import Direction, Endpoint, NetworkPolicy


@dataclass(frozen=True, slots=True)
class PolicyExplanation:
    policy: NetworkPolicy
    selects: tuple[str, ...]
    rules: tuple[tuple[Direction, int, str], ...]

    def to_json(self) -> dict[str, Any]:
        p = self.policy
        return {
            "policy": p.key,
            "source": str(p.source) if p.source else None,
            "scope": wording.policy_scope_words(p),
            "selects": list(self.selects),
            "isolates": sorted(d.word for d in p.policy_types),
            "policyTypesGiven": p.policy_types_given,
            "rules": [{"direction": d.word, "index": i, "admits": text}
                      for d, i, text in self.rules],
        }


@dataclass(frozen=True, slots=True)
class EndpointExplanation:
    endpoint: Endpoint
    isolated_by: dict[Direction, tuple[str, ...]]
    reachable_from: dict[str, tuple[str, ...]]  # port -> sources
    reaches: dict[str, tuple[str, ...]]  # port -> destinations

    def to_json(self) -> dict[str, Any]:
        ep = self.endpoint
        return {
            "endpoint": ep.key,
            "kind": ep.kind,
            "ip": str(ep.ip) if ep.ip else None,
            "labels": dict(ep.labels.items_sorted),
            "isolatedBy": {d.word: list(v) for d, v in self.isolated_by.items()},
            "reachableFrom": {k: list(v) for k, v in self.reachable_from.items()},
            "reaches": {k: list(v) for k, v in self.reaches.items()},
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    policies: tuple[PolicyExplanation, ...]
    endpoints: tuple[EndpointExplanation, ...]

    def to_json(self) -> dict[str, Any]:
        return {"policies": [p.to_json() for p in self.policies],
                "endpoints": [e.to_json() for e in self.endpoints]}


def explain(engine: Engine) -> Explanation:
    cluster = engine.cluster
    policies = explain_policies(engine)
    ports = default_ports(cluster)
    matrix = engine.matrix(ports)
    endpoints = tuple(_endpoint(engine, matrix, i, ep) for i, ep in enumerate(cluster.endpoints))
    return Explanation(policies, endpoints)


def explain_policies(engine: Engine) -> tuple[PolicyExplanation, ...]:
    """Per policy: what it selects and what each rule admits (cheap at any size)."""
    cluster = engine.cluster
    selected: dict[str, list[str]] = {p.key: [] for p in cluster.policies}
    for ep in cluster.endpoints:
        for policy in engine.evaluator.policies_in(ep.namespace):
            if selector_matches(policy.pod_selector, ep.labels):
                selected[policy.key].append(ep.key)
    return tuple(
        PolicyExplanation(
            p, tuple(selected[p.key]),
            tuple((d, i, wording.rule_words(r, d, p.namespace))
                  for d in (Direction.INGRESS, Direction.EGRESS) if d in p.policy_types
                  for i, r in enumerate(p.rules(d))))
        for p in cluster.policies)


def _endpoint(engine: Engine, matrix: Matrix, index: int, ep: Endpoint) -> EndpointExplanation:
    isolated = {d: tuple(p.key for p in engine.selecting(ep, d)) for d in Direction}
    reachable_from: dict[str, tuple[str, ...]] = {}
    reaches: dict[str, tuple[str, ...]] = {}
    names = matrix.endpoints
    for port in matrix.ports:
        reachable_from[str(port)] = tuple(
            names[j] for j in range(len(names))
            if j != index and matrix.is_allowed(port, j, index))
        reaches[str(port)] = tuple(
            names[j] for j in range(len(names))
            if j != index and matrix.is_allowed(port, index, j))
    return EndpointExplanation(ep, isolated, reachable_from, reaches)


def explanation_text(explanation: Explanation) -> str:
    out: list[str] = []
    total = len(explanation.endpoints)
    out.append(f"Policies ({len(explanation.policies)})")
    if not explanation.policies:
        out.append("  none: every endpoint may reach every other on every port")
    for pe in explanation.policies:
        p = pe.policy
        where = f"  [{p.source}]" if p.source else ""
        out.append(f"\n{p.key}{where}")
        selected = ", ".join(pe.selects) if pe.selects else "nothing in the input"
        out.append(f"  applies to {wording.policy_scope_words(p)}: {selected}")
        out.append(f"  isolates {wording.isolation_words(p)}")
        for direction in (Direction.INGRESS, Direction.EGRESS):
            if direction not in p.policy_types:
                continue
            rules = [r for r in pe.rules if r[0] is direction]
            if not rules:
                out.append(f"  {direction.word}: no rules, so it admits nothing "
                           f"({direction.word} deny)")
            for _, i, text in rules:
                out.append(f"  {direction.word}[{i}] admits {text}")
    out.append(f"\nEndpoints ({total})")
    for ee in explanation.endpoints:
        ep = ee.endpoint
        out.append(f"\n{ep.key}  ({ep.kind}, {ep.ip}, {ep.labels or 'no labels'})")
        for direction in (Direction.INGRESS, Direction.EGRESS):
            by = ee.isolated_by[direction]
            state = (f"isolated by {', '.join(by)}" if by
                     else "not isolated: allows everything")
            out.append(f"  {direction.word}: {state}")
        for title, table in (("reachable from", ee.reachable_from), ("reaches", ee.reaches)):
            for port, peers in table.items():
                if len(peers) == total - 1:
                    who = "every other endpoint"
                elif not peers:
                    who = "nothing"
                else:
                    who = ", ".join(peers)
                out.append(f"  {title} on {port}: {who}")
    return "\n".join(out) + "\n"
