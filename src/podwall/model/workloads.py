"""Namespaces and endpoints (a Pod, or one workload controller standing for its pods)."""

from __future__ import annotations

from dataclasses import dataclass, field

from podwall.model.labels import Labels
from podwall.model.policy import IPAddress
from podwall.model.ports import ContainerPort
from podwall.model.source import Source

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
)


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace; `labels` always carries `kubernetes.io/metadata.name` (the API server sets it)."""

    name: str
    labels: Labels
    implied: bool = field(default=False, compare=False)
    source: Source | None = field(default=None, compare=False)

    @staticmethod
    def make(name: str, labels: dict[str, str] | None = None, *, implied: bool = False,
             source: Source | None = None) -> Namespace:
        merged = dict(labels or {})
        merged[NAMESPACE_NAME_LABEL] = name
        return Namespace(name, Labels(merged), implied, source)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Something that sends and receives traffic inside the cluster: a Pod or a workload's pods.

    `ip` is the pod IP (from `status.podIP`, or assigned deterministically when absent).

    What a snapshot of a live cluster says about the object, used to decide whether it is an
    endpoint at all (see model.snapshot) and never compared: `owners` are the `(kind, name)` of
    its `metadata.ownerReferences`; `phase` is a Pod's `status.phase` ("" when it has a status
    without one, None when it has no status: a manifest); `replicas` a controller's
    `spec.replicas` when given; `live` that a controller carries a `status` (it was read from a
    cluster). `implied` marks a component every cluster has that the input did not carry.
    """

    namespace: str
    name: str
    labels: Labels
    ports: tuple[ContainerPort, ...] = ()
    ip: IPAddress | None = None
    kind: str = "Pod"
    ip_assigned: bool = field(default=False, compare=False)
    source: Source | None = field(default=None, compare=False)
    owners: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    phase: str | None = field(default=None, compare=False)
    replicas: int | None = field(default=None, compare=False)
    live: bool = field(default=False, compare=False)
    implied: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return self.key
