"""Names that stand for several pods — Services and a snapshot's controllers: what a name
resolves to, which pods do not serve the port, and the grouped verdict of `check`.
"""

from __future__ import annotations

from dataclasses import replace

from podwall.analysis.wording.names import implied_words, keys_words
from podwall.analysis.wording.verdicts import verdict_lines
from podwall.engine import GroupVerdict, Resolved, Verdict
from podwall.model import Endpoint, PortQuery, ServicePort
from podwall.model.words import plural


def resolved_words(group: Resolved, port: PortQuery | None = None,
                   service_port: ServicePort | None = None) -> str:
    """The line before a grouped verdict: what the name stands for.

    `svc/kube-system/kube-dns UDP/53 → 2 pods on UDP/53: kube-system/coredns-a, ...`;
    `shop/web (Deployment) → 3 pods: shop/web-6d4-a, ...`."""
    keys = [t.key for t in group.targets]
    pods = plural(len(keys), "pod")
    svc = group.service
    if svc is not None:
        notes = ["implied"] if svc.implied else []
        if svc.cluster_ip is not None:
            notes.append(f"{svc.cluster_ip}, assigned" if svc.cluster_ip_assigned
                         else str(svc.cluster_ip))
        name = f"{svc} ({'; '.join(notes)})" if notes else str(svc)
        where = f" {port}" if port is not None else ""
        if svc.headless:
            target = " (headless: no DNAT, the pods' own addresses)"
        elif service_port is not None:
            target = f" on {service_port.protocol}/{service_port.target_port}"
        else:
            target = ""
        if not keys:
            why = ("it has no selector" if svc.selector is None
                   else f"no pod in {svc.namespace} has the labels {svc.selector}")
            return f"{name}{where} → no pod: {why}"
        return f"{name}{where} → {pods}{target}: {keys_words(_marked(group))}"
    ctl = group.controller
    assert ctl is not None
    if not keys:
        return f"{group.name} ({ctl.kind}) → no running pod in the input"
    return f"{group.name} ({ctl.kind}) → {pods}: {keys_words(_marked(group))}"


def _marked(group: Resolved) -> list[str]:
    return [implied_words(t.key, isinstance(t, Endpoint) and t.implied) for t in group.targets]


def unserved_words(pod: str, reason: str) -> str:
    return f"NO PORT  {pod}: {reason}, so the Service sends it nothing on this port"


def group_verdict_lines(verdict: GroupVerdict) -> list[str]:
    """`check` for a Service or a controller: what it stands for, then the verdicts, those
    that read alike (same result, same policies and rules, same port) collapsed into one."""
    lines: list[str] = []
    for side, port in ((verdict.src, None), (verdict.dst, verdict.port)):
        if side.grouped:
            lines.append(resolved_words(side, port, verdict.service_port if port else None))
    groups: dict[tuple[object, ...], list[Verdict]] = {}
    for v in verdict.verdicts:
        signature = (v.allowed, v.same_endpoint, v.port,
                     v.egress.allowed, v.egress.applies, v.egress.isolated_by, v.egress.admitted_by,
                     v.ingress.allowed, v.ingress.applies, v.ingress.isolated_by,
                     v.ingress.admitted_by)
        groups.setdefault(signature, []).append(v)
    implied = {t.key for side in (verdict.src, verdict.dst) for t in side.targets
               if isinstance(t, Endpoint) and t.implied}
    for members in groups.values():
        srcs = [implied_words(k, k in implied) for k in dict.fromkeys(v.src for v in members)]
        dsts = [implied_words(k, k in implied) for k in dict.fromkeys(v.dst for v in members)]
        first = members[0]
        src_plain = keys_words(list(dict.fromkeys(v.src for v in members)))
        dst_plain = keys_words(list(dict.fromkeys(v.dst for v in members)))
        shown = replace(first, src=keys_words(srcs), dst=keys_words(dsts),
                        egress=replace(first.egress, subject=src_plain)
                        if first.egress.applies else first.egress,
                        ingress=replace(first.ingress, subject=dst_plain)
                        if first.ingress.applies else first.ingress)
        head, *rest = verdict_lines(shown, implied)
        lines.append(head)
        for line in rest:
            for subject in (src_plain, dst_plain):
                if ", " in subject:  # several pods: "a, b are not isolated"
                    line = line.replace(f"({subject} is not", f"({subject} are not")
            lines.append(line)
    lines.extend(unserved_words(u.pod, u.reason) for u in verdict.unserved)
    if not verdict.verdicts and not verdict.unserved:
        lines.append(f"DENIED  nothing answers at {verdict.dst.name} {verdict.port}: no pod "
                     "behind it")
    elif len(groups) > 1 or verdict.unserved:
        total = len(verdict.verdicts) + len(verdict.unserved)
        allowed = sum(1 for v in verdict.verdicts if v.allowed)
        lines.append(f"{'ALLOWED' if verdict.allowed else 'DENIED '} in all: {allowed} of "
                     f"{plural(total, 'pair')} allowed (allowed only when every pair is)")
    return lines
