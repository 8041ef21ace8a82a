"""Policies -> verdicts with reasons.

`Engine` is the one entry point: `check` answers one connection with its reasons (scalar,
literal to the Kubernetes reference); `matrix` answers every pair at once per endpoint class
(vectorised). Property tests hold the two to the same answers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from podwall.engine.evaluate import Evaluator, port_matches
from podwall.engine.groups import (
    GroupVerdict,
    Resolved,
    ServiceColumn,
    Unserved,
    check_group,
    resolve_group,
    service_columns,
)
from podwall.engine.matrix import DenseVerdicts, Matrix, MatrixComputer, PortVerdicts
from podwall.engine.selectors import selector_matches
from podwall.engine.targets import ExternalHost, Target, resolve_target
from podwall.engine.verdict import AssignedAddress, DirectionVerdict, RuleRef, Verdict
from podwall.errors import QueryError
from podwall.model import Cluster, Direction, Endpoint, NetworkPolicy, Port, PortQuery
from podwall.model.clusterpolicy import Tier


class Engine:
    """Compiles a cluster once; answers single checks and whole matrices."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.evaluator = Evaluator(cluster)

    def check(self, src: Target | str, dst: Target | str, port: PortQuery) -> Verdict:
        return self.evaluator.check(src, dst, port)

    def resolve(self, text: str) -> Target:
        return resolve_target(self.cluster, text)

    def resolve_group(self, text: str, namespace: str | None = None) -> Resolved:
        """What a name stands for, Services (`svc/ns/name`, a cluster IP) and a snapshot's
        controllers included (see engine.groups)."""
        return resolve_group(self.cluster, text, namespace)

    def check_group(self, src: Resolved | str, dst: Resolved | str,
                    port: PortQuery) -> GroupVerdict:
        """`check` for names that may stand for several pods: one verdict per pair."""
        source = self.resolve_group(src) if isinstance(src, str) else src
        target = self.resolve_group(dst) if isinstance(dst, str) else dst
        return check_group(self.evaluator, source, target, port)

    def selecting(self, endpoint: Endpoint, direction: Direction) -> tuple[NetworkPolicy, ...]:
        return self.evaluator.selecting(endpoint, direction)

    def tiers_applying(self, endpoint: Endpoint, direction: Direction) -> tuple[str, ...]:
        """Keys of the cluster policies (Admin, then Baseline, in evaluation order) that apply
        to the endpoint with rules for `direction`: where they exist, a direction that no
        NetworkPolicy isolates is not simply open."""
        tiers = self.evaluator.tiers
        if tiers is None:
            return ()
        return tuple(p.key for tier in Tier for p in tiers.applying(endpoint, tier, direction))

    def open(self, endpoint: Endpoint, direction: Direction) -> bool:
        """Whether nothing restricts the direction: no NetworkPolicy isolates it and no
        cluster policy applies to it."""
        return not self.selecting(endpoint, direction) and not self.tiers_applying(endpoint,
                                                                                   direction)

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
    """Every port that a container or a policy names (both ends of an endPort range or a
    cluster policy's port range). An implied component's ports are not the input's: they do
    not widen the default."""
    found: set[PortQuery] = set()
    for ep in cluster.endpoints:
        if ep.implied:
            continue
        for cp in ep.ports:
            found.add(PortQuery(cp.protocol, cp.port))
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            for pp in rule.ports:
                if isinstance(pp.port, int):
                    found.add(PortQuery(pp.protocol, pp.port))
                    if pp.end_port is not None:
                        found.add(PortQuery(pp.protocol, pp.end_port))
    for cnp in cluster.cluster_policies:
        for crule in (*cnp.ingress, *cnp.egress):
            for port in crule.ports:
                if port.protocol is not None:
                    found.update((PortQuery(port.protocol, port.start),
                                  PortQuery(port.protocol, port.end)))
    return tuple(sorted(found, key=lambda p: (p.protocol.value, p.port)))


__all__ = [
    "AssignedAddress",
    "DenseVerdicts",
    "DirectionVerdict",
    "Engine",
    "ExternalHost",
    "GroupVerdict",
    "Matrix",
    "PortVerdicts",
    "Resolved",
    "RuleRef",
    "ServiceColumn",
    "Target",
    "Unserved",
    "Verdict",
    "default_ports",
    "port_matches",
    "selector_matches",
    "service_columns",
]
