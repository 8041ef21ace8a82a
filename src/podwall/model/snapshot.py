"""Which objects are endpoints: each app once, whether the input is a repository or a snapshot.

A repository of manifests holds each app once, as its controller (a Deployment): the
controller is the endpoint and stands for its pods. A snapshot of a live cluster
(`kubectl get all -A -o json`) holds each app several times: the Deployment, its current and
old ReplicaSets, and the running Pods. There the running pods are the endpoints (they have real
IPs, and a rollout's two pod templates are really both running), and the controllers above
them are not: their names resolve to their pods (`--from shop/web`).

The rule, object by object (owners are matched by kind and name in the same namespace,
through `metadata.ownerReferences`):
- a Pod in phase Succeeded or Failed is not an endpoint (it sends and receives nothing);
- a controller owned by another controller of the input (a ReplicaSet of a Deployment, a Job
  of a CronJob) is not an endpoint: its owner stands for it, or its pods do;
- a controller that owns pods of the input, directly or through the controllers it owns, is
  not an endpoint: those pods are;
- a live controller scaled to zero (`spec.replicas: 0`) is not an endpoint: it has no pods;
- a controller read from a live cluster (it has a `status`) when the input holds live Pods
  too is not an endpoint: it has no running pod;
- everything else is, as before: a manifest's controller stands for its pods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from podwall.errors import Diagnostic, Severity
from podwall.model.labels import Labels
from podwall.model.words import plural
from podwall.model.workloads import WORKLOAD_KINDS, Endpoint

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True, slots=True)
class Split:
    """`endpoints` are the endpoints; `controllers` the workloads that are not (their names
    resolve to their pods). Finished pods are in neither."""

    endpoints: list[Endpoint]
    controllers: tuple[Endpoint, ...]


def split_snapshot(objects: Iterable[Endpoint], diags: list[Diagnostic]) -> Split:
    items = list(objects)
    if not any(ep.owners or ep.phase is not None or ep.live for ep in items):
        return Split(items, ())  # a repository: every object is an endpoint, as ever
    by_name = {(ep.namespace, ep.kind, ep.name): ep for ep in items}
    live_pods = any(ep.kind == "Pod" and ep.phase is not None for ep in items)
    owning: set[tuple[str, str, str]] = set()  # controllers that own a running pod
    endpoints: list[Endpoint] = []
    controllers: list[Endpoint] = []
    for ep in items:
        if ep.kind != "Pod":
            continue
        if ep.phase in TERMINAL_PHASES:
            diags.append(_note(ep, f"not an endpoint: the pod has finished (phase {ep.phase})"))
            continue
        for owner in owner_chain(ep, by_name):
            owning.add((owner.namespace, owner.kind, owner.name))
    for ep in items:
        if ep.kind == "Pod":
            if ep.phase not in TERMINAL_PHASES:
                endpoints.append(ep)
            continue
        key = (ep.namespace, ep.kind, ep.name)
        parent = _parent(ep, by_name)
        if key in owning or parent is not None:
            controllers.append(ep)
        elif ep.replicas == 0 and ep.live:
            controllers.append(ep)
            diags.append(_note(ep, "not an endpoint: scaled to 0 replicas, it has no pods"))
        elif ep.live and live_pods:
            controllers.append(ep)
            diags.append(_note(ep, "not an endpoint: the snapshot holds no running pod of it"))
        else:
            endpoints.append(ep)
    return Split(endpoints, tuple(controllers))


def _parent(ep: Endpoint, by_name: dict[tuple[str, str, str], Endpoint]) -> Endpoint | None:
    for kind, name in ep.owners:
        owner = by_name.get((ep.namespace, kind, name))
        if owner is not None and owner is not ep:
            return owner
    return None


def owner_chain(ep: Endpoint, by_name: dict[tuple[str, str, str], Endpoint]) -> list[Endpoint]:
    """The controllers above `ep` in the input, nearest first (cycles end the walk)."""
    chain: list[Endpoint] = []
    seen = {id(ep)}
    parent = _parent(ep, by_name)
    while parent is not None and id(parent) not in seen:
        chain.append(parent)
        seen.add(id(parent))
        parent = _parent(parent, by_name)
    return chain


def members_of(controllers: tuple[Endpoint, ...], endpoints: tuple[Endpoint, ...]
               ) -> dict[str, tuple[Endpoint, ...]]:
    """For each controller's `ns/name`, the endpoints (pods) below it, sorted."""
    by_name = {(ep.namespace, ep.kind, ep.name): ep for ep in (*controllers, *endpoints)}
    found: dict[str, list[Endpoint]] = {c.key: [] for c in controllers}
    for ep in endpoints:
        for owner in owner_chain(ep, by_name):
            found.setdefault(owner.key, []).append(ep)
    return {key: tuple(sorted(eps, key=lambda e: e.key)) for key, eps in found.items()}


def absent_owners(controllers: tuple[Endpoint, ...], endpoints: tuple[Endpoint, ...]
                  ) -> dict[str, tuple[Endpoint, tuple[Endpoint, ...]]]:
    """Controllers that pods name as their owners but the input does not hold, as a
    `kubectl get pods -A -o json` snapshot has them: `ns/name` -> (a stand-in controller, the
    pods it owns), so that `--from ns/name` resolves there as it does with the controller in
    the input. A pod owned by ReplicaSet `web-<its pod-template-hash label>` also stands under
    Deployment `web` (the Deployment controller names its ReplicaSets so). A name that is an
    endpoint or a controller of the input is never taken."""
    present = {(c.namespace, c.kind, c.name) for c in (*controllers, *endpoints)}
    taken = {c.key for c in (*controllers, *endpoints)}
    found: dict[tuple[str, str, str], list[Endpoint]] = {}
    for ep in endpoints:
        if ep.kind != "Pod":
            continue
        for kind, name in ep.owners:
            if kind not in WORKLOAD_KINDS or (ep.namespace, kind, name) in present:
                continue
            found.setdefault((ep.namespace, kind, name), []).append(ep)
            template = ep.labels.get("pod-template-hash")
            if kind == "ReplicaSet" and template and name.endswith(f"-{template}"):
                deployment = name[:-len(template) - 1]
                if (ep.namespace, "Deployment", deployment) not in present:
                    found.setdefault((ep.namespace, "Deployment", deployment), []).append(ep)
    out: dict[str, tuple[Endpoint, tuple[Endpoint, ...]]] = {}
    for (ns, kind, name), pods in sorted(found.items()):
        key = f"{ns}/{name}"
        if key not in taken and key not in out:
            out[key] = (Endpoint(ns, name, Labels(), kind=kind),
                        tuple(sorted(pods, key=lambda e: e.key)))
    return out


def no_ip_warning(ep: Endpoint) -> Diagnostic:
    """A live pod without `status.podIP`: podwall gives it an address for the analysis, and
    says so, because an ipBlock verdict about it would rest on an invented address."""
    phase = f" (phase {ep.phase})" if ep.phase else ""
    return Diagnostic(
        f"the pod has a status but no IP{phase}: podwall assigns it {ep.ip} from --pod-cidr "
        "for the analysis; verdicts that match it by ipBlock rest on that invented address",
        Severity.WARNING, file=ep.source.file if ep.source else None,
        line=ep.source.line if ep.source else None, obj=f"{ep.kind} {ep.key}",
        path="status.podIP")


def _note(ep: Endpoint, message: str) -> Diagnostic:
    return Diagnostic(message, Severity.INFO, file=ep.source.file if ep.source else None,
                      line=ep.source.line if ep.source else None, obj=f"{ep.kind} {ep.key}")


def members_words(count: int) -> str:
    return plural(count, "pod")
