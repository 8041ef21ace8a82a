"""Audit mode: the enforced verdict beside the audit verdict (docs/concepts.md, "Audit mode").

A policy annotated `podwall.io/enforcement: audit` is left out of the enforced view
(`Cluster.policies`) and enforced only in the audit view (`Cluster.audit_view()`). Both views go
through the same, unchanged engine: the two verdicts of one connection are two ordinary
`Verdict`s, and what audit mode reports is how they differ.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from podwall.engine import Engine, Verdict
from podwall.model import Cluster, PortQuery


class AuditChange(enum.StrEnum):
    """How enforcing the audited policies would change a connection's verdict.

    DENIES: allowed now, denied under audit: the data plane lets it through and logs it with
    action "audit". ALLOWS: denied now, allowed under audit (an audited policy admits it where
    an enforced one isolates): it is still dropped now, so the data plane logs a plain "drop".
    """

    NONE = "none"
    DENIES = "denies"
    ALLOWS = "allows"


def change_of(enforced: bool, audit: bool) -> AuditChange:
    if enforced == audit:
        return AuditChange.NONE
    return AuditChange.DENIES if enforced else AuditChange.ALLOWS


@dataclass(frozen=True, slots=True)
class AuditedVerdict:
    """One connection judged in both views."""

    enforced: Verdict
    audit: Verdict
    audited: frozenset[str]  # ns/name of every audited policy in the input

    @property
    def change(self) -> AuditChange:
        return change_of(self.enforced.allowed, self.audit.allowed)

    @property
    def involved(self) -> tuple[str, ...]:
        """The audited policies that isolate either end or admit the connection (audit view)."""
        keys: set[str] = set()
        for side in (self.audit.egress, self.audit.ingress):
            keys.update(side.isolated_by)
            keys.update(r.policy for r in side.admitted_by)
        return tuple(sorted(keys & self.audited))

    def to_json(self) -> dict[str, object]:
        """Keys added beside the enforced verdict's own in `check -o json`."""
        return {"auditChange": self.change.value, "auditedPolicies": list(self.involved),
                "audit": self.audit.to_json()}


def audit_check(engine: Engine, audit_engine: Engine, src: str, dst: str,
                port: PortQuery) -> AuditedVerdict:
    return AuditedVerdict(engine.check(src, dst, port), audit_engine.check(src, dst, port),
                          audited_keys(engine.cluster))


def audited_keys(cluster: Cluster) -> frozenset[str]:
    return frozenset(p.key for p in cluster.audited)
