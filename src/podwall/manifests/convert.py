"""Documents -> validated model objects, reporting every problem at once with its field path.

Validation follows the Kubernetes API server: k8s.io/kubernetes pkg/apis/networking/validation
for NetworkPolicy, apimachinery's ObjectMeta, label, selector and name rules, and the container
port rules of pkg/apis/core/validation for the Pod fields podwall reads. Messages use its words
(`Invalid value: "x": ...`, `Required value`, `Unsupported value: ...`, `Forbidden: ...`).

As when the API server decodes JSON, `null` means the field's zero value: absent for optional
objects, lists and pointers, "" for strings, 0 for numbers (so `from: [null]` is a peer that
specifies nothing). A value of the wrong type is an error at its path naming the type expected.

This module decides what each document is (kind and apiVersion) and hands it to the reader of
its kind: networkpolicy, pods (Pods and workloads), namespaces, services, clusterpolicy; they
share report (the reporting context and paths), metadata, labels and ports. Nearly every
object of a real input is a plain, valid Pod or workload: `_fast` reads those without paths or
messages, and the reporting path reads everything else. Then `deduplicate` merges the
converted parts as `kubectl apply -f` would leave them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podwall.errors import Diagnostic, Severity
from podwall.manifests import kinds, syntax
from podwall.manifests.clusterpolicy import read_cluster_policy
from podwall.manifests.documents import Document, type_name
from podwall.manifests.fields import FieldValidation
from podwall.manifests.located import Located
from podwall.manifests.namespaces import read_namespace
from podwall.manifests.networkpolicy import read_policy
from podwall.manifests.pods import NotPlain, fast_endpoint, read_endpoint
from podwall.manifests.report import Ctx, Path
from podwall.manifests.services import read_service
from podwall.model import (
    WORKLOAD_KINDS,
    Endpoint,
    Namespace,
    NetworkPolicy,
    Service,
    Source,
)
from podwall.model.clusterpolicy import V1ALPHA1, V1ALPHA2, V1BETA1, ClusterNetworkPolicy

_API_VERSIONS = {
    "Namespace": "v1", "Pod": "v1", "ReplicationController": "v1",
    "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "Service": "v1",
}


@dataclass(slots=True)
class Converted:
    namespaces: list[Namespace] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    cluster_policies: list[ClusterNetworkPolicy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)


# -- the common, valid object, quickly -------------------------------------------------------------
# Nearly every object in a real input is valid and plain. The readers named _fast_* (in labels,
# metadata, ports and pods) read such an object without building field paths, a reporting
# context or a single message, and give up (None) at the first thing that is not plain and
# valid; the reporting path then reads the object again and says what is wrong. They accept
# only what the reporting path accepts without a word and build the same values
# (tests/manifests/test_fast_path.py holds them to that), so a result never depends on which
# path produced it.

def _fast(doc: Document, default_namespace: str) -> Endpoint | None:
    """The object of a document read the quick way, or None: the reporting path's turn."""
    data = doc.data
    if type(data) is not dict and (type(data) is not Located or data.nested_duplicates):
        return None
    kind = data.get("kind")
    if type(kind) is not str:
        return None
    api_version = data.get("apiVersion")
    try:
        if kind == "Pod":
            if api_version == "v1":
                return fast_endpoint(doc, data, kind, default_namespace)
        elif kind in _WORKLOAD_API and api_version == _WORKLOAD_API[kind]:
            return fast_endpoint(doc, data, kind, default_namespace)
    except NotPlain:
        pass
    return None


_WORKLOAD_API = {kind: _API_VERSIONS[kind] for kind in WORKLOAD_KINDS}


# -- entry point -----------------------------------------------------------------------------------

_KIND: Path = (None, "kind")
_API_VERSION: Path = (None, "apiVersion")


def convert(documents: list[Document], default_namespace: str = "default",
            validation: FieldValidation = FieldValidation.STRICT) -> Converted:
    """Turn documents into model objects; invalid objects are dropped and reported.
    `validation` says what an unknown field is (see fields.py).

    Duplicates are not resolved here (chunks may be converted in parallel): see `deduplicate`.
    """
    result = Converted()
    endpoints = result.endpoints
    for doc in documents:
        try:
            quick = _fast(doc, default_namespace)
        except Exception:  # pragma: no cover - a bug in the quick path: the careful one decides
            quick = None
        if quick is not None:
            endpoints.append(quick)
            continue
        ctx = Ctx(doc, result.diagnostics, validation)
        try:
            obj = _convert_one(ctx, default_namespace)
        except RecursionError:
            ctx.error(None, "object is nested too deeply to read")
            continue
        except Exception as exc:  # pragma: no cover - a bug; say so instead of a traceback
            ctx.error(None, f"podwall could not read this object (a bug, please report it): "
                            f"{type(exc).__name__}: {exc}")
            continue
        if obj is None:
            continue
        if isinstance(obj, Endpoint):
            result.endpoints.append(obj)
        elif isinstance(obj, ClusterNetworkPolicy):
            result.cluster_policies.append(obj)
        elif isinstance(obj, NetworkPolicy):
            result.policies.append(obj)
        elif isinstance(obj, Service):
            result.services.append(obj)
        else:
            result.namespaces.append(obj)
    return result


def _convert_one(ctx: Ctx, default_namespace: str,
                 ) -> Namespace | Endpoint | NetworkPolicy | ClusterNetworkPolicy | Service | None:
    data = ctx.data
    if not isinstance(data, dict):
        ctx.error(None, f'Invalid value: "{type_name(data)}": expected object (a Kubernetes '
                        "object with apiVersion, kind and metadata)")
        return None
    kind = _kind_field(ctx, data.get("kind"), _KIND, "kind")
    api_version = _kind_field(ctx, data.get("apiVersion"), _API_VERSION, "apiVersion")
    obj: Namespace | Endpoint | NetworkPolicy | ClusterNetworkPolicy | Service | None = None
    if kind and api_version:
        expected = _API_VERSIONS.get(kind)
        no_match = kinds.no_match(kind, api_version)
        if kind in CLUSTER_POLICY_KINDS:
            obj = _cluster_policy(ctx, kind, api_version, data)
        elif no_match is not None:
            ctx.obj = _label_of(kind, data)
            ctx.error(_KIND, no_match)
        elif expected is None:
            ctx.obj = _label_of(kind, data)
            ctx.report(Severity.INFO, None, f"skipped: kind {kind} is not used by podwall")
        elif api_version != expected:
            ctx.obj = _label_of(kind, data)
            if kind == "NetworkPolicy":
                ctx.unsupported(_API_VERSION, api_version, '"networking.k8s.io/v1" (only '
                                "networking.k8s.io/v1 NetworkPolicy is supported)")
            else:
                ctx.warn(_API_VERSION, f"skipped: podwall reads {kind} from {expected}, not "
                                       f"{api_version}")
        elif kind == "NetworkPolicy":
            obj = read_policy(ctx, default_namespace)
        elif kind == "Namespace":
            obj = read_namespace(ctx)
        elif kind == "Service":
            obj = read_service(ctx, default_namespace)
        elif kind == "Pod" or kind in WORKLOAD_KINDS:
            obj = read_endpoint(ctx, kind, default_namespace)
    if isinstance(data, Located) and data.nested_duplicates:
        ctx.duplicates(data, None)
    return obj


CLUSTER_POLICY_KINDS = {  # kind -> the API versions podwall reads it from
    "ClusterNetworkPolicy": (V1ALPHA2, V1BETA1),
    "AdminNetworkPolicy": (V1ALPHA1,),
    "BaselineAdminNetworkPolicy": (V1ALPHA1,),
}


def _cluster_policy(ctx: Ctx, kind: str, api_version: str,
                    data: dict[str, Any]) -> ClusterNetworkPolicy | None:
    """A policy of the cluster-admin tiers, if podwall reads its kind from this API version
    (clusterpolicy reads it)."""
    expected = CLUSTER_POLICY_KINDS[kind]
    if api_version not in expected:
        ctx.obj = _label_of(kind, data)
        ctx.unsupported(_API_VERSION, api_version, ", ".join(syntax.go_quote(v) for v in expected))
        return None
    return read_cluster_policy(ctx, kind, api_version)


def _kind_field(ctx: Ctx, value: Any, path: Path, field_name: str) -> str | None:
    if value is None or value == "":
        ctx.required(path, f"{field_name} is not set")
        return None
    if not isinstance(value, str):
        ctx.wrong_type(path, value, "string")
        return None
    return value


def _label_of(kind: str, data: dict[str, Any]) -> str:
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{kind} {name}" if isinstance(name, str) and name else kind


def deduplicate(parts: list[Converted]) -> Converted:
    """Merge converted chunks in input order; of objects with the same name the last one wins,
    as `kubectl apply -f DIR` leaves the cluster (each apply overwrites the one before), with a
    warning at it that names the one it replaces.

    Two endpoints with the same namespace/name collide even when their kinds differ: both would
    be `ns/name` to every query. (Labels and messages are made only for a duplicate: this runs
    once for every object of the input.)
    """
    merged = Converted()
    diagnostics = merged.diagnostics
    namespaces: dict[str, Namespace] = {}
    endpoints: dict[tuple[str, str], Endpoint] = {}
    policies: dict[tuple[str, str], NetworkPolicy] = {}
    cluster_policies: dict[tuple[str, str], ClusterNetworkPolicy] = {}
    services: dict[tuple[str, str], Service] = {}
    for part in parts:
        diagnostics.extend(part.diagnostics)
        for cnp in part.cluster_policies:
            earlier_cnp = cluster_policies.get((cnp.kind, cnp.name))
            if earlier_cnp is not None:
                diagnostics.append(_duplicate(f"{cnp.kind} {cnp.name}", earlier_cnp.source,
                                              f"{cnp.kind} {cnp.name}", cnp.source))
            cluster_policies[(cnp.kind, cnp.name)] = cnp
        for ns in part.namespaces:
            earlier_ns = namespaces.get(ns.name)
            if earlier_ns is not None:
                diagnostics.append(_duplicate(f"Namespace {earlier_ns.name}", earlier_ns.source,
                                              f"Namespace {ns.name}", ns.source))
            namespaces[ns.name] = ns
        for ep in part.endpoints:
            key = (ep.namespace, ep.name)
            earlier_ep = endpoints.get(key)
            if earlier_ep is not None:
                diagnostics.append(_duplicate(f"{earlier_ep.kind} {earlier_ep.key}",
                                              earlier_ep.source, f"{ep.kind} {ep.key}", ep.source))
            endpoints[key] = ep
        for pol in part.policies:
            key = (pol.namespace, pol.name)
            earlier_pol = policies.get(key)
            if earlier_pol is not None:
                diagnostics.append(_duplicate(f"NetworkPolicy {earlier_pol.key}", earlier_pol.source,
                                              f"NetworkPolicy {pol.key}", pol.source))
            policies[key] = pol
        for svc in part.services:
            skey = (svc.namespace, svc.name)
            earlier_svc = services.get(skey)
            if earlier_svc is not None:
                diagnostics.append(_duplicate(f"Service {earlier_svc.key}", earlier_svc.source,
                                              f"Service {svc.key}", svc.source))
            services[skey] = svc
    merged.namespaces = list(namespaces.values())
    merged.endpoints = list(endpoints.values())
    merged.policies = list(policies.values())
    merged.cluster_policies = list(cluster_policies.values())
    merged.services = list(services.values())
    return merged


def _duplicate(earlier: str, earlier_source: Source | None, label: str,
               source: Source | None) -> Diagnostic:
    where = f"{earlier} at {earlier_source}" if earlier_source is not None else earlier
    return Diagnostic(f"duplicate object: {where} has the same name; this one, the last, is "
                      "used (as kubectl apply -f leaves it)",
                      Severity.WARNING, file=source.file if source else None,
                      line=source.line if source else None, obj=label, path="metadata.name")
