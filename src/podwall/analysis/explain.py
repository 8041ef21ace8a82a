"""`explain`: every policy and every endpoint in plain words, computed per endpoint class.

Endpoints of one class (same namespace, labels, ports, ipBlock membership) are isolated by the
same policies and reach the same classes, so everything is computed per class (refined by the
view, `podwall.analysis.filters`): which policies isolate it, and per port a boolean row over
classes for "reaches" and "reachable from". An endpoint's name lists are its class's rows joined
once into bytes and spliced around the endpoint itself (`podwall.analysis.render.tokens`), so
the work follows the size of the output, never endpoints x endpoints in Python.

Text beyond `SUMMARY_THRESHOLD` endpoints in view is a summary: per class when the classes in
view are few, else per namespace, with how to drill down. `-o json` is always complete.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from podwall.analysis import wording
from podwall.analysis.clusterexplain import applying, cluster_policy_lines, offline
from podwall.analysis.filters import SUMMARY_THRESHOLD, MatrixView, View
from podwall.analysis.render.tokens import Picked, Tokens
from podwall.engine import Engine, RuleRef, default_ports, selector_matches
from podwall.engine.classes import BoolArray, IntArray
from podwall.model import Cluster, Direction, Endpoint, NetworkPolicy

_BATCH = 256  # view classes whose rows are computed together (bounds memory: batch x classes)
_ROW_CACHE = 2 * _BATCH * 40  # name lists kept: about one run of classes, every port and side


@dataclass(frozen=True, slots=True)
class PolicyExplanation:
    policy: NetworkPolicy
    selects: tuple[str, ...]
    rules: tuple[tuple[Direction, int, str], ...]

    def to_json(self) -> dict[str, Any]:
        p = self.policy
        return {
            "policy": p.key,
            "source": str(p.source) if p.source else None,
            "scope": wording.policy_scope_words(p),
            "selects": list(self.selects),
            "isolates": sorted(d.word for d in p.policy_types),
            "policyTypesGiven": p.policy_types_given,
            "enforcement": p.enforcement.value,
            "rules": [{"direction": d.word, "index": i, "admits": text}
                      for d, i, text in self.rules],
        }


def explain_policies(engine: Engine) -> tuple[PolicyExplanation, ...]:
    """Per policy: what it selects and what each rule admits (per class of namespace+labels)."""
    cluster = engine.cluster
    selected: dict[str, list[str]] = {p.key: [] for p in cluster.policies}
    by_kind: dict[tuple[str, Any], list[str]] = defaultdict(list)
    for ep in cluster.endpoints:
        by_kind[(ep.namespace, ep.labels)].append(ep.key)
    for (namespace, labels), keys in by_kind.items():
        for policy in engine.evaluator.policies_in(namespace):
            if selector_matches(policy.pod_selector, labels):
                selected[policy.key].extend(keys)
    order = {ep.key: i for i, ep in enumerate(cluster.endpoints)}
    return tuple(
        PolicyExplanation(
            p, tuple(sorted(selected[p.key], key=order.__getitem__)),
            tuple((d, i, wording.rule_words(r, d, p.namespace))
                  for d in (Direction.INGRESS, Direction.EGRESS) if d in p.policy_types
                  for i, r in enumerate(p.rules(d))))
        for p in cluster.policies)


@dataclass(frozen=True, slots=True)
class ClassRows:
    """Per port, for a batch of view classes: boolean rows over view classes of what each
    reaches and what reaches it (pairs in view only, an endpoint with itself included)."""

    classes: IntArray
    reaches: dict[str, BoolArray]  # port -> (batch, V)
    reached: dict[str, BoolArray]


class Explainer:
    """Everything `explain` says, per view class; renderers below stream it."""

    def __init__(self, engine: Engine, view: View | None = None) -> None:
        view = view if view is not None else View()
        cluster = engine.cluster
        view = view.resolved(cluster)
        view.check(cluster.endpoints)
        self.engine = engine
        self.view = view
        self.endpoints = cluster.endpoints
        self.matrix = engine.matrix(default_ports(cluster))
        self.ports = [str(p) for p in self.matrix.ports]
        self.mv = MatrixView(self.matrix, cluster.endpoints, view)
        vc = self.mv.classes
        reps = [cluster.endpoints[int(r)] for r in vc.rep.tolist()]
        self.isolated = [{d: tuple(p.key for p in engine.selecting(ep, d)) for d in Direction}
                         for ep in reps]
        self.sections: IntArray = np.flatnonzero(vc.subject[vc.of] & (
            vc.source[vc.of] | vc.destination[vc.of])).astype(np.int64)
        self.section_classes: IntArray = np.unique(vc.of[self.sections]).astype(np.int64)
        # Every policy is explained, audited ones too (marked): from the audit view's engine,
        # where they select what they would select; the endpoints are the view's own.
        self.audit_view = not cluster.audited and any(p.audited for p in cluster.policies)
        all_policies = explain_policies(
            Engine(cluster.audit_view()) if cluster.audited else engine)
        self.policies = tuple(pe for pe in all_policies if self._shows_policy(pe))
        self.assigned = assigned_in_ipblocks(cluster)

    def _shows_policy(self, pe: PolicyExplanation) -> bool:
        if self.view.namespace is not None and pe.policy.namespace != self.view.namespace:
            return False
        return self.view.focus is None or any(k in pe.selects for k in self.view.focus_keys)

    @property
    def summarised(self) -> bool:
        return len(self.sections) > SUMMARY_THRESHOLD and not self.view.full

    def rows(self, classes: IntArray) -> Iterator[ClassRows]:
        """Rows of `classes` in batches (each batch: a few numpy blocks per port)."""
        mv = self.mv
        vc = mv.classes
        everyone = np.arange(vc.count, dtype=np.int64)
        for first in range(0, len(classes), _BATCH):
            vs = classes[first:first + _BATCH]
            reaches: dict[str, BoolArray] = {}
            reached: dict[str, BoolArray] = {}
            out_shown = mv.shown(vs)
            in_shown = mv.shown_between(everyone, vs).T
            for port, name in zip(self.matrix.ports, self.ports, strict=True):
                verdicts = self.matrix.verdicts[port]
                reaches[name] = verdicts.block(vc.base[vs], vc.base) & out_shown
                reached[name] = np.ascontiguousarray(  # rows are keys: see _Names
                    verdicts.block(vc.base, vc.base[vs]).T & in_shown)
            yield ClassRows(vs, reaches, reached)

    def walk(self) -> Iterator[tuple[int, int, ClassRows, int]]:
        """(endpoint, view class, rows, row index) for every endpoint in view, in endpoint order.

        Endpoints are taken in runs holding at most _BATCH classes, and rows are computed per
        run: a class is recomputed only if its members span runs (classes stay within one
        namespace, and a namespace's endpoints are contiguous, so that is rare)."""
        of = self.mv.classes.of
        sections = self.sections.tolist()
        start = 0
        while start < len(sections):
            seen: dict[int, int] = {}
            end = start
            while end < len(sections):
                v = int(of[sections[end]])
                if v not in seen:
                    if len(seen) == _BATCH:
                        break
                    seen[v] = len(seen)
                end += 1
            block = next(self.rows(np.fromiter(seen, np.int64, len(seen))))
            for i in sections[start:end]:
                v = int(of[i])
                yield i, v, block, seen[v]
            start = end

    def candidates(self, v: int) -> tuple[int, int]:
        """(destinations, sources) in view for a member of view class v, itself excluded."""
        mv = self.mv
        vc = mv.classes
        vs = np.array([v], dtype=np.int64)
        everyone = np.arange(vc.count, dtype=np.int64)
        own = int(mv.shown_diagonal()[v])
        dst = int(mv.shown(vs)[0] @ vc.size) - own
        src = int(mv.shown_between(everyone, vs)[:, 0] @ vc.size) - own
        return dst, src


# -- JSON ---------------------------------------------------------------------------------------


def write_json(explainer: Explainer, out: BinaryIO, extra: bytes = b"") -> None:
    """`{"policies": [...], "endpoints": [...]}`, every endpoint complete, streamed per class;
    `extra`: more members, encoded with their leading comma (`--focus svc/...`)."""
    out.write(b'{"policies": [')
    for k, pe in enumerate(explainer.policies):
        out.write((",\n" if k else "\n").encode() + json.dumps(pe.to_json()).encode())
    out.write(b'\n], "endpoints": [')
    names = _Names(explainer, json=True)
    # the bytes between name lists, each ending in "[": `"TCP/80": [` ... `], "TCP/443": [`
    openers = [b', "' + key + b'": {' + json.dumps(explainer.ports[0]).encode() + b": ["
               for key in (b"reachableFrom", b"reaches")] if explainer.ports else []
    betweens = [b"], " + json.dumps(port).encode() + b": [" for port in explainer.ports[1:]]
    first = True
    for i, v, block, k in explainer.walk():
        ep = explainer.endpoints[i]
        head = json.dumps({
            "endpoint": ep.key, "kind": ep.kind, "ip": str(ep.ip) if ep.ip else None,
            **({"implied": True} if ep.implied else {}),
            "ipAssigned": ep.ip_assigned,
            "ipInIpBlocks": [{"ipBlock": b, "rule": r.to_json()}
                             for b, r in explainer.assigned.get(ep.key, ())],
            "labels": dict(ep.labels.items_sorted),
            "isolatedBy": {d.word: list(explainer.isolated[v][d]) for d in Direction},
            **({"cannotDecideOffline": list(offline(explainer.engine.cluster, ep))}
               if explainer.engine.cluster.cluster_policies else {}),
        })[:-1].encode()
        parts: list[bytes | memoryview] = [(b"\n" if first else b",\n") + head]
        first = False
        for side, (key, table) in enumerate(((b"reachableFrom", block.reached),
                                             (b"reaches", block.reaches))):
            if not explainer.ports:
                parts.append(b', "' + key + b'": {}')
                continue
            for p, port in enumerate(explainer.ports):
                parts.append(betweens[p - 1] if p else openers[side])
                parts.extend(names.pieces_for(table[port][k], v, i, port, key))
            parts.append(b"]}")
        parts.append(b"}")
        out.writelines(parts)
    out.write(b"\n]" + extra + b"}\n")


_Cached = tuple[Picked, tuple[memoryview]]  # a list, and all of it less the last separator


class _Names:
    """Name lists of endpoints from view-class rows: joined once per (class, port, side)."""

    def __init__(self, explainer: Explainer, *, json: bool) -> None:
        self.e = explainer
        vc = explainer.mv.classes
        self.of = vc.of
        # text marks the implied (kube-dns) where it is listed; JSON lists keys (the endpoint's
        # own entry says `"implied": true`)
        keys = [ep.key if json else wording.implied_words(ep.key, ep.implied)
                for ep in explainer.endpoints]
        sep = b"," if json else b", "
        encoded = [(_json_string(k) if json else k.encode()) + sep for k in keys]
        self.sep = sep
        self.tokens = Tokens.of([[b""] * len(keys), encoded])
        self._cache: dict[tuple[int, str, bytes], _Cached] = {}
        self._by_content: dict[bytes, _Cached] = {}

    def list_for(self, row: BoolArray, v: int, i: int, port: str, side: bytes) -> bytes:
        """Names of the endpoints in `row` (over view classes), endpoint `i` itself left out."""
        return b"".join(self.pieces_for(row, v, i, port, side))

    def pieces_for(self, row: BoolArray, v: int, i: int, port: str, side: bytes
                   ) -> tuple[memoryview, ...]:
        """`list_for` as views of the cached class list, copied nowhere (JSON at 10k pods is
        400 MB of names: every copy of them costs a second).

        Joined once per distinct row from the allowed endpoints only (rows repeat across
        ports and classes: nothing on most ports, a namespace's pods on several); the cache
        holds the lists of about one run of classes (their size is the output's, not n)."""
        key = (v, port, side)
        cached = self._cache.get(key)
        if cached is None:
            content = row.tobytes()
            cached = self._by_content.get(content)
            if cached is None:
                if len(self._by_content) >= _ROW_CACHE:
                    self._by_content.clear()
                    self._cache.clear()
                columns = np.flatnonzero(row[self.of]).astype(np.int64)
                picked = self.tokens.pick(columns)
                whole = memoryview(picked.body)[:max(len(picked.body) - len(self.sep), 0)]
                cached = self._by_content[content] = (picked, (whole,))
            self._cache[key] = cached
        picked, whole_list = cached
        if not row[v]:  # i's own class is not in the row, so neither is i
            return whole_list
        return picked.pieces_without(i, len(self.sep))


def _json_string(text: str) -> bytes:
    return json.dumps(text).encode()


# -- text ---------------------------------------------------------------------------------------


def write_text(explainer: Explainer, out: BinaryIO) -> None:
    """In full up to SUMMARY_THRESHOLD endpoints in view (or with --full), else a summary."""
    summarised = explainer.summarised
    _write_policies(explainer, out, summarised)
    tiers = cluster_policy_lines(explainer.engine.cluster)
    if tiers:
        out.write(("\n".join(tiers) + "\n").encode())
    if not summarised:
        _write_endpoints(explainer, out)
    elif len(explainer.section_classes) <= SUMMARY_THRESHOLD:
        _write_classes(explainer, out)
    else:
        _write_namespaces(explainer, out)
    if summarised:
        out.write(f"\n{wording.drill_down_words(explainer.view.flags())}\n".encode())


def _write_policies(explainer: Explainer, out: BinaryIO, summarised: bool) -> None:
    policies = explainer.policies
    if summarised and len(policies) > SUMMARY_THRESHOLD:
        out.write(wording.explain_policies_counted_words(len(policies)).encode() + b"\n")
        return
    lines = [f"Policies ({len(policies)})"]
    if not explainer.engine.cluster.policies:
        if explainer.engine.cluster.cluster_policies:  # they may deny what no NetworkPolicy does
            lines.append("  none: no NetworkPolicy isolates anything; the cluster policies below "
                         "decide, and what they leave is allowed")
        else:
            lines.append("  none: every endpoint may reach every other on every port")
    for pe in policies:
        p = pe.policy
        where = f"  [{p.source}]" if p.source else ""
        lines.append(f"\n{p.key}{where}")
        if len(pe.selects) > 10 and not explainer.view.full and (
                summarised or len(explainer.endpoints) > SUMMARY_THRESHOLD):
            selected = wording.selects_words(len(pe.selects))
        else:
            selected = ", ".join(pe.selects) if pe.selects else "nothing in the input"
        lines.append(f"  applies to {wording.policy_scope_words(p)}: {selected}")
        lines.append(f"  isolates {wording.isolation_words(p)}")
        if p.audited:
            lines.append("  " + wording.audit_policy_words(explainer.audit_view))
        for direction in (Direction.INGRESS, Direction.EGRESS):
            if direction not in p.policy_types:
                continue
            rules = [r for r in pe.rules if r[0] is direction]
            if not rules:
                lines.append(f"  {direction.word}: no rules, so it admits nothing "
                             f"({direction.word} deny)")
            for _, i, text in rules:
                lines.append(f"  {direction.word}[{i}] admits {text}")
    out.write(("\n".join(lines) + "\n").encode())


def _isolation_lines(isolated: dict[Direction, tuple[str, ...]],
                     tiers: bool = False) -> list[str]:
    lines = []
    for direction in (Direction.INGRESS, Direction.EGRESS):
        by = isolated[direction]
        state = (f"isolated by {', '.join(by)}" if by
                 else wording.not_isolated_words(tiers))
        lines.append(f"  {direction.word}: {state}")
    return lines


def _write_endpoints(explainer: Explainer, out: BinaryIO) -> None:
    out.write(f"\nEndpoints ({len(explainer.sections)})\n".encode())
    names = _Names(explainer, json=False)
    every = (b"every other endpoint" if not explainer.view.active
             else b"every other endpoint in view")
    vc = explainer.mv.classes
    candidates: dict[int, tuple[int, int]] = {}
    for i, v, block, k in explainer.walk():
        ep = explainer.endpoints[i]
        kind = f"{ep.kind}, implied" if ep.implied else ep.kind
        text = [f"\n{ep.key}  ({kind}, {ep.ip}, {ep.labels or 'no labels'})",
                *_isolation_lines(explainer.isolated[v],
                                  bool(explainer.engine.cluster.cluster_policies))]
        if explainer.engine.cluster.cluster_policies:
            text.append(wording.cluster_policies_apply_words(
                applying(explainer.engine.cluster, ep)))
            undecidable = offline(explainer.engine.cluster, ep)
            if undecidable:
                text.append(wording.offline_endpoint_words(undecidable))
        hits = explainer.assigned.get(ep.key)
        if hits:
            text.append("  " + wording.assigned_address_words(
                ep.key, str(ep.ip), list(dict.fromkeys(b for b, _ in hits)),
                [str(r) for _, r in hits], "what these rules say about it rests"))
        out.write(("\n".join(text) + "\n").encode())
        if v not in candidates:
            candidates[v] = explainer.candidates(v)
        dst, src = candidates[v]
        for title, table, total, side in (("reachable from", block.reached, src, b"f"),
                                          ("reaches", block.reaches, dst, b"t")):
            for port in explainer.ports:
                row = table[port][k]
                count = int(row @ vc.size) - int(row[v])
                if count == 0:
                    who = b"nothing"
                elif count == total:
                    who = every
                else:
                    who = names.list_for(row, v, i, port, side)
                out.write(f"  {title} on {port}: ".encode() + who + b"\n")


def _counts(explainer: Explainer, block: ClassRows, k: int, table: dict[str, BoolArray]
            ) -> dict[str, int]:
    vc = explainer.mv.classes
    v = int(block.classes[k])
    return {port: int(table[port][k] @ vc.size) - int(table[port][k][v])
            for port in explainer.ports}


def _count_words(counts: dict[str, int], total: int, noun: str) -> str:
    """`12 on TCP/80, TCP/8080; every other endpoint on UDP/53; nothing on 16 other ports`."""
    by: dict[int, list[str]] = defaultdict(list)
    for port, n in counts.items():
        by[n].append(port)
    parts = []
    for n in sorted((n for n in by if n), reverse=True):
        who = f"all {total} {noun}" if n == total and total > 1 else f"{n}"
        parts.append(f"{who} on {', '.join(by[n])}")
    if 0 in by:
        parts.append("nothing" + (f" on {len(by[0])} other ports" if parts else ""))
    return "; ".join(parts)


def _write_classes(explainer: Explainer, out: BinaryIO) -> None:
    vc = explainer.mv.classes
    members: dict[int, list[Endpoint]] = defaultdict(list)
    for i in explainer.sections.tolist():
        members[int(vc.of[i])].append(explainer.endpoints[i])
    out.write(wording.explain_classes_heading_words(
        len(explainer.sections), len(explainer.section_classes)).encode() + b"\n")
    for block in explainer.rows(explainer.section_classes):
        for k, v in enumerate(block.classes.tolist()):
            eps = members[v]
            first = eps[0]
            out.write((f"\n{_class_label(eps)}  ({wording.class_members_words(len(eps), first.kind)}, "
                       f"{first.labels or 'no labels'})\n").encode())
            out.write(("\n".join(_isolation_lines(explainer.isolated[v])) + "\n").encode())
            dst, src = explainer.candidates(v)
            out.write(("  reachable from: " + _count_words(
                _counts(explainer, block, k, block.reached), src, "in view") + "\n").encode())
            out.write(("  reaches: " + _count_words(
                _counts(explainer, block, k, block.reaches), dst, "in view") + "\n").encode())


def _class_label(eps: list[Endpoint]) -> str:
    """`ns/a`, `ns/{a,b,c}`, or `ns/a and 8 more` (the members' names, in order)."""
    names = sorted(ep.name for ep in eps)
    ns = eps[0].namespace
    if len(names) == 1:
        return f"{ns}/{names[0]}"
    if len(names) <= 3:
        return f"{ns}/{{{','.join(names)}}}"
    return f"{ns}/{names[0]} and {len(names) - 1} more"


def _write_namespaces(explainer: Explainer, out: BinaryIO) -> None:
    """One line per namespace: endpoints, classes, policies, isolated endpoints, and the
    pairs of distinct endpoints in view allowed on at least one port, from and to it."""
    vc = explainer.mv.classes
    sections = explainer.sections
    ns_of_class = [explainer.endpoints[int(r)].namespace for r in vc.rep.tolist()]
    names = sorted(set(ns_of_class[v] for v in explainer.section_classes.tolist()))
    ns_id = {ns: k for k, ns in enumerate(names)}
    endpoints = np.zeros(len(names), dtype=np.int64)
    classes = np.zeros(len(names), dtype=np.int64)
    iso = np.zeros((2, len(names)), dtype=np.int64)
    reach = np.zeros(len(names), dtype=np.int64)
    reached = np.zeros(len(names), dtype=np.int64)
    section_size = np.bincount(vc.of[sections], minlength=vc.count)
    for block in explainer.rows(explainer.section_classes):
        any_out = np.zeros((len(block.classes), vc.count), dtype=np.bool_)
        any_in = np.zeros_like(any_out)
        for port in explainer.ports:
            any_out |= block.reaches[port]
            any_in |= block.reached[port]
        for k, v in enumerate(block.classes.tolist()):
            g = ns_id[ns_of_class[v]]
            size = int(section_size[v])
            endpoints[g] += size
            classes[g] += 1
            for d, direction in enumerate((Direction.INGRESS, Direction.EGRESS)):
                iso[d, g] += size * bool(explainer.isolated[v][direction])
            reach[g] += size * (int(any_out[k] @ vc.size) - int(any_out[k, v]))
            reached[g] += size * (int(any_in[k] @ vc.size) - int(any_in[k, v]))
    policies: dict[str, int] = defaultdict(int)
    for pe in explainer.policies:
        policies[pe.policy.namespace] += 1
    out.write(wording.explain_namespaces_heading_words(
        len(sections), len(names), len(explainer.section_classes)).encode() + b"\n")
    header = ("NAMESPACE", "ENDPOINTS", "CLASSES", "POLICIES", "INGRESS-ISOLATED",
              "EGRESS-ISOLATED", "PAIRS-FROM", "PAIRS-TO")
    table = [header] + [
        (ns, str(endpoints[g]), str(classes[g]), str(policies[ns]), str(iso[0, g]),
         str(iso[1, g]), str(reach[g]), str(reached[g])) for ns, g in ns_id.items()]
    widths = [max(len(r[c]) for r in table) for c in range(len(header))]
    for r in table:
        out.write(("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
                   ).rstrip().encode() + b"\n")
    out.write(wording.explain_pairs_note_words().encode() + b"\n")


def explanation_text(explainer: Explainer) -> str:
    import io

    buffer = io.BytesIO()
    write_text(explainer, buffer)
    return buffer.getvalue().decode()


def explanation_json(explainer: Explainer) -> dict[str, Any]:
    import io

    buffer = io.BytesIO()
    write_json(explainer, buffer)
    data: dict[str, Any] = json.loads(buffer.getvalue())
    return data


def assigned_in_ipblocks(cluster: Cluster) -> dict[str, list[tuple[str, RuleRef]]]:
    """Per endpoint whose address podwall assigned (no status.podIP): the ipBlocks (and their
    rules) whose cidr holds that address. Any verdict such a rule gives about the endpoint
    rests on an invented address. IPv4 addresses are compared as integers, with numpy."""
    assigned = [ep for ep in cluster.endpoints if ep.ip_assigned and ep.ip is not None]
    out: dict[str, list[tuple[str, RuleRef]]] = {}
    if not assigned:
        return out
    v4 = [ep for ep in assigned if ep.ip is not None and ep.ip.version == 4]
    values = np.array([int(ep.ip) for ep in v4 if ep.ip is not None], dtype=np.int64)
    for policy in cluster.policies:
        for direction in Direction:
            for index, rule in enumerate(policy.rules(direction)):
                for peer in rule.peers:
                    block = peer.ip_block
                    if block is None:
                        continue
                    ref = RuleRef(policy.key, direction, index)
                    lo = int(block.cidr.network_address)
                    hi = lo + block.cidr.num_addresses
                    if block.cidr.version == 4:
                        hit = [v4[int(i)] for i in np.flatnonzero(
                            (values >= lo) & (values < hi)).tolist()]
                    else:
                        hit = [ep for ep in assigned if ep.ip is not None
                               and ep.ip.version == 6 and ep.ip in block.cidr]
                    for ep in hit:
                        out.setdefault(ep.key, []).append((str(block), ref))
    return out
