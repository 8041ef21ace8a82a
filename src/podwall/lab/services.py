"""Services in the lab: ClusterIPs, the implied cluster DNS, and the DNAT that makes them work.

Why DNAT in the node, before policy: that is where kube-proxy puts it. A connection to
`ClusterIP:port` is rewritten in the node's nat prerouting hook to one backing pod's IP and the
port's targetPort (chosen at random per connection, `numgen random`), so the filter table
(`table inet podwall`, see podwall.dataplane.compile) judges pod IP to pod IP, exactly as a
cluster's CNI does; conntrack rewrites the replies back. NetworkPolicy never names a Service,
and here too no policy decision is made on a ClusterIP.

The DNAT lives in its own table, `table ip podwall-services`, replaced in one nft transaction
(the table is deleted and declared again in the same batch; its maps are anonymous, bound to
its rules). It is applied right after the filter ruleset of the same change: a DNAT can never
let through what the filter denies (the filter sees the pod IP either way), so the two need not
flip at the same instant. Only the first packet of a connection passes a nat hook: connections
already open keep their backend across a swap.

A pod that reaches itself through its own Service (hairpin) would get its own packet back with
its own address as the source, which its kernel drops as martian; as kube-proxy masquerades
hairpin traffic, the table's postrouting hook rewrites the source of such a connection to the
pod's gateway (169.254.1.1), and conntrack rewrites the replies back.

A Service without a ClusterIP (headless) has no DNAT, only DNS (its pods' IPs); one whose pods
are all gone has no entry either: its ClusterIP is then unrouted and the node answers
"network unreachable" at once, as kube-proxy's reject does.

The implied cluster DNS: a lab that has no kube-dns gets the same objects every cluster has and
that podwall's model implies (namespace kube-system, a CoreDNS pod labelled
`k8s-app: kube-dns` serving 53/UDP and 53/TCP, and the Service kube-system/kube-dns at
10.96.0.10, the service CIDR's `.10`), so that DNS egress policies are tested for real.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Iterable
from dataclasses import replace

from podwall.dataplane.nftsyntax import quoted
from podwall.lab import topology as topo
from podwall.lab.dns import KUBE_DNS_LABELS, is_dns_pod
from podwall.model import (
    Cluster,
    ContainerPort,
    Endpoint,
    Labels,
    Namespace,
    NetworkPolicy,
    Protocol,
    Service,
    ServicePort,
    build_cluster,
)
from podwall.model.clusterpolicy import ClusterNetworkPolicy

SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
KUBE_DNS_IP = ipaddress.IPv4Address("10.96.0.10")
KUBE_DNS = ("kube-system", "kube-dns")
COREDNS_POD = ("kube-system", "coredns")
TABLE = "podwall-services"
_RESERVED = {int(SERVICE_CIDR.network_address) + 1, int(KUBE_DNS_IP)}  # `kubernetes`, kube-dns


def service(cluster: Cluster, namespace: str, name: str) -> Service | None:
    return next((s for s in cluster.services if s.namespace == namespace and s.name == name),
                None)


def allocate_ip(key: str, used: Iterable[ipaddress.IPv4Address | ipaddress.IPv6Address | None],
                ) -> ipaddress.IPv4Address:
    """A ClusterIP for `ns/name`: from a hash of the key, so a Service keeps its address when
    others come and go (as pods do from --pod-cidr); never .1 (the `kubernetes` Service's) or .10
    (kube-dns)."""
    taken = {int(ip) for ip in used if ip is not None} | _RESERVED
    first, size = int(SERVICE_CIDR.network_address) + 1, SERVICE_CIDR.num_addresses - 2
    slot = zlib.crc32(key.encode()) % size
    for _ in range(size):
        if first + slot not in taken:
            return ipaddress.IPv4Address(first + slot)
        slot = (slot + 1) % size
    raise ValueError(f"the service CIDR {SERVICE_CIDR} is full")


def selects(svc: Service, ep: Endpoint) -> bool:
    selector = svc.selector
    return (selector is not None and ep.namespace == svc.namespace
            and all(ep.labels.get(k) == v for k, v in selector.items_sorted))


def target(port: ServicePort, ep: Endpoint) -> int | None:
    """The port of `ep` that `port` forwards to (a name resolves on the pod; None: the pod has no
    such named port, and kube-proxy leaves it out of that port's backends)."""
    if isinstance(port.target_port, str):
        found = next((cp for cp in ep.ports if cp.name == port.target_port
                      and cp.protocol is port.protocol), None)
        return None if found is None else found.port
    return port.target_port or port.port


def backends(cluster: Cluster, svc: Service, port: ServicePort) -> list[tuple[Endpoint, int]]:
    """(pod, target port) behind one Service port, sorted by pod."""
    out: list[tuple[Endpoint, int]] = []
    for ep in cluster.endpoints:
        if selects(svc, ep) and isinstance(ep.ip, ipaddress.IPv4Address):
            number = target(port, ep)
            if number is not None:
                out.append((ep, number))
    return out


def with_cluster_dns(cluster: Cluster) -> Cluster:
    """`cluster` plus kube-system, a CoreDNS pod and the kube-dns Service, each only when the
    cluster has none (a user's own CoreDNS pod or kube-dns Service is kept as it is)."""
    namespaces = dict(cluster.namespaces)
    if "kube-system" not in namespaces or namespaces["kube-system"].implied:
        namespaces["kube-system"] = Namespace.make("kube-system")
    endpoints = list(cluster.endpoints)
    if not any(is_dns_pod(ep.namespace, ep.labels) for ep in endpoints):
        endpoints.append(Endpoint(
            *COREDNS_POD, Labels(KUBE_DNS_LABELS),
            (ContainerPort(53, Protocol.UDP, "dns"), ContainerPort(53, Protocol.TCP, "dns-tcp"))))
    services = list(cluster.services)
    if service(cluster, *KUBE_DNS) is None:
        services.append(Service(
            *KUBE_DNS, Labels(KUBE_DNS_LABELS),
            (ServicePort(53, Protocol.UDP, 53, "dns"), ServicePort(53, Protocol.TCP, 53, "dns-tcp")),
            KUBE_DNS_IP))
    return rebuild(cluster, namespaces.values(), endpoints, cluster.all_policies, services)


def rebuild(cluster: Cluster, namespaces: Iterable[Namespace], endpoints: Iterable[Endpoint],
            policies: Iterable[NetworkPolicy], services: Iterable[Service],
            cluster_policies: Iterable[ClusterNetworkPolicy] | None = None) -> Cluster:
    """A new snapshot from changed objects: canonical order, implied namespaces, IPs for new pods
    from the lab's pod CIDR (existing pods keep theirs), services sorted. `policies` are enforced
    and audited ones alike; cluster policies are kept unless new ones are given."""
    built = build_cluster(namespaces, endpoints, policies, cluster.pod_cidr,
                          cluster_policies=cluster.cluster_policies if cluster_policies is None
                          else cluster_policies)
    return replace(built, services=tuple(sorted(services, key=lambda s: (s.namespace, s.name))))


def nameserver(cluster: Cluster) -> str | None:
    """The address pods send DNS to: kube-dns's ClusterIP (or, without one, a CoreDNS pod's)."""
    svc = service(cluster, *KUBE_DNS)
    if svc is not None and isinstance(svc.cluster_ip, ipaddress.IPv4Address):
        return str(svc.cluster_ip)
    pod = next((ep for ep in cluster.endpoints if is_dns_pod(ep.namespace, ep.labels)
                and ep.ip is not None), None)
    return None if pod is None else str(pod.ip)


def compile_dnat(cluster: Cluster) -> str:
    """`table ip podwall-services` for `cluster` ("" when no Service has a ClusterIP and pods)."""
    verdicts: list[str] = []
    chains: list[str] = []
    hairpins: set[ipaddress.IPv4Address] = set()
    for svc in cluster.services:
        if not isinstance(svc.cluster_ip, ipaddress.IPv4Address):
            continue
        for port in svc.ports:
            if port.protocol is Protocol.SCTP:
                continue  # no SCTP in this kernel; the model still resolves it
            behind = backends(cluster, svc, port)
            if not behind:
                continue
            hairpins.update(ep.ip for ep, _ in behind if isinstance(ep.ip, ipaddress.IPv4Address))
            chain = f"svc-{len(chains)}"
            proto = port.protocol.value.lower()
            targets = ", ".join(f"{i} : {ep.ip} . {number}"
                                for i, (ep, number) in enumerate(behind))
            verdicts.append(f"{svc.cluster_ip} . {proto} . {port.port} : goto {chain}")
            chains.append(
                f"  chain {chain} {{\n"
                f"    meta l4proto {proto} dnat ip to numgen random mod {len(behind)} map "
                f"{{ {targets} }} comment {quoted(f'{svc.key} {port}', 120)}\n  }}\n")
    if not verdicts:
        return ""
    vmap = ", ".join(verdicts)
    hooks = "".join(
        f"  chain {hook} {{\n    type nat hook {hook} priority -100; policy accept;\n"
        f"    ip daddr . meta l4proto . th dport vmap {{ {vmap} }}\n  }}\n"
        for hook in ("prerouting", "output"))
    pairs = ", ".join(f"{ip} . {ip}" for ip in sorted(hairpins, key=int))
    hooks += ("  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n"
              f"    ct status dnat ip saddr . ip daddr {{ {pairs} }} snat ip to {topo.GATEWAY}\n"
              "  }\n")
    return f"table ip {TABLE} {{\n{hooks}{''.join(chains)}}}\n"


def dnat_transaction(cluster: Cluster) -> str:
    """One nft batch that replaces the table (or removes it when there is nothing to DNAT)."""
    return f"add table ip {TABLE}\ndelete table ip {TABLE}\n" + compile_dnat(cluster)


def apply_dnat(node: str, batch: str, check: bool = False) -> None:
    """Run `dnat_transaction`'s batch in the node namespace (`check`: `nft -c`, changes nothing)."""
    topo.run("ip", "netns", "exec", topo.ip_arg(node), topo.tool("nft"),
             *(["-c"] if check else []), "-f", "-", stdin=batch)
