"""A truth-table harness in the spirit of the Kubernetes e2e `Reachability` helper.

The cluster is the e2e one: namespaces x, y, z (label `ns`), pods a, b, c in each (label `pod`),
every pod serving 80 and 81 over TCP, UDP and SCTP on ports named `serve-<port>-<proto>`.
Expectations start from "everything allowed"; a case edits them, then `assert_matches` compares
them with BOTH the scalar `check` and the vectorised `matrix`, printing both tables on failure.
"""

from __future__ import annotations

import itertools
import textwrap

from podwall.engine import Engine
from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.model import PortQuery, Protocol

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
PROTOCOLS = ("TCP", "UDP", "SCTP")
ENDPOINTS = tuple(f"{ns}/{pod}" for ns in NAMESPACES for pod in PODS)


def pod_ip(endpoint: str) -> str:
    ns, pod = endpoint.split("/")
    return f"10.0.{NAMESPACES.index(ns) + 1}.{PODS.index(pod) + 1}"


def cluster_yaml() -> str:
    docs = []
    for ns in NAMESPACES:
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
                    f"  labels: {{ns: {ns}}}\n")
        for pod in PODS:
            ports = "".join(
                f"        - {{name: serve-{port}-{proto.lower()}, containerPort: {port}, "
                f"protocol: {proto}}}\n"
                for port in (80, 81) for proto in PROTOCOLS)
            docs.append(
                f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {pod}\n  namespace: {ns}\n"
                f"  labels: {{pod: {pod}}}\nspec:\n  containers:\n    - name: cont\n"
                f"      image: agnhost\n      ports:\n{ports}"
                f"status:\n  podIP: {pod_ip(f'{ns}/{pod}')}\n")
    return "---\n".join(docs)


def policy_yaml(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


class Reachability:
    """Expected verdicts for one port over ENDPOINTS plus any outside hosts."""

    def __init__(self, port: str, default: bool = True, externals: tuple[str, ...] = ()) -> None:
        self.port = PortQuery.parse(port)
        self.names = ENDPOINTS + externals
        self.table = {(s, d): default or s == d for s in self.names for d in self.names}

    def expect(self, src: str, dst: str, allowed: bool) -> Reachability:
        if src != dst:
            self.table[(src, dst)] = allowed
        return self

    def expect_all_ingress(self, dst: str, allowed: bool) -> Reachability:
        for src in self.names:
            self.expect(src, dst, allowed)
        return self

    def expect_all_egress(self, src: str, allowed: bool) -> Reachability:
        for dst in self.names:
            self.expect(src, dst, allowed)
        return self

    def render(self, table: dict[tuple[str, str], bool]) -> str:
        width = max(len(n) for n in self.names)
        head = " " * (width + 1) + " ".join(n.rjust(width) for n in self.names)
        rows = [head] + [
            src.ljust(width) + " " + " ".join(
                ("." if table[(src, dst)] else "X").rjust(width) for dst in self.names)
            for src in self.names]
        return "\n".join(rows)


def engine_for(policies: str, *, shuffle_seed: int | None = None) -> Engine:
    docs = [policy_yaml(p) for p in policies.split("\n---\n") if p.strip()]
    if shuffle_seed is not None:
        import random
        random.Random(shuffle_seed).shuffle(docs)
    text = cluster_yaml() + "---\n" + "---\n".join(docs) if docs else cluster_yaml()
    result = load_cluster(["-"], stdin_text=text)
    errors = [str(d) for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, errors
    return Engine(result.cluster)


def assert_matches(engine: Engine, expected: Reachability) -> None:
    externals = [n for n in expected.names if "/" not in n]
    matrix = engine.matrix([expected.port], externals=externals)
    assert matrix.endpoints == expected.names
    by_check = {(s, d): engine.check(s, d, expected.port).allowed
                for s, d in itertools.product(expected.names, repeat=2)}
    by_matrix = {(s, d): matrix.is_allowed(expected.port, i, j)
                 for (i, s), (j, d) in itertools.product(enumerate(expected.names), repeat=2)}
    for actual, how in ((by_check, "check"), (by_matrix, "matrix")):
        if actual != expected.table:
            wrong = [f"{s} -> {d}: expected {expected.table[(s, d)]}"
                     for (s, d) in expected.table if actual[(s, d)] != expected.table[(s, d)]]
            raise AssertionError(
                f"{how} disagrees on {expected.port} ({len(wrong)} pairs: {wrong[:6]})\n"
                f"expected:\n{expected.render(expected.table)}\n"
                f"actual ({how}):\n{expected.render(actual)}")


def tcp(port: int) -> PortQuery:
    return PortQuery(Protocol.TCP, port)
