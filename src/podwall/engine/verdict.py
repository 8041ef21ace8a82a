"""Verdicts with their reasons: what was decided, per direction, and which rules decided it.

Renderers only format these; they never re-derive a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.model import Direction, PortQuery


@dataclass(frozen=True, slots=True, order=True)
class RuleRef:
    """Rule `index` of `direction` in policy `policy` (`ns/name`): `prod/db-allow ingress[0]`."""

    policy: str
    direction: Direction
    index: int

    def __str__(self) -> str:
        return f"{self.policy} {self.direction.word}[{self.index}]"

    def to_json(self) -> dict[str, object]:
        return {"policy": self.policy, "direction": self.direction.word, "rule": self.index}


@dataclass(frozen=True, slots=True, order=True)
class ClusterRuleRef:
    """Rule `index` of `direction` in a cluster policy: `admin/allow-dns egress[0]`, with what
    reasons print beside it (tier, priority, action, the rule's own name)."""

    tier: str  # "admin" or "baseline" (evaluation order: sort by tier, priority, policy)
    priority: int
    policy: str  # `admin/allow-dns`
    direction: Direction
    index: int
    action: str  # "Accept", "Deny", "Pass"
    name: str = ""

    def __str__(self) -> str:
        named = f" ({self.name})" if self.name else ""
        return f"{self.policy} {self.direction.word}[{self.index}]{named}"

    def to_json(self) -> dict[str, object]:
        return {"policy": self.policy, "tier": self.tier, "priority": self.priority,
                "direction": self.direction.word, "rule": self.index, "action": self.action,
                "name": self.name}


@dataclass(frozen=True, slots=True)
class DirectionVerdict:
    """The verdict of one side: egress at the source, or ingress at the destination.

    `applies` is False when that side is not a pod (an IP outside the cluster): nothing to
    enforce there, so it allows. `isolated_by` empty means the pod is not isolated (allows all).
    """

    direction: Direction
    subject: str
    allowed: bool
    applies: bool = True
    isolated_by: tuple[str, ...] = ()
    admitted_by: tuple[RuleRef, ...] = ()
    # With cluster policies in the input (empty `tier` otherwise): the tier that decided
    # ("admin", "networkpolicy", "baseline" or "default"), the cluster-policy rule that did
    # (Accept or Deny), the Pass rules followed on the way, and the rules whose peers
    # (nodes, domainNames) cannot be decided offline that came before the decision.
    tier: str = ""
    decided_by: ClusterRuleRef | None = None
    passed: tuple[ClusterRuleRef, ...] = ()
    unknown: tuple[ClusterRuleRef, ...] = ()
    decided: bool = True  # False: the answer depends on a rule in `unknown`

    @property
    def isolated(self) -> bool:
        return bool(self.isolated_by)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "direction": self.direction.word,
            "subject": self.subject,
            "allowed": self.allowed,
            "applies": self.applies,
            "isolated": self.isolated,
            "isolatedBy": list(self.isolated_by),
            "admittedBy": [r.to_json() for r in self.admitted_by],
        }
        if self.tier:
            out["tier"] = self.tier
            out["decided"] = self.decided
            out["decidedBy"] = self.decided_by.to_json() if self.decided_by else None
            out["passed"] = [r.to_json() for r in self.passed]
            out["cannotDecideOffline"] = [r.to_json() for r in self.unknown]
        return out


@dataclass(frozen=True, slots=True)
class AssignedAddress:
    """An endpoint without `status.podIP`, whose address podwall assigned, lying in ipBlocks
    that the verdict consulted (`rules`: where each ipBlock is; `blocks`: the ipBlocks as
    written). Whether an ipBlock matches pod IPs differs between CNIs, and the address is
    invented: the verdict must say that it rests on it."""

    endpoint: str
    address: str
    blocks: tuple[str, ...]
    rules: tuple[RuleRef, ...]

    def to_json(self) -> dict[str, object]:
        return {"endpoint": self.endpoint, "address": self.address,
                "ipBlocks": list(self.blocks), "rules": [r.to_json() for r in self.rules]}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether `src` may open a connection to `dst` on `port`, and why.

    Allowed iff egress at src and ingress at dst both allow, or src and dst are the same pod.
    """

    src: str
    dst: str
    port: PortQuery
    allowed: bool
    egress: DirectionVerdict
    ingress: DirectionVerdict
    same_endpoint: bool = False
    assigned: tuple[AssignedAddress, ...] = ()  # invented addresses the verdict rests on

    @property
    def decided(self) -> bool:
        """False when the answer depends on peers podwall cannot decide offline (nodes,
        domain names): `allowed` is then the answer if none of those peers match."""
        eg, ing = self.egress, self.ingress
        return (self.same_endpoint or (eg.decided and ing.decided)
                or (eg.decided and not eg.allowed) or (ing.decided and not ing.allowed))

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "from": self.src,
            "to": self.dst,
            "port": str(self.port),
            "allowed": self.allowed,
            "sameEndpoint": self.same_endpoint,
            "egress": self.egress.to_json(),
            "ingress": self.ingress.to_json(),
            "assignedAddresses": [a.to_json() for a in self.assigned],
        }
        if self.egress.tier or self.ingress.tier:
            out["decided"] = self.decided
        return out
