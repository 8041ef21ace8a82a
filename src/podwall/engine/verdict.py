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

    @property
    def isolated(self) -> bool:
        return bool(self.isolated_by)

    def to_json(self) -> dict[str, object]:
        return {
            "direction": self.direction.word,
            "subject": self.subject,
            "allowed": self.allowed,
            "applies": self.applies,
            "isolated": self.isolated,
            "isolatedBy": list(self.isolated_by),
            "admittedBy": [r.to_json() for r in self.admitted_by],
        }


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

    def to_json(self) -> dict[str, object]:
        return {
            "from": self.src,
            "to": self.dst,
            "port": str(self.port),
            "allowed": self.allowed,
            "sameEndpoint": self.same_endpoint,
            "egress": self.egress.to_json(),
            "ingress": self.ingress.to_json(),
            "assignedAddresses": [a.to_json() for a in self.assigned],
        }
