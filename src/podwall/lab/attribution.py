"""Which policies a logged packet met: the engine's answer for the generation that judged it.

An NFLOG event says what the kernel did (`drop`, `audit`, `allow`), where (`egress` at the
source, `ingress` at the destination, or `forward`: neither side isolated), and which ruleset
generation's rule logged it (podwall.dataplane.logprefix.parse_prefix). The packet's addresses
name the pods (anti-spoofing guarantees a pod's source address). Attribution asks the engine of
*that* generation's cluster, so an event judged just before `lab apply` swapped the ruleset
names the policies that were in force then, not the new ones.

The words are `check`'s (podwall.analysis.wording.direction_line): a drop reads "egress at
shop/web: denied — isolated by shop/default-deny; no rule admits shop/db". With cluster policies
the event names the deciding tier, policy, priority and rule ("denied — Deny in
admin/protect-monitoring ingress[1] (nobody-else) at priority 20 (Admin tier)") and the Pass
rules on the way, as `check` does; a tier's Deny chain says in its log prefix which tier dropped
(`pw drop ingress g3 monitoring admin`), and an event whose kernel tier is not the engine's
says that the two disagree.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from podwall.analysis.wording import direction_line, kernel_tier_disagrees_words
from podwall.dataplane.logprefix import LogPrefix
from podwall.dataplane.nflog import LogPacket
from podwall.engine import Engine
from podwall.engine.verdict import ClusterRuleRef, DirectionVerdict, RuleRef
from podwall.errors import PodwallError
from podwall.model import Cluster, Direction, Endpoint, PortQuery, Protocol

PORTED = {p.value for p in Protocol}  # TCP, UDP, SCTP: the protocols policies name ports of


@dataclass(frozen=True, slots=True)
class Event:
    """One attributed event: what `lab logs -o json` prints, one JSON object per line."""

    time: float
    action: str  # drop | audit | allow
    direction: str  # egress | ingress | forward (where it was judged)
    src: str  # ns/pod, or the IP of a host outside the cluster
    dst: str
    src_ip: str
    dst_ip: str
    protocol: str
    port: int | None
    generation: int
    # drop/audit: the NetworkPolicies isolating the pod there, or the cluster policy whose
    # Deny decided (`admin/protect-monitoring`); allow: the admitting policies
    policies: tuple[str, ...] = ()
    # allow: the rules that admitted it (`ns/name ingress[0]`, a cluster policy's Accept);
    # drop/audit: the cluster policy's Deny rule that decided (none for a NetworkPolicy drop)
    rules: tuple[str, ...] = ()
    reason: str = ""
    tier: Decision | None = None  # with cluster policies: how the tiers decided (see Decision)

    @property
    def pod(self) -> str:
        """The pod where it was judged: the source for egress, the destination otherwise."""
        return self.src if self.direction == "egress" else self.dst

    def to_json(self) -> dict[str, Any]:
        return {"time": iso_time(self.time), "action": self.action, "src": self.src,
                "dst": self.dst, "protocol": self.protocol, "port": self.port,
                "direction": self.direction, "policies": list(self.policies),
                "rules": list(self.rules), "reason": self.reason,
                "srcIP": self.src_ip, "dstIP": self.dst_ip, "generation": self.generation,
                "tier": self.tier.to_json() if self.tier is not None else None}


@dataclass(frozen=True, slots=True)
class Decision:
    """How the tiers decided the side where the event was judged: the deciding `tier`
    ("admin", "networkpolicy", "baseline" or "default"), its Accept/Deny `rule` (None when a
    NetworkPolicy or the default decided), the Pass rules followed on the way, and the tier
    whose Deny chain logged the packet by the kernel's own prefix ("": none did)."""

    tier: str
    rule: ClusterRuleRef | None
    passed: tuple[ClusterRuleRef, ...]
    kernel: str = ""

    @staticmethod
    def of(side: DirectionVerdict, kernel: str) -> Decision | None:
        if not side.tier:
            return None  # no cluster policies in this generation
        return Decision(side.tier, side.decided_by, side.passed, kernel)

    def to_json(self) -> dict[str, Any]:
        return {"decidedBy": self.tier,
                "rule": self.rule.to_json() if self.rule is not None else None,
                "passed": [r.to_json() for r in self.passed], "kernel": self.kernel or None}


def iso_time(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attribute(engine: Engine | None, packet: LogPacket, prefix: LogPrefix,
              audit: Engine | None = None) -> Event:
    """The event `packet` (logged with `prefix`) stands for, in the words of `check`.

    `engine` is the one of the generation in the prefix; None when that generation is no longer
    known (then the event names addresses only, and says so).
    """
    base = Event(time=packet.time, action=prefix.action, direction=prefix.stage,
                 src=packet.src, dst=packet.dst, src_ip=packet.src, dst_ip=packet.dst,
                 protocol=packet.protocol, port=packet.port, generation=prefix.generation)
    if engine is None:
        return replace(base, reason=f"ruleset generation {prefix.generation} is no longer "
                                    "known: attributed by address only")
    if prefix.action == "audit":  # logged by the audit view: judge it as the audit view would
        engine = audit if audit is not None else audit_engine(engine)
    try:
        source, target = engine.resolve(packet.src), engine.resolve(packet.dst)
    except PodwallError:
        return replace(base, reason="not an address podwall can judge")
    base = replace(base, src=source.key, dst=target.key)
    if packet.protocol in PORTED and packet.port is not None:
        verdict = engine.check(source, target, PortQuery(Protocol(packet.protocol), packet.port))
        sides = {"egress": verdict.egress, "ingress": verdict.ingress}
    else:  # no port to judge (ICMP, fragments): which policies isolate each side is still known
        sides = {d.word: _isolation(engine, end, d)
                 for d, end in ((Direction.EGRESS, source), (Direction.INGRESS, target))}
    peers = {"egress": base.dst, "ingress": base.src}
    if prefix.action == "allow":
        refs: list[ClusterRuleRef | RuleRef] = []
        for side in sides.values():
            refs.extend(_accepted(side))
            refs.extend(side.admitted_by)
        admitting = [(r.policy, str(r)) for r in refs]
        reason = "; ".join(direction_line(side, peers[word]) for word, side in sides.items())
        judged = sides.get(prefix.stage)
        return replace(base, policies=tuple(dict.fromkeys(p for p, _ in admitting)),
                       rules=tuple(r for _, r in admitting), reason=reason,
                       tier=Decision.of(judged, prefix.tier) if judged is not None else None)
    if prefix.stage not in sides:
        return replace(base, reason=f"{prefix.action} at {prefix.stage}")
    side = sides[prefix.stage]
    reason = direction_line(side, peers[prefix.stage])
    if prefix.action == "audit":
        reason = f"{reason} (under audit: allowed now, not enforced)"
    denying = side.decided_by if side.decided_by is not None and not side.allowed else None
    if side.allowed:
        reason = (f"{reason} — but the kernel dropped it: the model and the kernel disagree "
                  "(podwall lab verify)")
    elif side.tier and prefix.tier != (denying.tier if denying is not None else ""):
        reason += kernel_tier_disagrees_words(prefix.tier)
    if denying is not None:
        return replace(base, policies=(denying.policy,), rules=(str(denying),), reason=reason,
                       tier=Decision.of(side, prefix.tier))
    return replace(base, policies=side.isolated_by, reason=reason,
                   tier=Decision.of(side, prefix.tier))


def _accepted(side: DirectionVerdict) -> tuple[ClusterRuleRef, ...]:
    """The cluster policy's Accept that allowed `side`, if one did."""
    ref = side.decided_by
    return (ref,) if ref is not None and side.allowed else ()


def audit_engine(engine: Engine) -> Engine:
    """The engine of `engine`'s audit view (audited policies enforced); itself without any."""
    return Engine(engine.cluster.audit_view()) if engine.cluster.audited else engine


def _isolation(engine: Engine, end: object, direction: Direction) -> DirectionVerdict:
    if not isinstance(end, Endpoint):
        return DirectionVerdict(direction, str(getattr(end, "key", end)), True, applies=False)
    policies = tuple(p.key for p in engine.selecting(end, direction))
    return DirectionVerdict(direction, end.key, not policies, isolated_by=policies)


class Generations:
    """The engines of the last few ruleset generations, loaded on demand by `load(n)`
    (a cluster, or None when that generation's snapshot is not there), and the events they
    attributed (a flood repeats the same few packets: one engine query each). Audit events
    are judged by the generation's audit view, whose engine is kept beside its own."""

    def __init__(self, load: Callable[[int], Cluster | None], keep: int = 8) -> None:
        self._load = load
        self.keep = keep
        self._engines: OrderedDict[int, Engine] = OrderedDict()
        self._audit: dict[int, Engine] = {}  # generation -> its audit view's engine
        self._seen: OrderedDict[tuple[object, ...], Event] = OrderedDict()
        self.newest = 0

    def attribute(self, packet: LogPacket, prefix: LogPrefix, engine: Engine | None) -> Event:
        key = (prefix.action, prefix.stage, prefix.generation, engine is None, packet.src,
               packet.dst, packet.protocol, packet.port)
        found = self._seen.get(key)
        if found is None:
            audit = None
            if engine is not None and prefix.action == "audit":
                audit = self._audit.get(prefix.generation)
                if audit is None:
                    audit = self._audit[prefix.generation] = audit_engine(engine)
            found = self._seen[key] = attribute(engine, packet, prefix, audit)
            if len(self._seen) > 4096:
                self._seen.popitem(last=False)
        return replace(found, time=packet.time)

    def engine(self, generation: int) -> Engine | None:
        found = self._engines.get(generation)
        if found is None:
            cluster = self._load(generation)
            if cluster is None:
                return None
            found = self._engines[generation] = Engine(cluster)
            while len(self._engines) > self.keep:
                gone, _ = self._engines.popitem(last=False)
                self._audit.pop(gone, None)
        self._engines.move_to_end(generation)
        self.newest = max(self.newest, generation)
        return found


__all__ = ["Decision", "Event", "Generations", "attribute", "iso_time"]
