"""ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) as immutable, validated values.

The cluster-admin tiers of SIG Network's network-policy-api: policies that apply across
namespaces, whose rules Accept, Deny or Pass, ordered by `priority` inside a tier. The v1alpha1
AdminNetworkPolicy (tier Admin) and BaselineAdminNetworkPolicy (tier Baseline, the singleton
`default`) are read onto the same values, so the engine knows one shape (`Allow` is `Accept`).

Followed: kubernetes-sigs/network-policy-api apis/v1alpha2/clusternetworkpolicy_types.go at
commit 066a9454c5585568d99b22723b847bcf13df6b41, apis/v1beta1 (30ea168a: the same types under
the next version, which the upstream conformance suite now uses), and apis/v1alpha1
(adminnetworkpolicy_types.go 354de2d8, shared_types.go a18add2e) for the older kinds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction, IPNetwork
from podwall.model.ports import Protocol
from podwall.model.source import Source

API_GROUP = "policy.networking.k8s.io"
V1ALPHA2 = f"{API_GROUP}/v1alpha2"
V1ALPHA1 = f"{API_GROUP}/v1alpha1"
V1BETA1 = f"{API_GROUP}/v1beta1"  # network-policy-api's next version: the same shape as v1alpha2


class Tier(enum.StrEnum):
    """Where a policy sits: Admin before NetworkPolicy, Baseline after it."""

    ADMIN = "Admin"
    BASELINE = "Baseline"

    @property
    def word(self) -> str:
        return "admin" if self is Tier.ADMIN else "baseline"


class Action(enum.StrEnum):
    """What a matching rule does. v1alpha1's `Allow` reads as `Accept`."""

    ACCEPT = "Accept"
    DENY = "Deny"
    PASS = "Pass"


class PeerKind(enum.StrEnum):
    """The one field a peer sets (the CRD enforces exactly one)."""

    NAMESPACES = "namespaces"
    PODS = "pods"
    NETWORKS = "networks"
    NODES = "nodes"
    DOMAIN_NAMES = "domainNames"

    @property
    def offline(self) -> bool:
        """Whether podwall can decide the peer from manifests alone. Nodes (their addresses
        live in Node objects' status) and domain names (resolved at run time) cannot be."""
        return self not in (PeerKind.NODES, PeerKind.DOMAIN_NAMES)


@dataclass(frozen=True, slots=True)
class Subject:
    """The pods a policy applies to: every pod of matching namespaces (`pod_selector` None),
    or the pods matching `pod_selector` in them."""

    namespace_selector: LabelSelector
    pod_selector: LabelSelector | None = None

    def __str__(self) -> str:
        if self.pod_selector is None:
            return f"pods in namespaces {self.namespace_selector}"
        return f"pods {self.pod_selector} in namespaces {self.namespace_selector}"


@dataclass(frozen=True, slots=True)
class ClusterPeer:
    """One peer. `namespace_selector` (and `pod_selector` for PODS) for pod peers; `networks`
    for NETWORKS; `node_selector` for NODES; `domain_names` for DOMAIN_NAMES."""

    kind: PeerKind
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    networks: tuple[IPNetwork, ...] = ()
    node_selector: LabelSelector | None = None
    domain_names: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind is PeerKind.NAMESPACES:
            return f"namespaces {self.namespace_selector}"
        if self.kind is PeerKind.PODS:
            return f"pods {self.pod_selector} in namespaces {self.namespace_selector}"
        if self.kind is PeerKind.NETWORKS:
            return "networks " + ", ".join(str(n) for n in self.networks)
        if self.kind is PeerKind.NODES:
            return f"nodes {self.node_selector}"
        return "domain names " + ", ".join(self.domain_names)


@dataclass(frozen=True, slots=True)
class ClusterPort:
    """A destination port: `protocol` with `start..end` (a number is start == end), or a
    container-port `name` resolved on the destination pod (any protocol, as the API has it)."""

    protocol: Protocol | None = None
    start: int = 0
    end: int = 0
    name: str | None = None

    def __str__(self) -> str:
        if self.name is not None:
            return f"named port {self.name}"
        if self.start == self.end:
            return f"{self.protocol}/{self.start}"
        return f"{self.protocol}/{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class ClusterRule:
    """An ingress or egress rule: the first one that matches decides `action`.

    Empty `ports` = every port and protocol (the field was omitted). `peers` is never empty
    (the CRD requires at least one).
    """

    action: Action
    peers: tuple[ClusterPeer, ...]
    ports: tuple[ClusterPort, ...] = ()
    name: str = ""

    @property
    def offline_peers(self) -> bool:
        return all(p.kind.offline for p in self.peers)


@dataclass(frozen=True, slots=True)
class ClusterNetworkPolicy:
    """A ClusterNetworkPolicy, or a v1alpha1 AdminNetworkPolicy/BaselineAdminNetworkPolicy.

    `kind` and `api_version` keep what the manifest said (messages name the object as written).
    """

    name: str
    tier: Tier
    priority: int
    subject: Subject
    ingress: tuple[ClusterRule, ...] = ()
    egress: tuple[ClusterRule, ...] = ()
    kind: str = "ClusterNetworkPolicy"
    api_version: str = V1ALPHA2
    source: Source | None = field(default=None, compare=False)
    annotations: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """`admin/allow-dns`: the tier and the name (names are cluster-wide)."""
        return f"{self.tier.word}/{self.name}"

    @property
    def order(self) -> tuple[int, int, str]:
        """Evaluation order inside the tier: priority, then (a documented choice for ties,
        which the API leaves undefined) ClusterNetworkPolicy before the v1alpha1 kinds, then by
        name."""
        return (self.priority, 0 if self.kind == "ClusterNetworkPolicy" else 1, self.name)

    def rules(self, direction: Direction) -> tuple[ClusterRule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

    def __str__(self) -> str:
        return self.key


def tier_order(policies: tuple[ClusterNetworkPolicy, ...],
               tier: Tier) -> tuple[ClusterNetworkPolicy, ...]:
    """The policies of `tier` in evaluation order (see `ClusterNetworkPolicy.order`)."""
    return tuple(sorted((p for p in policies if p.tier is tier), key=lambda p: p.order))
