"""netpol-analyzer's `list` output as an oracle: parse it, and compute podwall's answer in its form.

np-guard/netpol-analyzer (`k8snetlint list`) prints one line per connected pair:

    ns1/pod1[Deployment] => 104.154.164.170-104.154.164.170[External] : TCP 8080,UDP 5000-6000

Workloads are `ns/name[Kind]`; addresses outside the cluster are IPv4 ranges `first-last` (newer
versions add `[External]`), cut at the boundaries of every `networks`/`ipBlock` in the input;
the connection set is `All Connections`, `All but: CONNS`, or `PROTO RANGES,PROTO RANGES` (a
protocol token, then its port ranges, comma-separated). A pair that is not listed has no
connection; a workload to itself is never listed.

podwall's side is computed without podwall's own partitions (engine.outside), so that the
comparison can catch them: port numbers are cut at every number that a container port or a
policy port (NetworkPolicy and cluster policy) starts or ends at, and the address space at
every boundary of the expected file's ranges; the verdict is constant on each piece, and one
`Engine.matrix` answers every (pair, port) at once, outside hosts included (both ends of each
piece of the address space are asked).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from podwall.analysis.exposure import Opening, exposure
from podwall.engine import Engine
from podwall.errors import Severity
from podwall.manifests import load_cluster
from podwall.model import Cluster, Direction, PortQuery, Protocol

MAX_PORT = 65535
TOP = 1 << 32

Intervals = tuple[tuple[int, int], ...]  # sorted, merged, inclusive
Conns = dict[Protocol, Intervals]  # protocols with no port absent

ALL: Conns = {p: ((1, MAX_PORT),) for p in Protocol}

_RANGE = re.compile(r"^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)(\[External\])?$")
_WORKLOAD = re.compile(r"^([^/\s]+)/([^\[\s]+)\[([A-Za-z]+)\]$")


@dataclass(frozen=True, slots=True)
class Workload:
    namespace: str
    name: str
    kind: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Addresses:
    first: int  # IPv4 as an integer
    last: int


Peer = Workload | Addresses


def merge(spans: Iterable[tuple[int, int]]) -> Intervals:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return tuple(out)


def parse_peer(text: str) -> Peer:
    text = text.strip()
    m = _RANGE.match(text)
    if m:
        return Addresses(int(ipaddress.IPv4Address(m[1])), int(ipaddress.IPv4Address(m[2])))
    m = _WORKLOAD.match(text)
    if not m:
        raise ValueError(f"not a netpol-analyzer peer: {text!r}")
    return Workload(m[1], m[2], m[3])


def parse_conns(text: str) -> Conns:
    """`All Connections`, `All but: UDP 80`, `TCP 8080,UDP 80,5000-6000`, `No Connections`."""
    text = text.strip()
    if text == "All Connections":
        return dict(ALL)
    if text == "No Connections":
        return {}
    if text.startswith("All but:"):
        return complement(parse_conns(text[len("All but:"):]))
    out: dict[Protocol, list[tuple[int, int]]] = {}
    current: Protocol | None = None
    for item in text.split(","):
        item = item.strip()
        if item[:1].isalpha():
            proto, _, item = item.partition(" ")
            current = Protocol(proto)
        if current is None:
            raise ValueError(f"not a netpol-analyzer connection set: {text!r}")
        first, _, last = item.partition("-")
        out.setdefault(current, []).append((int(first), int(last or first)))
    return {p: merge(spans) for p, spans in out.items()}


def complement(conns: Conns) -> Conns:
    out: Conns = {}
    for p in Protocol:
        holes = conns.get(p, ())
        spans: list[tuple[int, int]] = []
        start = 1
        for a, b in holes:
            if a > start:
                spans.append((start, a - 1))
            start = b + 1
        if start <= MAX_PORT:
            spans.append((start, MAX_PORT))
        if spans:
            out[p] = tuple(spans)
    return out


def words(conns: Conns) -> str:
    """netpol-analyzer's spelling, for readable failures."""
    if conns == ALL:
        return "All Connections"
    if not conns:
        return "No Connections"
    return ",".join(f"{p} " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
                    for p, spans in sorted(conns.items(), key=lambda kv: kv[0].value))


@dataclass(frozen=True, slots=True)
class Expected:
    lines: dict[tuple[Peer, Peer], Conns]

    @staticmethod
    def read(path: Path) -> Expected:
        lines: dict[tuple[Peer, Peer], Conns] = {}
        for raw in path.read_text().splitlines():
            if not raw.strip():
                continue
            pair, _, conns = raw.rpartition(" : ")
            src, _, dst = pair.partition(" => ")
            lines[(parse_peer(src), parse_peer(dst))] = parse_conns(conns)
        return Expected(lines)

    def workloads(self) -> set[Workload]:
        return {p for pair in self.lines for p in pair if isinstance(p, Workload)}

    def segments(self) -> list[Addresses]:
        """The address space cut at every boundary of the file's ranges."""
        cuts = {0, TOP}
        for pair in self.lines:
            for p in pair:
                if isinstance(p, Addresses):
                    cuts.update((p.first, p.last + 1))
        return [Addresses(a, b - 1) for a, b in itertools.pairwise(sorted(cuts))]

    def between(self, src: Peer, dst: Peer) -> Conns:
        """What the file says of src -> dst (a segment lies inside one range or none)."""
        for (s, d), conns in self.lines.items():
            if _covers(s, src) and _covers(d, dst):
                return conns
        return {}


def _covers(listed: Peer, asked: Peer) -> bool:
    if isinstance(listed, Workload) or isinstance(asked, Workload):
        return listed == asked
    return listed.first <= asked.first and asked.last <= listed.last


def load(directory: Path) -> Cluster:
    result = load_cluster([str(directory)], implied=False)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, "\n".join(str(d) for d in errors)
    return result.cluster


def port_pieces(cluster: Cluster) -> dict[Protocol, list[tuple[int, int]]]:
    """Per protocol, the port intervals on which every verdict is constant (see module doc)."""
    cuts: dict[Protocol, set[int]] = {p: {1, MAX_PORT + 1} for p in Protocol}
    for ep in cluster.endpoints:
        for cp in ep.ports:
            cuts[cp.protocol].update((cp.port, cp.port + 1))
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for pp in rule.ports:
                if isinstance(pp.port, int):
                    end = pp.end_port if pp.end_port is not None else pp.port
                    cuts[pp.protocol].update((pp.port, end + 1))
    for cnp in cluster.cluster_policies:
        for crule in (*cnp.ingress, *cnp.egress):
            for port in crule.ports:
                if port.protocol is not None:
                    cuts[port.protocol].update((port.start, port.end + 1))
    return {p: [(a, b - 1) for a, b in itertools.pairwise(sorted(c))] for p, c in cuts.items()}


def podwall_answers(cluster: Cluster, expected: Expected) -> dict[tuple[Peer, Peer], Conns]:
    """podwall's connection set for every pair the comparison asks about: workload pairs (not
    a workload to itself) and workload/segment pairs both ways, each segment asked at both
    ends (the two must agree: else podwall cuts the address space where netpol-analyzer does
    not, and the answer is reported as a disagreement)."""
    pieces = port_pieces(cluster)
    ports = [PortQuery(p, a) for p, spans in pieces.items() for a, _ in spans]
    segments = expected.segments()
    hosts = [str(ipaddress.IPv4Address(v)) for s in segments for v in (s.first, s.last)]
    matrix = Engine(cluster).matrix(ports, externals=hosts)
    n = len(cluster.endpoints)
    index = {key: i for i, key in enumerate(matrix.endpoints[:n])}
    kinds = {ep.key: ep.kind for ep in cluster.endpoints}
    workloads = [Workload(*key.split("/", 1), kinds[key]) for key in matrix.endpoints[:n]]

    def conns(src: int, dst: int) -> Conns:
        out: Conns = {}
        for p, spans in pieces.items():
            allowed = merge((a, b) for a, b in spans
                            if matrix.is_allowed(PortQuery(p, a), src, dst))
            if allowed:
                out[p] = allowed
        return out

    answers: dict[tuple[Peer, Peer], Conns] = {}
    for a, b in itertools.permutations(workloads, 2):
        answers[(a, b)] = conns(index[a.key], index[b.key])
    for w in workloads:
        for k, seg in enumerate(segments):
            first, last = n + 2 * k, n + 2 * k + 1
            for pair, at_first, at_last in (
                    ((w, seg), conns(index[w.key], first), conns(index[w.key], last)),
                    ((seg, w), conns(first, index[w.key]), conns(last, index[w.key]))):
                answers[pair] = at_first if at_first == at_last else {
                    Protocol.TCP: ((-1, -1),)}  # never equal to what the file says
    return answers


def disagreements(directory: Path, expected_file: str = "expected_connlist.txt") -> list[str]:
    """Every pair where podwall and netpol-analyzer's expected output differ, as text."""
    expected = Expected.read(directory / expected_file)
    cluster = load(directory)
    answers = podwall_answers(cluster, expected)
    problems: list[str] = []
    ours = {p for pair in answers for p in pair if isinstance(p, Workload)}
    for w in sorted(expected.workloads() - ours, key=str):
        problems.append(f"{w.key}[{w.kind}] is in netpol-analyzer's output, not podwall's")
    for (src, dst), got in answers.items():
        want = expected.between(src, dst)
        if got != want:
            problems.append(f"{_name(src)} => {_name(dst)}: netpol-analyzer {words(want)!r}, "
                            f"podwall {words(got)!r}")
    return problems


def exposure_disagreements(directory: Path,
                           expected_file: str = "expected_connlist.txt") -> list[str]:
    """`podwall exposure` held to the file's lines with the outside: for every workload and
    every segment of the address space (asked at both ends), the ports that exposure's
    openings give must be what netpol-analyzer lists."""
    expected = Expected.read(directory / expected_file)
    cluster = load(directory)
    result = exposure(cluster)
    kinds = {ep.key: ep.kind for ep in cluster.endpoints}
    problems: list[str] = []
    for key in sorted(kinds):
        w = Workload(*key.split("/", 1), kinds[key])
        for seg in expected.segments():
            for direction, pair in ((Direction.INGRESS, (seg, w)), (Direction.EGRESS, (w, seg))):
                answers = [_exposed(result.of(direction), key, value)
                           for value in (seg.first, seg.last)]
                want = expected.between(*pair)
                for got in answers:
                    if got != want:
                        problems.append(f"exposure {_name(pair[0])} => {_name(pair[1])}: "
                                        f"netpol-analyzer {words(want)!r}, podwall "
                                        f"{words(got)!r}")
    return problems


def _exposed(openings: Iterable[Opening], key: str, value: int) -> Conns:
    address = ipaddress.IPv4Address(value)
    spans: dict[Protocol, list[tuple[int, int]]] = {}
    for o in openings:
        if key in o.endpoints and o.addresses.contains(address):
            for r in o.ports:
                spans.setdefault(r.protocol, []).append((r.first, r.last))
    return {p: merge(s) for p, s in spans.items()}


def _name(p: Peer) -> str:
    if isinstance(p, Workload):
        return f"{p.key}[{p.kind}]"
    return f"{ipaddress.IPv4Address(p.first)}-{ipaddress.IPv4Address(p.last)}"
