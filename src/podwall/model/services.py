"""Services: a stable address in front of pods, resolved by DNAT before any policy sees a packet.

NetworkPolicy never names a Service. A connection to `ClusterIP:port` is rewritten (kube-proxy,
in the node) to one backing pod's IP and the service port's `targetPort`, and only then judged;
so every question about a Service is a question about each pod behind it on the resolved port.
These types carry what that resolution needs and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podwall.model.labels import Labels
from podwall.model.policy import IPAddress
from podwall.model.ports import Protocol
from podwall.model.source import Source


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One `spec.ports[]` entry. `target_port` is a number or a container-port name; the API
    server defaults an absent targetPort to `port`, and so does the reader."""

    port: int
    protocol: Protocol = Protocol.TCP
    target_port: int | str = 0
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True, slots=True)
class Service:
    """A Service of type ClusterIP, NodePort or LoadBalancer (ExternalName is not read: it is
    a DNS alias, no address and no pods).

    `cluster_ip` is None for a headless Service (`clusterIP: None`): its DNS name resolves to
    the pods' own IPs, so there is nothing to DNAT. `selector` None means the Service has no
    selector (endpoints are managed by hand) and no pods are known behind it; an empty selector
    `{}` is read as the API server stores it (no selector). `implied` marks components every
    cluster has that the input did not carry (kube-dns). `cluster_ip_missing`: the input gave
    no address (and did not say `None`): build_cluster assigns one from the service CIDR and
    sets `cluster_ip_assigned`.
    """

    namespace: str
    name: str
    selector: Labels | None
    ports: tuple[ServicePort, ...] = ()
    cluster_ip: IPAddress | None = None
    cluster_ip_assigned: bool = field(default=False, compare=False)
    implied: bool = field(default=False, compare=False)
    source: Source | None = field(default=None, compare=False)
    cluster_ip_missing: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def headless(self) -> bool:
        return self.cluster_ip is None

    def __str__(self) -> str:
        return f"svc/{self.key}"

    def port(self, protocol: Protocol, number: int) -> ServicePort | None:
        """The service port a connection to `cluster_ip:number` over `protocol` uses."""
        return next((p for p in self.ports if p.protocol is protocol and p.port == number), None)
