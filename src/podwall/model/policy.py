"""NetworkPolicy (networking.k8s.io/v1) as immutable, validated values."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field

from podwall.model.labels import LabelSelector
from podwall.model.ports import PolicyPort
from podwall.model.source import Source

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Direction(enum.StrEnum):
    INGRESS = "Ingress"
    EGRESS = "Egress"

    @property
    def word(self) -> str:
        """"ingress" or "egress", as sentences and JSON spell it."""
        return "ingress" if self is Direction.INGRESS else "egress"


ENFORCEMENT_ANNOTATION = "podwall.io/enforcement"


class Enforcement(enum.StrEnum):
    """What a policy does to traffic, from the annotation `podwall.io/enforcement`.

    ENFORCE (the default, and the only thing Kubernetes knows) isolates and admits. AUDIT is a
    dry run: the policy is evaluated in the *audit view* only, never in the enforced one, so a
    team can see what it would change before it changes anything (docs/concepts.md).
    """

    ENFORCE = "enforce"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class IPBlock:
    """`cidr` minus every `except`; `text` keeps the user's spelling (host bits may be set)."""

    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()
    text: str = ""

    def contains(self, address: IPAddress) -> bool:
        if address.version != self.cidr.version or address not in self.cidr:
            return False
        return not any(address in ex for ex in self.excepts)

    def __str__(self) -> str:
        base = self.text or str(self.cidr)
        if self.excepts:
            return f"{base} except {', '.join(str(e) for e in self.excepts)}"
        return base


@dataclass(frozen=True, slots=True)
class Peer:
    """A NetworkPolicyPeer. Exactly one shape holds (validation guarantees it):

    - `ip_block` alone;
    - `pod_selector` and/or `namespace_selector` (None = field absent; absent namespaceSelector
      means "the policy's own namespace", absent podSelector means "every pod").
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """An ingress or egress rule. Empty `peers` = every peer; empty `ports` = every port.

    `peers_given`/`ports_given` remember whether the field was written at all (lint wants to tell
    `from: []` from an omitted `from`); they do not change the meaning.
    """

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()
    peers_given: bool = field(default=False, compare=False)
    ports_given: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[Direction]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    policy_types_given: bool = field(default=True, compare=False)
    egress_given: bool = field(default=False, compare=False)  # `egress:` written, even if empty
    source: Source | None = field(default=None, compare=False)
    # metadata.annotations with string values (lint reads `podwall.io/lint-ignore`)
    annotations: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # from the annotation `podwall.io/enforcement`; it changes what the policy does, so it counts
    enforcement: Enforcement = Enforcement.ENFORCE

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

    def isolates(self, direction: Direction) -> bool:
        return direction in self.policy_types

    @property
    def audited(self) -> bool:
        return self.enforcement is Enforcement.AUDIT

    def __str__(self) -> str:
        return self.key


def default_policy_types(egress_rules: tuple[Rule, ...]) -> frozenset[Direction]:
    """The API server's defaulting: Ingress always, Egress only when egress rules are present."""
    if egress_rules:
        return frozenset({Direction.INGRESS, Direction.EGRESS})
    return frozenset({Direction.INGRESS})
