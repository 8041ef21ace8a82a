"""What `lab get` and `lab describe` print: kubectl's columns and layout, from the lab's snapshot.

Why kubectl's exact shape: the lab is where people learn the kubectl workflow of the tutorials;
what they see here should be what they will see on a cluster (`NAME   POD-SELECTOR   AGE`),
plus, in `describe`, podwall's plain words for what a policy selects and admits (the wording of
podwall.analysis.explain, so `podwall explain` and the lab say the same thing).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from podwall.analysis import wording
from podwall.analysis.explain import explain_policies
from podwall.engine import Engine
from podwall.lab import objects
from podwall.model import Cluster, Direction, LabelSelector, NetworkPolicy, Peer, Rule


def age(created: float | None, now: float | None = None) -> str:
    """kubectl's AGE: 45s, 3m12s, 14m, 5h, 3d."""
    if created is None:
        return "<unknown>"
    seconds = max(0, int((now if now is not None else time.time()) - created))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def table(rows: Sequence[Sequence[str]]) -> str:
    """kubectl's plain table: columns padded to their widest cell, three spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                      strict=True)).rstrip()
                   + "\n" for row in rows)


def _selector(s: LabelSelector) -> str:
    return "<none>" if s.is_empty else str(s)


def _labels(labels: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "<none>"


def rows(kind: str, cluster: Cluster, namespaces: set[str] | None, names: Sequence[str],
         created: Mapping[str, float], running: set[str], wide: bool, show_labels: bool,
         node: str) -> list[list[str]]:
    """The header and one row per object of `kind` (`pod`, `service`, `networkpolicy`) in
    `namespaces` (None: all, with a NAMESPACE column)."""
    every = namespaces is None
    head: list[str] = ["NAMESPACE"] if every else []
    out: list[list[str]] = []
    if kind == "pod":
        head += ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        head += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] if wide else []
        head += ["LABELS"] if show_labels else []
        for ep in cluster.endpoints:
            if not _wanted(ep.namespace, ep.name, namespaces, names):
                continue  # a workload's endpoint is listed too: it stands for its pods
            up = ep.key in running
            row = [ep.name, "1/1" if up else "0/1", "Running" if up else "Pending", "0",
                   age(created.get(f"{ep.kind}/{ep.key}"))]
            row += [str(ep.ip), node, "<none>", "<none>"] if wide else []
            row += [_labels(ep.labels)] if show_labels else []
            out.append(([ep.namespace] if every else []) + row)
    elif kind == "service":
        head += ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
        head += ["SELECTOR"] if wide else []
        for s in cluster.services:
            if not _wanted(s.namespace, s.name, namespaces, names):
                continue
            ports = ",".join(f"{p.port}/{p.protocol.value}" for p in s.ports) or "<none>"
            row = [s.name, "ClusterIP", "None" if s.cluster_ip is None else str(s.cluster_ip),
                   "<none>", ports, age(created.get(f"Service/{s.key}"))]
            row += [_labels(s.selector)] if wide else []
            out.append(([s.namespace] if every else []) + row)
    else:
        head += ["NAME", "POD-SELECTOR", "AGE"]
        for p in cluster.policies:
            if not _wanted(p.namespace, p.name, namespaces, names):
                continue
            row = [p.name, _selector(p.pod_selector), age(created.get(f"NetworkPolicy/{p.key}"))]
            out.append(([p.namespace] if every else []) + row)
    return [head, *out] if out else []


def _wanted(namespace: str, name: str, namespaces: set[str] | None,
            names: Sequence[str]) -> bool:
    return (namespaces is None or namespace in namespaces) and (not names or name in names)


def manifests(kind: str, cluster: Cluster, namespaces: set[str] | None, names: Sequence[str],
              created: Mapping[str, float], running: set[str]) -> list[dict[str, Any]]:
    """The objects `rows` lists, as manifests (`-o json|yaml`)."""
    if kind == "pod":
        return [objects.pod_manifest(ep, created.get(f"{ep.kind}/{ep.key}"), ep.key in running)
                for ep in cluster.endpoints if _wanted(ep.namespace, ep.name, namespaces, names)]
    if kind == "service":
        return [objects.service_manifest(s, created.get(f"Service/{s.key}"))
                for s in cluster.services if _wanted(s.namespace, s.name, namespaces, names)]
    return [objects.policy_manifest(p, created.get(f"NetworkPolicy/{p.key}"))
            for p in cluster.policies if _wanted(p.namespace, p.name, namespaces, names)]


# -- describe networkpolicy ----------------------------------------------------------------------


def _peer_lines(peer: Peer) -> list[str]:
    if peer.ip_block is not None:
        lines = ["IPBlock:", f"  CIDR: {peer.ip_block.text or peer.ip_block.cidr}"]
        lines.append("  Except: " + ", ".join(str(e) for e in peer.ip_block.excepts))
        return lines
    lines = []
    if peer.namespace_selector is not None:
        lines.append(f"NamespaceSelector: {_selector(peer.namespace_selector)}")
    if peer.pod_selector is not None:
        lines.append(f"PodSelector: {_selector(peer.pod_selector)}")
    return lines


def _rule_lines(rule: Rule, direction: Direction) -> list[str]:
    ingress = direction is Direction.INGRESS
    lines: list[str] = []
    if rule.ports:
        for port in rule.ports:
            number = "<any>" if port.port is None else str(port.port)
            if port.end_port is not None:
                number += f"-{port.end_port}"
            lines.append(f"To Port: {number}/{port.protocol.value}")
    else:
        lines.append("To Port: <any> (traffic allowed to all ports)")
    if rule.peers:
        lines.append("From:" if ingress else "To:")
        for i, peer in enumerate(rule.peers):
            if i:
                lines.append("  ----------")
            lines += ["  " + line for line in _peer_lines(peer)]
    else:
        lines.append("From: <any> (traffic not restricted by source)" if ingress
                     else "To: <any> (traffic not restricted by destination)")
    return lines


def describe_policy(policy: NetworkPolicy, cluster: Cluster, created: float | None) -> str:
    """kubectl's `describe networkpolicy`, then what podwall says the policy selects and admits."""
    when = ("<unknown>" if created is None
            else time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(created)))
    annotations = ("\n              ".join(f"{k}: {v}" for k, v in policy.annotations)
                   or "<none>")
    lines = [f"Name:         {policy.name}", f"Namespace:    {policy.namespace}",
             f"Created on:   {when}", "Labels:       <none>", f"Annotations:  {annotations}",
             "Spec:", f"  PodSelector:     {_selector(policy.pod_selector)}"
             if not policy.pod_selector.is_empty else
             "  PodSelector:     <none> (Allowing the specific traffic to all pods in this "
             "namespace)"]
    for direction in (Direction.INGRESS, Direction.EGRESS):
        word = direction.word
        if not policy.isolates(direction):
            lines.append(f"  Not affecting {word} traffic")
            continue
        lines.append(f"  Allowing {word} traffic:")
        rules = policy.rules(direction)
        if not rules:
            lines.append(f"    <none> (Selected pods are isolated for {word} connectivity)")
        for i, rule in enumerate(rules):
            if i:
                lines.append("    ----------")
            lines += ["    " + line for line in _rule_lines(rule, direction)]
    lines.append("  Policy Types: " + ", ".join(d.value for d in (Direction.INGRESS,
                                                                 Direction.EGRESS)
                                                if policy.isolates(direction=d)))
    explained = next(e for e in explain_policies(Engine(cluster)) if e.policy.key == policy.key)
    selected = ", ".join(explained.selects) if explained.selects else "-"
    lines += ["Podwall:",
              f"  Scope:     {wording.policy_scope_words(policy)}",
              f"  Selects:   {wording.selects_words(len(explained.selects))}: {selected}"
              if explained.selects else f"  Selects:   {wording.selects_words(0)}",
              f"  Isolates:  {wording.isolation_words(policy)}"]
    if explained.rules:
        lines.append("  Admits:")
        lines += [f"    {d.word}[{i}]: {text}" for d, i, text in explained.rules]
    else:
        lines.append("  Admits:    nothing (every connection it isolates is denied)")
    return "\n".join(lines) + "\n"
