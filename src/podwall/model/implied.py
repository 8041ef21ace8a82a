"""Components every cluster has that repositories do not carry: CoreDNS behind kube-dns.

Every pod resolves names through the `kube-dns` Service of `kube-system` (at the service CIDR's
tenth address, by kubeadm's and every distribution's convention), DNAT-ed to the CoreDNS pods
labelled `k8s-app: kube-dns`. A repository's DNS egress policy names those pods
(`namespaceSelector` kube-system, `podSelector` k8s-app=kube-dns), and without them in the
input every verb would say that DNS goes nowhere. So when the input has none, podwall implies
them, as it implies a namespace that is referenced but not defined, and marks them implied
wherever they appear. `--no-implied` turns this off.
"""

from __future__ import annotations

import ipaddress

from podwall.model.labels import Labels
from podwall.model.policy import IPNetwork
from podwall.model.ports import ContainerPort, Protocol
from podwall.model.services import Service, ServicePort
from podwall.model.workloads import Endpoint

KUBE_SYSTEM = "kube-system"
KUBE_DNS_LABEL = ("k8s-app", "kube-dns")
KUBE_DNS_SERVICE = "kube-dns"
COREDNS = "coredns"


def is_kube_dns(ep: Endpoint) -> bool:
    return ep.namespace == KUBE_SYSTEM and ep.labels.get(KUBE_DNS_LABEL[0]) == KUBE_DNS_LABEL[1]


def kube_dns_address(service_cidr: IPNetwork) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The service CIDR's tenth address (10.96.0.10 in 10.96.0.0/12)."""
    return service_cidr.network_address + 10


def implied_coredns() -> Endpoint:
    """CoreDNS as kubeadm deploys it: one Deployment (one class), ports as its pod template."""
    ports = (ContainerPort(53, Protocol.TCP, "dns-tcp"), ContainerPort(53, Protocol.UDP, "dns"),
             ContainerPort(9153, Protocol.TCP, "metrics"))
    return Endpoint(KUBE_SYSTEM, COREDNS, Labels(dict([KUBE_DNS_LABEL])), tuple(sorted(ports)),
                    kind="Deployment", implied=True)


def implied_kube_dns(service_cidr: IPNetwork) -> Service:
    return Service(KUBE_SYSTEM, KUBE_DNS_SERVICE, Labels(dict([KUBE_DNS_LABEL])),
                   (ServicePort(53, Protocol.UDP, 53, "dns"),
                    ServicePort(53, Protocol.TCP, 53, "dns-tcp")),
                   kube_dns_address(service_cidr), implied=True)
