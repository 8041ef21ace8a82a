"""A cluster snapshot: namespaces, endpoints, policies and Services, complete and canonical.

`build_cluster` is the one place that fills gaps the way a cluster would: namespaces that are
referenced but not defined are implied, endpoints without an IP get one from the pod CIDR,
Services without a cluster IP one from the service CIDR, and (when asked) the kube-dns every
cluster runs is implied when the input has none. It also decides which objects are endpoints
(model.snapshot): each app once, whether the input is a repository or a live snapshot.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from podwall.errors import Diagnostic, Severity
from podwall.model import implied as imply
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.policy import IPAddress, IPNetwork, NetworkPolicy
from podwall.model.services import Service
from podwall.model.snapshot import absent_owners, members_of, no_ip_warning, split_snapshot
from podwall.model.words import plural
from podwall.model.workloads import Endpoint, Namespace

DEFAULT_POD_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


@dataclass(frozen=True)
class Cluster:
    """Everything the engine reasons about. Endpoints and policies are sorted by namespace/name.

    `policies` are the *enforced* ones: everything that reads a Cluster (the engine, the data
    plane's drop decision, every verb) judges what is enforced unless it asks for more.
    Policies annotated `podwall.io/enforcement: audit` wait in `audited`; `audit_view()` is the
    same cluster with them enforced too (docs/concepts.md, "Audit mode"). Keeping them apart by
    construction means no consumer can enforce an audited policy by forgetting to filter.

    Not slotted, so the lookup indexes below can be cached on the instance.
    """

    namespaces: dict[str, Namespace]
    endpoints: tuple[Endpoint, ...]
    policies: tuple[NetworkPolicy, ...]
    pod_cidr: IPNetwork = field(default=ipaddress.ip_network(DEFAULT_POD_CIDR))
    services: tuple[Service, ...] = ()
    service_cidr: IPNetwork = field(default=ipaddress.ip_network(DEFAULT_SERVICE_CIDR))
    controllers: tuple[Endpoint, ...] = ()  # workloads that stand for their pods (a snapshot)
    audited: tuple[NetworkPolicy, ...] = ()
    # ClusterNetworkPolicies (and v1alpha1 admin/baseline policies), sorted by tier and order
    cluster_policies: tuple[ClusterNetworkPolicy, ...] = ()

    @cached_property
    def _audit_view(self) -> Cluster:
        if not self.audited:
            return self
        merged = sorted((*self.policies, *self.audited), key=lambda p: (p.namespace, p.name))
        return replace(self, policies=tuple(merged), audited=())

    def audit_view(self) -> Cluster:
        """This cluster as it would be with its audited policies enforced (itself when none)."""
        return self._audit_view

    @property
    def all_policies(self) -> tuple[NetworkPolicy, ...]:
        """Enforced and audited policies, sorted by namespace/name (what validate and lint see)."""
        return self._audit_view.policies

    @cached_property
    def _by_key(self) -> dict[str, Endpoint]:
        return {ep.key: ep for ep in self.endpoints}

    @cached_property
    def _by_ip(self) -> dict[IPAddress, Endpoint]:
        return {ep.ip: ep for ep in self.endpoints if ep.ip is not None}

    def endpoint(self, key: str) -> Endpoint | None:
        return self._by_key.get(key)

    def endpoint_by_ip(self, address: IPAddress) -> Endpoint | None:
        return self._by_ip.get(address)

    @cached_property
    def _services(self) -> dict[str, Service]:
        return {svc.key: svc for svc in self.services}

    @cached_property
    def _service_ips(self) -> dict[IPAddress, Service]:
        return {svc.cluster_ip: svc for svc in self.services if svc.cluster_ip is not None}

    @cached_property
    def _members(self) -> dict[str, tuple[Endpoint, ...]]:
        return members_of(self.controllers, self.endpoints)

    def service(self, key: str) -> Service | None:
        return self._services.get(key)

    def service_by_ip(self, address: IPAddress) -> Service | None:
        return self._service_ips.get(address)

    @cached_property
    def _absent_owners(self) -> dict[str, tuple[Endpoint, tuple[Endpoint, ...]]]:
        return absent_owners(self.controllers, self.endpoints)

    def controller(self, key: str) -> Endpoint | None:
        """A workload that is not an endpoint because its pods are (a snapshot): one of the
        input's, or one that its pods name as owner without the input holding it (a stand-in,
        see model.snapshot.absent_owners)."""
        found = next((c for c in self.controllers if c.key == key), None)
        if found is None and key in self._absent_owners:
            return self._absent_owners[key][0]
        return found

    def members(self, key: str) -> tuple[Endpoint, ...]:
        """The pods (endpoints) a controller stands for (see `controller`)."""
        if key in self._members:
            return self._members[key]
        return self._absent_owners[key][1] if key in self._absent_owners else ()

    def backends(self, service: Service) -> tuple[Endpoint, ...]:
        """The endpoints a Service selects: its namespace's, with every selector label."""
        if service.selector is None:
            return ()
        wanted = service.selector.items_sorted
        return tuple(ep for ep in self.endpoints if ep.namespace == service.namespace
                     and all(ep.labels.get(k) == v for k, v in wanted))

    def namespace(self, name: str) -> Namespace:
        """The namespace by name; one that nothing defined is implied (name label only)."""
        ns = self.namespaces.get(name)
        return ns if ns is not None else Namespace.make(name, implied=True)


def build_cluster(
    namespaces: Iterable[Namespace],
    endpoints: Iterable[Endpoint],
    policies: Iterable[NetworkPolicy],
    pod_cidr: str | IPNetwork = DEFAULT_POD_CIDR,
    diagnostics: list[Diagnostic] | None = None,
    cluster_policies: Iterable[ClusterNetworkPolicy] = (),
    services: Iterable[Service] = (),
    service_cidr: str | IPNetwork = DEFAULT_SERVICE_CIDR,
    implied: bool = False,
) -> Cluster:
    """Assemble a canonical snapshot: choose the endpoints (model.snapshot), imply missing
    namespaces (and with `implied` a missing kube-dns), assign missing pod and Service IPs.

    IPs are assigned from a hash of `ns/name` with linear probing, so adding one pod does not move
    the others (a diff between two inputs does not see spurious IP changes).
    """
    diags = diagnostics if diagnostics is not None else []
    network = ipaddress.ip_network(pod_cidr, strict=False) if isinstance(pod_cidr, str) else pod_cidr
    svc_network = (ipaddress.ip_network(service_cidr, strict=False)
                   if isinstance(service_cidr, str) else service_cidr)
    split = split_snapshot(endpoints, diags)
    svcs = list(services)
    if implied:
        if not any(imply.is_kube_dns(ep) for ep in (*split.endpoints, *split.controllers)):
            split.endpoints.append(imply.implied_coredns())
        if not any(s.namespace == imply.KUBE_SYSTEM and s.name == imply.KUBE_DNS_SERVICE
                   for s in svcs):
            svcs.append(imply.implied_kube_dns(svc_network))
    ns_map: dict[str, Namespace] = {}
    for ns in namespaces:
        ns_map.setdefault(ns.name, ns)
    eps = sorted(split.endpoints, key=lambda e: (e.namespace, e.name))
    pols = sorted(policies, key=lambda p: (p.namespace, p.name))
    svcs.sort(key=lambda s: (s.namespace, s.name))
    for name in ({e.namespace for e in eps} | {p.namespace for p in pols}
                 | {s.namespace for s in svcs}):
        if name not in ns_map:
            ns_map[name] = Namespace.make(name, implied=True)
    eps = _assign_ips(eps, network, diags)
    diags.extend(no_ip_warning(ep) for ep in eps if ep.ip_assigned and ep.phase is not None)
    svcs = _assign_service_ips(svcs, svc_network, diags)
    controllers = tuple(sorted(split.controllers, key=lambda e: (e.namespace, e.name, e.kind)))
    enforced = tuple(p for p in pols if not p.audited)
    audited = tuple(p for p in pols if p.audited)
    cnps = tuple(sorted(cluster_policies, key=lambda p: (p.tier.value, p.order)))
    return Cluster(dict(sorted(ns_map.items())), tuple(eps), enforced, network,
                   tuple(svcs), svc_network, controllers, audited=audited, cluster_policies=cnps)


def _assign_service_ips(svcs: list[Service], network: IPNetwork,
                        diags: list[Diagnostic]) -> list[Service]:
    """Services without a cluster IP (and not headless by `clusterIP: None`) get one from the
    service CIDR, by a hash of `ns/name` as pods do; the first address (the `kubernetes`
    Service's) and the tenth (kube-dns's) are left alone."""
    used: dict[int, Service] = {}
    for svc in svcs:
        if svc.cluster_ip is not None:
            other = used.setdefault(int(svc.cluster_ip), svc)
            if other is not svc:
                src = svc.source
                diags.append(Diagnostic(
                    f"cluster IP {svc.cluster_ip} is also the address of Service {other.key}",
                    Severity.WARNING, file=src.file if src else None,
                    line=src.line if src else None, obj=f"Service {svc.key}",
                    path="spec.clusterIP"))
    missing = [i for i, s in enumerate(svcs) if s.cluster_ip is None and s.cluster_ip_missing]
    if not missing:
        return svcs
    base = int(network.network_address)
    reserved = {base, base + 1, int(imply.kube_dns_address(network)),
                int(network.broadcast_address)}
    size = network.num_addresses
    if len(missing) > size - len(reserved) - len(used):
        raise ValueError(f"service CIDR {network} has no room for {plural(len(missing), 'Service')}"
                         ": pass a larger --service-cidr")
    out = list(svcs)
    for i in missing:
        svc = svcs[i]
        slot = zlib.crc32(svc.key.encode()) % size
        while base + slot in used or base + slot in reserved:
            slot = (slot + 1) % size
        used[base + slot] = svc
        out[i] = replace(svc, cluster_ip=ipaddress.ip_address(base + slot),
                         cluster_ip_assigned=True, cluster_ip_missing=False)
    return out


def _assign_ips(eps: list[Endpoint], network: IPNetwork, diags: list[Diagnostic]) -> list[Endpoint]:
    used: set[int] = set()
    for ep in eps:
        if ep.ip is not None:
            if int(ep.ip) in used:
                diags.append(Diagnostic(
                    f"IP {ep.ip} is used by more than one endpoint", Severity.WARNING,
                    file=ep.source.file if ep.source else None,
                    line=ep.source.line if ep.source else None,
                    obj=f"{ep.kind} {ep.key}", path="status.podIP"))
            used.add(int(ep.ip))
    missing = [i for i, ep in enumerate(eps) if ep.ip is None]
    if not missing:
        return eps
    first = int(network.network_address) + 1
    size = max(network.num_addresses - 2, 1) if network.num_addresses > 2 else network.num_addresses
    free = size - sum(1 for u in used if first <= u < first + size)
    if len(missing) > free:
        raise ValueError(
            f"pod CIDR {network} has room for {plural(free, 'more address', 'more addresses')} but "
            f"{plural(len(missing), 'endpoint')} need one: pass a larger --pod-cidr"
        )
    out = list(eps)
    for i in missing:
        ep = eps[i]
        slot = zlib.crc32(ep.key.encode()) % size
        while first + slot in used:
            slot = (slot + 1) % size
        used.add(first + slot)
        out[i] = replace(ep, ip=ipaddress.ip_address(first + slot), ip_assigned=True)
    return out
