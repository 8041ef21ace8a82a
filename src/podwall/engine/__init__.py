"""Policies -> verdicts with reasons.

`Engine` is the one entry point: `check` answers one connection with its reasons (scalar,
literal to the Kubernetes reference); `matrix` answers every pair at once per endpoint class
(vectorised). Property tests hold the two to the same answers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from podwall.engine.evaluate import Evaluator, port_matches
from podwall.engine.matrix import DenseVerdicts, Matrix, MatrixComputer, PortVerdicts
from podwall.engine.selectors import selector_matches
from podwall.engine.targets import ExternalHost, Target, resolve_target
from podwall.engine.verdict import AssignedAddress, DirectionVerdict, RuleRef, Verdict
from podwall.errors import QueryError
from podwall.model import Cluster, Direction, Endpoint, NetworkPolicy, Port, PortQuery


class Engine:
    """Compiles a cluster once; answers single checks and whole matrices."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.evaluator = Evaluator(cluster)

    def check(self, src: Target | str, dst: Target | str, port: PortQuery) -> Verdict:
        return self.evaluator.check(src, dst, port)

    def resolve(self, text: str) -> Target:
        return resolve_target(self.cluster, text)

    def selecting(self, endpoint: Endpoint, direction: Direction) -> tuple[NetworkPolicy, ...]:
        return self.evaluator.selecting(endpoint, direction)

    def matrix(self, ports: Iterable[Port] | None = None,
               externals: Sequence[str | ExternalHost] = ()) -> Matrix:
        hosts: list[ExternalHost] = []
        for ext in externals:
            if isinstance(ext, ExternalHost):
                hosts.append(ext)
                continue
            try:
                hosts.append(ExternalHost(ipaddress.ip_address(ext.strip())))
            except ValueError:
                raise QueryError(f"--external {ext!r} is not an IP address") from None
        chosen = tuple(ports) if ports is not None else default_ports(self.cluster)
        return MatrixComputer(self.cluster, hosts).matrix(chosen)


def default_ports(cluster: Cluster) -> tuple[PortQuery, ...]:
    """Every port that a container or a policy names (both ends of an endPort range)."""
    found: set[PortQuery] = set()
    for ep in cluster.endpoints:
        for cp in ep.ports:
            found.add(PortQuery(cp.protocol, cp.port))
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for pp in rule.ports:
                if isinstance(pp.port, int):
                    found.add(PortQuery(pp.protocol, pp.port))
                    if pp.end_port is not None:
                        found.add(PortQuery(pp.protocol, pp.end_port))
    return tuple(sorted(found, key=lambda p: (p.protocol.value, p.port)))


__all__ = [
    "AssignedAddress",
    "DenseVerdicts",
    "DirectionVerdict",
    "Engine",
    "ExternalHost",
    "Matrix",
    "PortVerdicts",
    "RuleRef",
    "Target",
    "Verdict",
    "default_ports",
    "port_matches",
    "selector_matches",
]
