"""`lab verify` for the audit view: the kernel must count what the audit view would drop.

Audited policies are never enforced, so probes can only show the enforced view (and that the
audited policies dropped nothing: every connection the enforced model allows connected). What
the audit view would drop, the ruleset lets through after counting it in the audit counter of
the pod and direction where the audit view denies it first (egress at the source, else ingress
at the destination: `audit-out/<ns>/<pod>`, `audit-in/<ns>/<pod>`; docs/dataplane.md). So each
audit counter must have grown during the probes exactly where the audit view expects audit
events: at least once per probe that should have hit it, and not at all where none should.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from podwall.dataplane import CounterValue
from podwall.dataplane.compile import counter_name
from podwall.engine import Engine
from podwall.lab import prober as probes
from podwall.model import Cluster, Direction, PortQuery


@dataclass(frozen=True, slots=True)
class AuditCount:
    """One audit counter: the probes that should have hit it, and the packets it counted."""

    counter: str
    pod: str
    direction: Direction
    expected: int  # probes the audit view denies here and the kernel let through
    counted: int  # packets the counter grew by during the probes
    examples: tuple[str, ...] = ()  # a few of the expected probes, `src -> dst port`

    @property
    def ok(self) -> bool:
        # A probe is at least one new packet (a SYN or datagram may be sent more than once).
        return self.counted >= self.expected and (self.expected > 0) == (self.counted > 0)

    def to_json(self) -> dict[str, object]:
        return {"counter": self.counter, "pod": self.pod, "direction": self.direction.word,
                "expected": self.expected, "counted": self.counted, "ok": self.ok,
                "examples": list(self.examples)}


def audit_counts(cluster: Cluster, outcomes: Mapping[tuple[str, str, PortQuery], str],
                 before: Mapping[str, CounterValue],
                 after: Mapping[str, CounterValue]) -> tuple[AuditCount, ...]:
    """Every audit counter of the lab's pods, with what the audit view expected of it."""
    if not cluster.audited:
        return ()
    audit = Engine(cluster.audit_view())
    expected: dict[tuple[str, Direction], list[str]] = {}
    for (src, dst, port), outcome in outcomes.items():
        if outcome not in probes.ALLOWED:
            continue  # dropped now: it never met the audit view (a plain drop)
        verdict = audit.check(src, dst, port)
        if verdict.allowed:
            continue
        side = verdict.egress if not verdict.egress.allowed else verdict.ingress
        pod = src if side.direction is Direction.EGRESS else dst
        expected.setdefault((pod, side.direction), []).append(f"{src} -> {dst} {port}")
    out: list[AuditCount] = []
    for ep in cluster.endpoints:
        for direction in (Direction.EGRESS, Direction.INGRESS):
            name = counter_name(ep.key, direction, "audit")
            hits = expected.get((ep.key, direction), [])
            if name not in after and not hits:
                continue  # the audit view does not isolate this pod in this direction
            grown = (after[name].packets if name in after else 0) - (
                before[name].packets if name in before else 0)
            out.append(AuditCount(name, ep.key, direction, len(hits), grown, tuple(hits[:3])))
    return tuple(out)
