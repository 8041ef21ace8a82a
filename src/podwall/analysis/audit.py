"""Audit mode: the enforced verdict beside the audit verdict (docs/concepts.md, "Audit mode").

A policy annotated `podwall.io/enforcement: audit` is left out of the enforced view
(`Cluster.policies`) and enforced only in the audit view (`Cluster.audit_view()`). Both views go
through the same, unchanged engine: the two verdicts of one connection are two ordinary
`Verdict`s, and what audit mode reports is how they differ.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podwall.analysis import wording
from podwall.analysis.diff import Diff
from podwall.engine import Engine, ExternalHost, Verdict
from podwall.engine.matrix import MatrixComputer, same_verdicts
from podwall.model import Cluster, Port, PortQuery


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


def view_of(cluster: Cluster, audit: bool) -> Cluster:
    """What a verb shows: the enforced view, or with `--audit` the audit view."""
    return cluster.audit_view() if audit else cluster


def views_differ(cluster: Cluster, ports: Iterable[Port],
                 externals: Sequence[ExternalHost] = ()) -> bool:
    """Whether enforcing the audited policies would change any verdict on `ports` (class rows
    compared packed, `same_verdicts`: never a pair loop)."""
    if not cluster.audited:
        return False
    return not same_verdicts(MatrixComputer(cluster, externals),
                             MatrixComputer(cluster.audit_view(), externals), ports)


def audit_note(cluster: Cluster, audit: bool, ports: Iterable[Port],
               externals: Sequence[ExternalHost] = ()) -> str | None:
    """The line a verb prints on stderr about the view it shows (None: nothing to say)."""
    keys = [p.key for p in cluster.audited]
    if not audit:
        return wording.audit_listing_words(keys) if keys else None
    return wording.audit_view_words(len(keys), views_differ(cluster, ports, externals))


def diffs_differ(a: Diff, b: Diff) -> bool:
    """Whether two diffs of the same inputs (the two views) open or close other connections;
    their reasons may name other policies and still be the same change."""
    def shape(d: Diff) -> tuple[object, ...]:
        return (d.added, d.removed, d.endpoints,
                tuple((c.change, c.src, c.dst, c.ports, c.count) for c in d.changes))
    return shape(a) != shape(b)
