"""A truth-table harness in the spirit of the Kubernetes e2e `Reachability` helper.

The cluster is the e2e one: namespaces x, y, z (label `ns: <name>`, plus the
`kubernetes.io/metadata.name` label the control plane adds to every namespace, which the loader
must add too), pods a, b, c in each (label `pod: <name>`), every pod serving 80 and 81 over TCP,
UDP and SCTP on container ports named `serve-<port>-<proto>`, and a fixed `status.podIP`
(`x/a` = 10.0.1.1, `x/b` = 10.0.1.2, ..., `y/a` = 10.0.2.1, ...) so that ipBlock cases can aim at
pods.

A case starts from "everything allowed" (`Reachability(port)`), edits the expectation with
`expect`, `expect_all_ingress`, `expect_all_egress` or `expect_peer`, and hands one or more of
them to `assert_matches`, which compares every pair with BOTH the scalar `Engine.check` and the
vectorised `Engine.matrix` (and the matrix's JSON form), and on failure prints the expected and
the actual truth tables and a diff of the two, like the e2e tests do.

Loopback: a pod cannot block access to itself (concepts/services-networking/network-policies,
the list of "entities a Pod can communicate with": "exception: a pod cannot block access to
itself"), so the diagonal stays allowed whatever a case says. The e2e suite ignores loopback
because CNIs disagree (kubernetes#95879); the model follows the documentation.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import random
import textwrap
from collections.abc import Iterable, Sequence

from podwall.engine import Engine
from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.model import PortQuery, Protocol

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
PROTOCOLS = ("TCP", "UDP", "SCTP")
SERVED_PORTS = (80, 81)
ENDPOINTS = tuple(f"{ns}/{pod}" for ns in NAMESPACES for pod in PODS)


# -- the cluster --------------------------------------------------------------------------------

def pod_ip(endpoint: str) -> str:
    """`x/a` -> 10.0.1.1, `y/c` -> 10.0.2.3: namespace index is the third octet, pod the fourth."""
    ns, pod = endpoint.split("/")
    return f"10.0.{NAMESPACES.index(ns) + 1}.{PODS.index(pod) + 1}"


def namespace_yaml(name: str, labels: dict[str, str] | None = None) -> str:
    labels = {"ns": name} if labels is None else labels
    body = "".join(f'    {k}: "{v}"\n' for k, v in labels.items())  # quoted: `y` is true to kubectl
    return f'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "{name}"\n  labels:\n{body}'


def pod_yaml(namespace: str, name: str, ip: str,
             ports: Iterable[tuple[str, int, str]] | None = None,
             labels: dict[str, str] | None = None) -> str:
    """A Pod with one container; `ports` are (name, containerPort, protocol) triples."""
    if ports is None:
        ports = [(f"serve-{port}-{proto.lower()}", port, proto)
                 for port in SERVED_PORTS for proto in PROTOCOLS]
    labels = {"pod": name} if labels is None else labels
    port_lines = "".join(f"        - name: {pname}\n          containerPort: {number}\n"
                         f"          protocol: {proto}\n" for pname, number, proto in ports)
    label_lines = "".join(f'    {k}: "{v}"\n' for k, v in labels.items())
    return (f'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "{name}"\n  namespace: "{namespace}"\n'
            f"  labels:\n{label_lines}spec:\n  containers:\n    - name: cont\n"
            f"      image: registry.k8s.io/e2e-test-images/agnhost:2.53\n"
            f"      ports:\n{port_lines}status:\n  phase: Running\n  podIP: {ip}\n")


@functools.cache
def cluster_yaml() -> str:
    """The shared Namespace/Pod set of every case, as one multi-document YAML text."""
    docs = []
    for ns in NAMESPACES:
        docs.append(namespace_yaml(ns))
        docs.extend(pod_yaml(ns, pod, pod_ip(f"{ns}/{pod}")) for pod in PODS)
    return "---\n".join(docs)


def policy(name: str, namespace: str, spec: str) -> str:
    """A NetworkPolicy document from the YAML text of its spec (any indentation)."""
    body = "\n".join("  " + line for line in textwrap.dedent(spec).strip("\n").splitlines())
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f'metadata:\n  name: "{name}"\n  namespace: "{namespace}"\nspec:\n{body}\n')


def policy_yaml(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


def split_documents(text: str) -> list[str]:
    return [policy_yaml(d) for d in text.split("\n---\n") if d.strip() and d.strip() != "---"]


def engine_for(policies: str | Sequence[str] = "", *, extra: str = "",
               shuffle_seed: int | None = None) -> Engine:
    """Load the shared cluster, `extra` objects and `policies`; fail on any ERROR diagnostic.

    `policies` is YAML text (documents separated by `---` lines) or a list of such texts;
    `shuffle_seed` reorders the policy documents first.
    """
    texts = [policies] if isinstance(policies, str) else list(policies)
    docs = [doc for text in texts for doc in split_documents(text)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(docs)
    parts = [cluster_yaml(), *split_documents(extra), *docs]
    result = load_cluster(["-"], stdin_text="---\n".join(p if p.endswith("\n") else p + "\n"
                                                          for p in parts))
    errors = [str(d) for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, "the case's manifests do not load:\n" + "\n".join(errors)
    return Engine(result.cluster)


# -- expectations -------------------------------------------------------------------------------

def sort_endpoints(names: Iterable[str]) -> tuple[str, ...]:
    """Matrix order: pods by namespace then name."""
    return tuple(sorted(names, key=lambda n: tuple(n.split("/", 1))))


class Reachability:
    """Expected verdicts on one port among the endpoints plus any outside hosts (IP strings).

    The row is the client (source), the column the server (destination).
    """

    def __init__(self, port: str | PortQuery, default: bool = True,
                 externals: Sequence[str] = (), endpoints: Iterable[str] = ENDPOINTS) -> None:
        self.port = port if isinstance(port, PortQuery) else PortQuery.parse(port)
        self.pods = sort_endpoints(endpoints)
        self.externals = tuple(externals)
        self.names = self.pods + self.externals
        self.table = {(s, d): default or s == d for s in self.names for d in self.names}

    def expect(self, src: str, dst: str, allowed: bool) -> Reachability:
        if (src, dst) not in self.table:
            raise KeyError(f"{src} -> {dst} is not in this table ({', '.join(self.names)})")
        if src != dst:  # a pod cannot block access to itself
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

    def expect_peer(self, src: str, dst: str, allowed: bool) -> Reachability:
        """Like e2e `ExpectPeer`: shell patterns over names, `x/*` (a namespace), `*/a`, `*`."""
        sources = [n for n in self.names if fnmatch.fnmatchcase(n, src)]
        targets = [n for n in self.names if fnmatch.fnmatchcase(n, dst)]
        if not sources or not targets:
            raise KeyError(f"pattern {src!r} -> {dst!r} matches nothing")
        for s, d in itertools.product(sources, targets):
            self.expect(s, d, allowed)
        return self

    # -- rendering ------------------------------------------------------------------------
    def render(self, table: dict[tuple[str, str], bool],
               cell: str = "allowed") -> str:
        """Rows are sources, columns destinations; `.` allowed, `X` denied (e2e convention).

        With cell="diff" the table is a comparison with self.table: `.` agrees, `X` differs.
        """
        short = {n: n for n in self.pods} | {h: f"e{k}" for k, h in enumerate(self.externals, 1)}
        row_width = max(len("from \\ to"), *(len(n) for n in self.names))
        width = max(len(v) for v in short.values())
        rows = ["from \\ to".ljust(row_width) + " " + " ".join(short[n].rjust(width)
                                                             for n in self.names)]
        for src in self.names:
            cells = []
            for dst in self.names:
                if cell == "diff":
                    mark = "." if table[(src, dst)] == self.table[(src, dst)] else "X"
                else:
                    mark = "." if table[(src, dst)] else "X"
                cells.append(mark.rjust(width))
            rows.append(src.ljust(row_width) + " " + " ".join(cells))
        rows += [f"(e{k} = {h})" for k, h in enumerate(self.externals, 1)]
        return "\n".join(rows)

    def mismatch_report(self, actual: dict[tuple[str, str], bool], how: str) -> str | None:
        wrong = [(s, d) for (s, d) in self.table if actual[(s, d)] != self.table[(s, d)]]
        if not wrong:
            return None
        pairs = "\n".join(
            f"  {s} -> {d}: expected {'allowed' if self.table[(s, d)] else 'denied'}, "
            f"{how} says {'allowed' if actual[(s, d)] else 'denied'}" for s, d in wrong[:12])
        more = f"\n  ... and {len(wrong) - 12} more" if len(wrong) > 12 else ""
        return (f"{self.port} by {how}: {len(wrong)} of {len(self.table)} pairs differ\n"
                f"{pairs}{more}\n\n"
                f"expected:\n{self.render(self.table)}\n\n"
                f"actual ({how}):\n{self.render(actual)}\n\n"
                f"comparison (X = differs):\n{self.render(actual, cell='diff')}\n")


# -- comparing ----------------------------------------------------------------------------------

def by_check(engine: Engine, expected: Reachability) -> dict[tuple[str, str], bool]:
    return {(s, d): engine.check(s, d, expected.port).allowed
            for s, d in itertools.product(expected.names, repeat=2)}


def assert_matches(engine: Engine, *expectations: Reachability) -> None:
    """Hold every expectation against `check` for each pair and against ONE `matrix` over all
    their ports (and its JSON form). All expectations must share endpoints and externals."""
    assert expectations, "nothing to compare"
    first = expectations[0]
    for other in expectations[1:]:
        assert other.names == first.names, "expectations of one call must share their endpoints"
    ports = list(dict.fromkeys(e.port for e in expectations))
    assert len(ports) == len(expectations), "one expectation per port"
    matrix = engine.matrix(ports, externals=list(first.externals))
    problems = []
    if matrix.endpoints != first.names:
        # the case's endpoint list must be the whole cluster, in the matrix order
        problems.append(f"matrix endpoints {matrix.endpoints} != expected {first.names}")
    else:
        as_json = matrix.to_json()
        assert as_json["endpoints"] == list(first.names)
        assert as_json["ports"] == [str(p) for p in ports]
        for expected in expectations:
            index = list(enumerate(expected.names))
            table = {(s, d): matrix.is_allowed(expected.port, i, j)
                     for (i, s), (j, d) in itertools.product(index, repeat=2)}
            json_table = {(s, d): bool(as_json["allowed"][str(expected.port)][i][j])
                          for (i, s), (j, d) in itertools.product(index, repeat=2)}
            for actual, how in ((table, "matrix"), (json_table, "matrix.to_json()")):
                report = expected.mismatch_report(actual, how)
                if report:
                    problems.append(report)
                    break
    for expected in expectations:
        report = expected.mismatch_report(by_check(engine, expected), "check")
        if report:
            problems.append(report)
    if problems:
        raise AssertionError("\n".join(problems))


def tcp(port: int) -> PortQuery:
    return PortQuery(Protocol.TCP, port)


def udp(port: int) -> PortQuery:
    return PortQuery(Protocol.UDP, port)


def sctp(port: int) -> PortQuery:
    return PortQuery(Protocol.SCTP, port)
