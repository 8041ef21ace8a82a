"""A cluster snapshot: namespaces, endpoints and policies, complete and canonical.

`build_cluster` is the one place that fills gaps the way a cluster would: namespaces that are
referenced but not defined are implied, and endpoints without an IP get one from the pod CIDR.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from podwall.errors import Diagnostic, Severity
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.policy import IPAddress, IPNetwork, NetworkPolicy
from podwall.model.services import Service
from podwall.model.words import plural
from podwall.model.workloads import Endpoint, Namespace

DEFAULT_POD_CIDR = "10.244.0.0/16"


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
) -> Cluster:
    """Assemble a canonical snapshot: imply missing namespaces, assign missing pod IPs.

    IPs are assigned from a hash of `ns/name` with linear probing, so adding one pod does not move
    the others (a diff between two inputs does not see spurious IP changes).
    """
    diags = diagnostics if diagnostics is not None else []
    network = ipaddress.ip_network(pod_cidr, strict=False) if isinstance(pod_cidr, str) else pod_cidr
    ns_map: dict[str, Namespace] = {}
    for ns in namespaces:
        ns_map.setdefault(ns.name, ns)
    eps = sorted(endpoints, key=lambda e: (e.namespace, e.name))
    pols = sorted(policies, key=lambda p: (p.namespace, p.name))
    for name in {e.namespace for e in eps} | {p.namespace for p in pols}:
        if name not in ns_map:
            ns_map[name] = Namespace.make(name, implied=True)
    eps = _assign_ips(eps, network, diags)
    enforced = tuple(p for p in pols if not p.audited)
    audited = tuple(p for p in pols if p.audited)
    cnps = tuple(sorted(cluster_policies, key=lambda p: (p.tier.value, p.order)))
    return Cluster(dict(sorted(ns_map.items())), tuple(eps), enforced, network, audited=audited,
                   cluster_policies=cnps)


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
