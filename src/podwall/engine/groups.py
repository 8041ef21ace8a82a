"""Names that stand for several pods: a Service (after its DNAT) and a controller of a snapshot.

NetworkPolicy judges packets after kube-proxy's DNAT: a connection to `ClusterIP:port` is a
connection to one backing pod on the service port's `targetPort` (a name resolves on each pod's
own containers). So `check --to svc/ns/name --port P` is answered for every pod behind the
Service on its resolved port. Likewise a controller that is not an endpoint because its running
pods are (a snapshot, see model.snapshot) is answered for each of its pods. Verdicts that read
the same for several pods are collapsed by the renderers, never here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from podwall.engine.evaluate import Evaluator
from podwall.engine.targets import ExternalHost, Target, resolve_target
from podwall.engine.verdict import Verdict
from podwall.errors import QueryError
from podwall.model import Cluster, Endpoint, Port, PortQuery, Service, ServicePort

SERVICE_PREFIXES = ("svc/", "service/", "services/")


@dataclass(frozen=True, slots=True)
class Resolved:
    """What one name given by the user stands for: `targets` (one, or a group's pods).

    `via` is what the name was, when it was not an endpoint itself: `Deployment shop/web`,
    `Service kube-system/kube-dns`; `service` and `controller` the objects themselves.
    """

    name: str
    targets: tuple[Target, ...]
    service: Service | None = None
    controller: Endpoint | None = None

    @property
    def grouped(self) -> bool:
        return self.service is not None or self.controller is not None

    @property
    def via(self) -> str | None:
        if self.service is not None:
            return f"{self.service}"
        if self.controller is not None:
            return f"{self.controller.kind} {self.controller.key}"
        return None


@dataclass(frozen=True, slots=True)
class Unserved:
    """A destination pod that a Service's named targetPort does not resolve on."""

    pod: str
    reason: str


@dataclass(frozen=True, slots=True)
class GroupVerdict:
    """Every (source, destination) pair a query stands for, each with its verdict.

    `allowed` is True iff there is at least one pair and every pair is allowed (a Service that
    answers on some backends and not others fails a client some of the time); `some_allowed`
    iff one is. `service_port` is the Service's port the query used (None: no Service)."""

    src: Resolved
    dst: Resolved
    port: PortQuery
    verdicts: tuple[Verdict, ...]
    unserved: tuple[Unserved, ...] = ()
    service_port: ServicePort | None = None

    @property
    def allowed(self) -> bool:
        return bool(self.verdicts) and not self.unserved and all(v.allowed for v in self.verdicts)

    @property
    def decided(self) -> bool:
        """False when a cluster policy's peer that cannot be judged offline (nodes,
        domainNames) could change any of the pods' verdicts."""
        return all(v.decided for v in self.verdicts)

    @property
    def some_allowed(self) -> bool:
        return any(v.allowed for v in self.verdicts)

    @property
    def deciding(self) -> Verdict | None:
        """The verdict that decides `allowed`: the first denied pair, else the first pair."""
        return next((v for v in self.verdicts if not v.allowed),
                    self.verdicts[0] if self.verdicts else None)


def service_name(text: str, namespace: str | None) -> str | None:
    """`svc/ns/name`, `service/ns/name`, `svc/name` (in `namespace`, default "default") ->
    `ns/name`; None when the text does not name a Service."""
    for prefix in SERVICE_PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix):]
            if not rest or rest.count("/") > 1:
                raise QueryError(f"{text!r}: name a Service as svc/NAMESPACE/NAME or svc/NAME "
                                 "(with -n NAMESPACE)")
            return rest if "/" in rest else f"{namespace or 'default'}/{rest}"
    return None


def resolve_group(cluster: Cluster, text: str, namespace: str | None = None) -> Resolved:
    """A pod or workload endpoint, an IP (a pod's, a Service's cluster IP, or outside), a
    Service (`svc/...`), or a controller of a snapshot standing for its pods."""
    text = text.strip()
    key = service_name(text, namespace)
    if key is not None:
        svc = cluster.service(key)
        if svc is None:
            ns = key.split("/", 1)[0]
            near = [str(s) for s in cluster.services if s.namespace == ns][:8]
            hint = f" (Services in {ns}: {', '.join(near)})" if near else ""
            raise QueryError(f"no Service {key!r} in the input{hint}")
        return Resolved(str(svc), cluster.backends(svc), service=svc)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is not None and cluster.endpoint_by_ip(address) is None:
        svc = cluster.service_by_ip(address)
        if svc is not None:
            return Resolved(text, cluster.backends(svc), service=svc)
    if address is None and cluster.endpoint(text) is None:
        ctl = cluster.controller(text)
        if ctl is not None:
            return Resolved(text, cluster.members(text), controller=ctl)
    target = resolve_target(cluster, text)
    return Resolved(target.key, (target,))


def check_group(evaluator: Evaluator, src: Resolved, dst: Resolved,
                port: PortQuery) -> GroupVerdict:
    """Every pair, the destination's port resolved through the Service when there is one."""
    if not src.targets:
        raise QueryError(f"{src.name} ({src.via}) has no running pod in the input: there is "
                         "nothing to connect from")
    svc = dst.service
    service_port: ServicePort | None = None
    if svc is not None and not svc.headless:
        service_port = svc.port(port.protocol, port.port)
        if service_port is None:
            have = ", ".join(str(p) for p in svc.ports) or "none"
            raise QueryError(f"{svc} does not expose {port} (its ports: {have})")
    verdicts: list[Verdict] = []
    unserved: list[Unserved] = []
    for target in dst.targets:
        at = port
        if service_port is not None:
            resolved = _target_port(service_port, target)
            if resolved is None:
                unserved.append(Unserved(target.key, f"no {port.protocol} container port named "
                                                      f"{service_port.target_port!r}"))
                continue
            at = resolved
        verdicts.extend(evaluator.check(source, target, at) for source in src.targets)
    return GroupVerdict(src, dst, port, tuple(verdicts), tuple(unserved), service_port)


def _target_port(service_port: ServicePort, target: Target) -> PortQuery | None:
    spec = service_port.target_port
    if isinstance(spec, int):
        return PortQuery(service_port.protocol, spec or service_port.port)
    if isinstance(target, ExternalHost):
        return None
    for cp in target.ports:
        if cp.name == spec and cp.protocol is service_port.protocol:
            return PortQuery(cp.protocol, cp.port)
    return None


@dataclass(frozen=True)
class ServiceColumn:
    """A Service on one of its ports as a matrix destination, after the DNAT.

    `pods` are the indexes (into the cluster's endpoints) of the pods behind it that serve the
    port, `targets` the port each of them is reached on, `unserved` those without the named
    targetPort. `every[i]` is True iff endpoint i may reach every pod in `pods` (and there is
    one, and none is unserved): the Service works for i whichever pod kube-proxy picks;
    `some[i]` iff it may reach at least one (the Service works for i sometimes)."""

    service: Service
    port: ServicePort
    pods: tuple[int, ...]
    targets: tuple[PortQuery, ...]
    unserved: tuple[int, ...]
    every: npt.NDArray[np.bool_]
    some: npt.NDArray[np.bool_]

    @property
    def name(self) -> str:
        return f"{self.service} {self.port}"


def service_columns(engine: Any, ports: Sequence[Port] | None = None) -> list[ServiceColumn]:
    """Every Service port (those in `ports` when given; names never match) as a column over
    every endpoint of `engine.cluster` as a source. One extra class-level matrix holds every
    target port needed, so the cost is that of `matrix` on a few more ports."""
    cluster: Cluster = engine.cluster
    index = {ep.key: i for i, ep in enumerate(cluster.endpoints)}
    wanted = None if ports is None else {p for p in ports if isinstance(p, PortQuery)}
    plans: list[tuple[Service, ServicePort, list[tuple[int, PortQuery]], list[int]]] = []
    needed: set[PortQuery] = set()
    for svc in cluster.services:
        backends = cluster.backends(svc)
        for sp in svc.ports:
            if wanted is not None and PortQuery(sp.protocol, sp.port) not in wanted:
                continue
            served: list[tuple[int, PortQuery]] = []
            unserved: list[int] = []
            for pod in backends:
                at = _target_port(sp, pod)
                if at is None:
                    unserved.append(index[pod.key])
                else:
                    served.append((index[pod.key], at))
                    needed.add(at)
            plans.append((svc, sp, served, unserved))
    n = len(cluster.endpoints)
    matrix = engine.matrix(sorted(needed)) if needed else None
    columns: list[ServiceColumn] = []
    for svc, sp, served, unserved in plans:
        every = np.ones(n, dtype=np.bool_) if served and not unserved else np.zeros(n, np.bool_)
        some = np.zeros(n, dtype=np.bool_)
        for row, at in served:
            assert matrix is not None
            column = matrix.verdicts[at].block(matrix.class_of[:n].astype(np.int64),
                                               matrix.class_of[[row]].astype(np.int64))[:, 0]
            column = column.copy()
            column[row] = True  # a pod may always reach itself
            every &= column
            some |= column
        columns.append(ServiceColumn(svc, sp, tuple(p for p, _ in served),
                                     tuple(t for _, t in served), tuple(unserved), every, some))
    return columns
