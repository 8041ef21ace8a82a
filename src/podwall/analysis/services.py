"""Services as destinations in the report (`report --services`): per Service port, who may
reach every pod behind it after the DNAT, who only some of them, in words and as data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podwall.analysis import wording
from podwall.engine import Engine, service_columns
from podwall.model import Port


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    """One Service port: `every` may reach every pod behind it, `some` only some of them."""

    service: str
    port: str
    target_port: str
    cluster_ip: str | None
    implied: bool
    pods: tuple[str, ...]
    unserved: tuple[str, ...]
    every: tuple[str, ...]
    some: tuple[str, ...]
    heading: str
    every_words: str
    some_words: str

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "port": self.port, "targetPort": self.target_port,
                "clusterIP": self.cluster_ip, "implied": self.implied, "pods": list(self.pods),
                "unserved": list(self.unserved), "allowedFrom": list(self.every),
                "someAllowedFrom": list(self.some)}


def service_summaries(engine: Engine, ports: Sequence[Port] | None = None
                      ) -> tuple[ServiceSummary, ...]:
    eps = engine.cluster.endpoints
    per_namespace = Counter(ep.namespace for ep in eps)
    out = []
    for col in service_columns(engine, ports):
        svc = col.service
        every = tuple(ep.key for i, ep in enumerate(eps) if col.every[i])
        some = tuple(ep.key for i, ep in enumerate(eps) if col.some[i] and not col.every[i])
        pods = tuple(eps[i].key for i in col.pods)
        notes = ["implied"] if svc.implied else []
        notes.append("headless" if svc.cluster_ip is None else str(svc.cluster_ip))
        target = f"{col.port.protocol}/{col.port.target_port}"
        heading = (f"{col.name} ({'; '.join(notes)}) → "
                   + (f"{wording.plural(len(pods), 'pod')} on {target}" if pods
                      else "no pod serves it"))
        out.append(ServiceSummary(
            svc.key, str(col.port), target,
            None if svc.cluster_ip is None else str(svc.cluster_ip), svc.implied, pods,
            tuple(eps[i].key for i in col.unserved), every, some, heading,
            _sources_words(every, per_namespace), _sources_words(some, per_namespace)))
    return tuple(out)


def _sources_words(keys: Sequence[str], per_namespace: Counter[str]) -> str:
    """`namespace shop (all 4), kube-system/coredns-a`: whole namespaces named once."""
    if not keys:
        return "none"
    by_ns: dict[str, list[str]] = {}
    for key in keys:
        by_ns.setdefault(key.split("/", 1)[0], []).append(key)
    parts: list[str] = []
    for ns, members in by_ns.items():
        if len(members) == per_namespace[ns] and len(members) > 1:
            parts.append(f"namespace {ns} (all {len(members)})")
        else:
            parts.extend(members)
    shown = ", ".join(parts[:8])
    return shown + (f" and {len(parts) - 8} more" if len(parts) > 8 else "")
