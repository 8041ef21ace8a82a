"""Live clusters: read what a kubeconfig points at into the same model objects files become.

The only module that talks to a Kubernetes API server. The objects read go through the very
conversion and validation that files go through (`manifests`), so the engine never sees where
they came from; their `Source` names the cluster (`cluster:CONTEXT`) where a file name would be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from podwall.cluster.config import ClusterError, Target, resolve
from podwall.cluster.read import CNP_GROUP, KINDS, Kind, LiveRead, Progress, read_cluster
from podwall.errors import Diagnostic, InputError, Severity
from podwall.manifests import LoadResult
from podwall.manifests.convert import convert, deduplicate
from podwall.manifests.documents import Document
from podwall.manifests.fields import FieldValidation
from podwall.model import DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, build_cluster

__all__ = [
    "KINDS",
    "ClusterError",
    "Kind",
    "LiveRead",
    "Progress",
    "Target",
    "applied",
    "load_live",
    "read_cluster",
    "resolve",
    "to_cluster",
    "to_list",
]


def to_cluster(read: LiveRead, *, pod_cidr: str = DEFAULT_POD_CIDR,
               service_cidr: str = DEFAULT_SERVICE_CIDR, implied: bool = False) -> LoadResult:
    """The model of what was read, with every diagnostic, exactly as a file holding the same
    objects (`to_list`) would load — only the Source differs."""
    name = read.target.source_name
    documents = [Document(name, index, obj) for index, obj in enumerate(read.objects)]
    # The server validated every object; a field podwall's schema lacks is a newer release's.
    merged = deduplicate([convert(documents, "default", FieldValidation.IGNORE)])
    diagnostics = [*merged.diagnostics]
    for kind in read.unserved:
        diagnostics.append(Diagnostic(unserved_words(kind), Severity.INFO, file=name))
    try:
        cluster = build_cluster(merged.namespaces, merged.endpoints, merged.policies,
                                pod_cidr=pod_cidr, diagnostics=diagnostics,
                                cluster_policies=merged.cluster_policies,
                                services=merged.services, service_cidr=service_cidr,
                                implied=implied)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    diagnostics.sort(key=lambda d: (d.file or "", d.line or 0))
    return LoadResult(cluster, tuple(diagnostics), len(documents))


def unserved_words(kind: Kind) -> str:
    """The note for a kind the server does not serve: none exist there, which is no error."""
    text = f"the server does not serve {kind.kind} ({kind.versions_words}): there are none to read"
    if kind.api_version.startswith(f"{CNP_GROUP}/"):
        text += (" (the network-policy-api CRDs are not installed: no cluster-admin policies "
                 "apply, and NetworkPolicy alone decides)")
    return text


def load_live(kubeconfig: str | None = None, context: str | None = None, *,
              pod_cidr: str = DEFAULT_POD_CIDR,
              progress: Callable[[Progress], None] | None = None,
              service_cidr: str = DEFAULT_SERVICE_CIDR, implied: bool = False) -> LoadResult:
    """Resolve the target as kubectl would, read it, and convert it."""
    return to_cluster(read_cluster(resolve(kubeconfig, context), progress=progress),
                      pod_cidr=pod_cidr, service_cidr=service_cidr, implied=implied)


def to_list(read: LiveRead) -> dict[str, Any]:
    """What was read as one `kind: List` (what `podwall snapshot` writes): loading it as a file
    gives the same answers as the live read. Where it came from is in the List's annotations."""
    return {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {
            "annotations": {
                "podwall.io/context": read.target.context,
                "podwall.io/server": read.target.server,
                "podwall.io/resource-versions": json.dumps(read.resource_versions,
                                                           sort_keys=True),
            },
        },
        "items": list(read.objects),
    }


def applied(live: LoadResult, new: LoadResult) -> LoadResult:
    """The cluster as it would be after `kubectl apply` of NEW: NEW's namespaces, endpoints,
    policies and cluster policies (ClusterNetworkPolicy, AdminNetworkPolicy,
    BaselineAdminNetworkPolicy, by kind and name) replace the live ones of the same name, every
    other live object stays.

    A replaced endpoint keeps its live IP when NEW gives none (applying does not move a pod);
    NEW's other endpoints without an IP get one that no live pod uses. A controller's pods are
    not predicted: a changed Deployment shows its change on the Deployment's endpoint, its
    running pods stay as they are until a rollout replaces them. Diagnostics are NEW's.
    """
    base, top = live.cluster, new.cluster
    namespaces = dict(base.namespaces)
    namespaces.update((name, ns) for name, ns in top.namespaces.items()
                      if not ns.implied or name not in namespaces)
    endpoints = {ep.key: ep for ep in base.endpoints}
    for ep in top.endpoints:
        if ep.implied:  # NEW's stand-in for the kube-dns the cluster has (or base implied)
            continue
        old = endpoints.get(ep.key)
        if ep.ip_assigned:
            ep = replace(ep, ip=old.ip, ip_assigned=old.ip_assigned) if old is not None \
                else replace(ep, ip=None, ip_assigned=False)
        endpoints[ep.key] = ep
    for ctl in (*base.controllers, *top.controllers):  # they decide again which are endpoints
        endpoints.setdefault(f"{ctl.kind}:{ctl.key}", ctl)
    policies = {p.key: p for p in base.all_policies}  # audited ones too: they are applied
    policies.update((p.key, p) for p in top.all_policies)
    cluster_policies = {(p.kind, p.name): p for p in base.cluster_policies}
    cluster_policies.update(((p.kind, p.name), p) for p in top.cluster_policies)
    services = {s.key: s for s in base.services}
    services.update((s.key, s) for s in top.services if not s.implied)
    diagnostics = list(new.diagnostics)
    try:
        cluster = build_cluster(namespaces.values(), endpoints.values(), policies.values(),
                                pod_cidr=base.pod_cidr, diagnostics=diagnostics,
                                cluster_policies=cluster_policies.values(),
                                services=services.values(), service_cidr=base.service_cidr)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return LoadResult(cluster, tuple(diagnostics), new.documents)
