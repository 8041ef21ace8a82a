"""ClusterNetworkPolicy documents -> validated model objects, as the CRD's schema would judge them.

The API server validates these custom resources with the CRD's OpenAPI schema (kubebuilder
markers: required fields, enums, minimum/maximum, min/max items and properties, max length,
patterns, list-type sets) and its CEL rules (`x-kubernetes-validations`). Messages use the words
of apiextensions' schema validation (`spec.priority in body should be less than or equal to
1000`, `Too many: 26: must have at most 25 items`, `Unsupported value: ...`), and every problem
is reported at its field path with its line, as for NetworkPolicy.

Three kinds share this reader (the version is detected from `apiVersion` and `kind`):
- policy.networking.k8s.io/v1alpha2 (or v1beta1, the same shape) ClusterNetworkPolicy (tier
  Admin or Baseline);
- policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy (tier Admin; actions Allow/Deny/Pass);
- policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy (tier Baseline, the singleton
  named `default`, no priority: it reads as priority 0; actions Allow/Deny).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from podwall.manifests import syntax
from podwall.manifests.labels import read_labels, read_selector
from podwall.manifests.metadata import META_LABELS, object_source, read_annotations, read_metadata
from podwall.manifests.report import EMPTY, Ctx, Path, render_path
from podwall.model import IPNetwork, LabelSelector, Protocol
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterPort,
    ClusterRule,
    PeerKind,
    Subject,
    Tier,
)

_SPEC: Path = (None, "spec")
_TOP = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_NAMESPACED_POD = frozenset({"namespaceSelector", "podSelector"})
_DOMAIN = re.compile(r"^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+"
                     r"[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$")
_NAMED_PORT_CEL = ("networks/nodes/domainNames peer cannot be set with namedPorts since there "
                   "are no namedPorts for networks/nodes/domainNames")
_BANP_NAME = ('Only one baseline admin network policy with metadata.name="default" can be '
              "created in the cluster")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What one API version allows: field names, limits, actions."""

    spec: frozenset[str]
    rule_limit: int
    peer_limit: int
    actions: dict[str, Action]
    ingress_peers: tuple[str, ...]
    egress_peers: tuple[str, ...]
    ports_key: str  # "protocols" (v1alpha2) or "ports" (v1alpha1)
    tier: Tier | None  # None: read from spec.tier
    priority: bool


_V2 = _Shape(frozenset({"tier", "priority", "subject", "ingress", "egress"}), 25, 25,
             {"Accept": Action.ACCEPT, "Deny": Action.DENY, "Pass": Action.PASS},
             ("namespaces", "pods"), ("namespaces", "pods", "nodes", "networks", "domainNames"),
             "protocols", None, True)
_ANP = _Shape(frozenset({"priority", "subject", "ingress", "egress"}), 100, 100,
              {"Allow": Action.ACCEPT, "Deny": Action.DENY, "Pass": Action.PASS},
              ("namespaces", "pods"), ("namespaces", "pods", "nodes", "networks", "domainNames"),
              "ports", Tier.ADMIN, True)
_BANP = _Shape(frozenset({"subject", "ingress", "egress"}), 100, 100,
               {"Allow": Action.ACCEPT, "Deny": Action.DENY},
               ("namespaces", "pods"), ("namespaces", "pods", "nodes", "networks"),
               "ports", Tier.BASELINE, False)
_SHAPES = {"ClusterNetworkPolicy": _V2, "AdminNetworkPolicy": _ANP,
           "BaselineAdminNetworkPolicy": _BANP}
_PROTOCOL_KEYS = {"tcp": Protocol.TCP, "udp": Protocol.UDP, "sctp": Protocol.SCTP}


# -- the schema's own words -----------------------------------------------------------------------

def _body(path: Path) -> str:
    return f"{render_path(path)} in body"


def _required(ctx: Ctx, raw: dict[str, Any], key: str, path: Path) -> Any:
    value = raw.get(key)
    if value is None:
        ctx.required((path, key))
    return value


def _int_between(ctx: Ctx, value: Any, path: Path, low: int, high: int) -> int | None:
    number = ctx.integer(value, path)
    if number is None:
        return None
    if number < low:
        ctx.invalid(path, number, f"{_body(path)} should be greater than or equal to {low}")
        return None
    if number > high:
        ctx.invalid(path, number, f"{_body(path)} should be less than or equal to {high}")
        return None
    return number


def _items(ctx: Ctx, value: Any, path: Path, low: int, high: int) -> list[Any]:
    items = ctx.sequence(value, path)
    if items is None:
        return []
    if len(items) < low:
        ctx.invalid(path, len(items), f"{_body(path)} should have at least {low} items")
    if len(items) > high:
        ctx.error(path, f"Too many: {len(items)}: must have at most {high} items")
    return items


def _one_of(ctx: Ctx, raw: dict[str, Any], path: Path, allowed: tuple[str, ...]) -> str | None:
    """MinProperties=1/MaxProperties=1: the one field set, or None (reported)."""
    ctx.unknown_fields(raw, frozenset(allowed), path)
    present = [k for k in allowed if raw.get(k) is not None]  # unknown ones are pruned
    if len(present) > 1:
        ctx.invalid(path, len(present), f"{_body(path)} should have at most 1 properties")
        return None
    if not present:
        ctx.invalid(path, 0, f"{_body(path)} should have at least 1 properties")
        return None
    return present[0]


def _enum(ctx: Ctx, value: Any, path: Path, allowed: dict[str, Any]) -> Any:
    if value is None:
        ctx.required(path)
        return None
    text = ctx.string(value, path)
    if text is None:
        return None
    found = allowed.get(text)
    if found is None:
        ctx.unsupported(path, text, ", ".join(syntax.go_quote(k) for k in allowed))
    return found


# -- the object -----------------------------------------------------------------------------------

def read_cluster_policy(ctx: Ctx, kind: str, api_version: str) -> ClusterNetworkPolicy | None:
    """One ClusterNetworkPolicy/AdminNetworkPolicy/BaselineAdminNetworkPolicy, or None when
    anything in it is invalid (every problem is reported on `ctx`)."""
    shape = _SHAPES[kind]
    data = ctx.data
    name, _, meta = read_metadata(ctx, kind, False, "", syntax.dns1123_subdomain)
    ctx.unknown_fields(data, _TOP, None)
    if meta.get("namespace"):
        ctx.warn((_META, "namespace"), f"{kind} is cluster-scoped: metadata.namespace is ignored")
    read_labels(ctx, meta.get("labels"), META_LABELS)
    annotations = read_annotations(ctx, meta)
    if shape is _BANP and name is not None and name != "default":
        ctx.invalid(None, "object", _BANP_NAME, at=(_META, "name"))
    raw_spec = data.get("spec")
    if raw_spec is None:
        ctx.required(_SPEC)
        return None
    spec = ctx.mapping(raw_spec, _SPEC)
    if spec is None:
        return None
    ctx.unknown_fields(spec, shape.spec, _SPEC)
    tier = shape.tier
    if tier is None:
        tier = _enum(ctx, spec.get("tier"), (_SPEC, "tier"), {t.value: t for t in Tier})
    priority: int | None = 0
    if shape.priority:
        priority = None
        if _required(ctx, spec, "priority", _SPEC) is not None:
            priority = _int_between(ctx, spec["priority"], (_SPEC, "priority"), 0, 1000)
    subject = _subject(ctx, _required(ctx, spec, "subject", _SPEC), (_SPEC, "subject"))
    ingress = _rules(ctx, shape, spec.get("ingress"), (_SPEC, "ingress"), "from",
                     shape.ingress_peers)
    egress = _rules(ctx, shape, spec.get("egress"), (_SPEC, "egress"), "to", shape.egress_peers)
    if ctx.errors or name is None or tier is None or priority is None or subject is None:
        return None
    return ClusterNetworkPolicy(name, tier, priority, subject, ingress, egress, kind=kind,
                                api_version=api_version, source=object_source(ctx),
                                annotations=annotations)


_META: Path = (None, "metadata")


def _namespaced_pod(ctx: Ctx, value: Any, path: Path,
                    ) -> tuple[LabelSelector | None, LabelSelector | None] | None:
    raw = ctx.mapping(value, path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _NAMESPACED_POD, path)
    before = ctx.errors
    pods = _required(ctx, raw, "podSelector", path)
    pod_sel = read_selector(ctx, pods, (path, "podSelector")) if pods is not None else None
    ns = raw.get("namespaceSelector")
    ns_sel = read_selector(ctx, ns, (path, "namespaceSelector")) if ns is not None else LabelSelector()
    if ctx.errors != before:
        return None
    return ns_sel, pod_sel


def _subject(ctx: Ctx, value: Any, path: Path) -> Subject | None:
    if value is None:
        return None
    raw = ctx.mapping(value, path)
    if raw is None:
        return None
    which = _one_of(ctx, raw, path, ("namespaces", "pods"))
    if which == "namespaces":
        sel = read_selector(ctx, raw["namespaces"], (path, "namespaces"))
        return Subject(sel) if sel is not None else None
    if which == "pods":
        pair = _namespaced_pod(ctx, raw["pods"], (path, "pods"))
        if pair is None or pair[0] is None or pair[1] is None:
            return None
        return Subject(pair[0], pair[1])
    return None


# -- rules ----------------------------------------------------------------------------------------

def _rules(ctx: Ctx, shape: _Shape, value: Any, path: Path, peers_key: str,
           peer_kinds: tuple[str, ...]) -> tuple[ClusterRule, ...]:
    rules: list[ClusterRule] = []
    for i, item in enumerate(_items(ctx, value, path, 0, shape.rule_limit)):
        rule_path = (path, i)
        raw = EMPTY if item is None else ctx.mapping(item, rule_path)
        if raw is None:
            continue
        before = ctx.errors
        ctx.unknown_fields(raw, frozenset({"name", "action", peers_key, shape.ports_key}),
                           rule_path)
        name = ""
        if raw.get("name") is not None:
            name = ctx.string(raw["name"], (rule_path, "name")) or ""
            if len(name) > 100:
                ctx.error((rule_path, "name"), "Too long: may not be longer than 100")
        action = _enum(ctx, raw.get("action"), (rule_path, "action"), shape.actions)
        peers_path = (rule_path, peers_key)
        if raw.get(peers_key) is None:
            ctx.required(peers_path)
        peers = [_peer(ctx, p, (peers_path, j), peer_kinds)
                 for j, p in enumerate(_items(ctx, raw.get(peers_key), peers_path, 1,
                                              shape.peer_limit))]
        ports_path = (rule_path, shape.ports_key)
        reader = _protocol if shape is _V2 else _v1_port
        ports = [reader(ctx, p, (ports_path, j))
                 for j, p in enumerate(_items(ctx, raw.get(shape.ports_key), ports_path,
                                              1 if shape is _V2 else 0, shape.peer_limit))]
        cel = shape is _V2 and peers_key == "to"
        if cel and _named_port_cel(raw.get(peers_key), raw.get(shape.ports_key)):
            ctx.invalid(rule_path, "object", _NAMED_PORT_CEL)
        if ctx.errors != before or action is None:
            continue
        rules.append(ClusterRule(action, tuple(p for p in peers if p is not None),
                                 tuple(p for p in ports if p is not None), name))
    return tuple(rules)


def _named_port_cel(peers: Any, ports: Any) -> bool:
    """The egress rule's CEL rule, on the raw object as CEL sees it: a networks, nodes or
    domainNames peer together with a named port."""
    def has(items: Any, keys: tuple[str, ...]) -> bool:
        return isinstance(items, list) and any(
            isinstance(i, dict) and any(i.get(k) is not None for k in keys) for i in items)
    return (has(peers, ("networks", "nodes", "domainNames"))
            and has(ports, ("destinationNamedPort", "namedPort")))


def _peer(ctx: Ctx, value: Any, path: Path, kinds: tuple[str, ...]) -> ClusterPeer | None:
    raw = EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    which = _one_of(ctx, raw, path, kinds)
    if which is None:
        return None
    field_path = (path, which)
    if which == "namespaces":
        sel = read_selector(ctx, raw[which], field_path)
        return ClusterPeer(PeerKind.NAMESPACES, namespace_selector=sel) if sel is not None else None
    if which == "pods":
        pair = _namespaced_pod(ctx, raw[which], field_path)
        if pair is None:
            return None
        return ClusterPeer(PeerKind.PODS, namespace_selector=pair[0], pod_selector=pair[1])
    if which in ("nodes", "domainNames"):
        ctx.warn(field_path, f"{which} peers cannot be decided offline: they match no pod; "
                   "with addresses outside the cluster every verb answers as if they did not "
                   "match and names the answers they may change (check: UNDECIDED)")
    if which == "nodes":
        sel = read_selector(ctx, raw[which], field_path)
        return ClusterPeer(PeerKind.NODES, node_selector=sel) if sel is not None else None
    texts = _string_set(ctx, raw[which], field_path)
    if which == "networks":
        networks: list[IPNetwork] = []
        for j, text in texts:
            network = _cidr(ctx, text, (field_path, j))
            if network is not None:
                networks.append(network)
        if len(networks) != len(texts):
            return None
        return ClusterPeer(PeerKind.NETWORKS, networks=tuple(networks))
    for j, text in texts:
        if not _DOMAIN.match(text):
            at = (field_path, j)
            ctx.invalid(at, text, f"{_body(at)} should match '{_DOMAIN.pattern}'")
    return ClusterPeer(PeerKind.DOMAIN_NAMES, domain_names=tuple(t for _, t in texts))


def _string_set(ctx: Ctx, value: Any, path: Path) -> list[tuple[int, str]]:
    """A `listType=set` of strings (1 to 25 items): duplicates are errors."""
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for j, item in enumerate(_items(ctx, value, path, 1, 25)):
        text = ctx.string(item, (path, j))
        if text is None:
            continue
        if text in seen:
            ctx.error((path, j), f"Duplicate value: {syntax.go_quote(text)}")
        seen.add(text)
        out.append((j, text))
    return out


def _cidr(ctx: Ctx, text: str, path: Path) -> IPNetwork | None:
    """CEL `isCIDR(self)` (Go's netip.ParsePrefix: host bits allowed, no leading zeros) and
    MaxLength=43."""
    if len(text) > 43:
        ctx.error(path, "Too long: may not be longer than 43")
        return None
    try:
        if "/" not in text or "%" in text:
            raise ValueError(text)
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        ctx.invalid(path, "string", "Invalid CIDR format provided")
        return None


# -- ports ----------------------------------------------------------------------------------------

def _protocol(ctx: Ctx, value: Any, path: Path) -> ClusterPort | None:
    """v1alpha2 `protocols[]`: one of tcp/udp/sctp (destinationPort: number or range) or
    destinationNamedPort."""
    raw = EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    which = _one_of(ctx, raw, path, ("tcp", "udp", "sctp", "destinationNamedPort"))
    if which is None:
        return None
    if which == "destinationNamedPort":
        return _named(ctx, raw[which], (path, which))
    proto_path = (path, which)
    inner = ctx.mapping(raw[which], proto_path)
    if inner is None:
        return None
    ctx.unknown_fields(inner, frozenset({"destinationPort"}), proto_path)
    if inner.get("destinationPort") is None:
        ctx.invalid(proto_path, 0, f"{_body(proto_path)} should have at least 1 properties")
        return None
    port_path = (proto_path, "destinationPort")
    port = ctx.mapping(inner["destinationPort"], port_path)
    if port is None:
        return None
    kind = _one_of(ctx, port, port_path, ("number", "range"))
    protocol = _PROTOCOL_KEYS[which]
    if kind == "number":
        number = _int_between(ctx, port["number"], (port_path, "number"), 1, 65535)
        return ClusterPort(protocol, number, number) if number is not None else None
    if kind == "range":
        return _range(ctx, port["range"], (port_path, "range"), protocol)
    return None


def _range(ctx: Ctx, value: Any, path: Path, protocol: Protocol) -> ClusterPort | None:
    raw = ctx.mapping(value, path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, frozenset({"start", "end", "protocol"}), path)
    start = end = None
    if _required(ctx, raw, "start", path) is not None:
        start = _int_between(ctx, raw["start"], (path, "start"), 1, 65535)
    if _required(ctx, raw, "end", path) is not None:
        end = _int_between(ctx, raw["end"], (path, "end"), 1, 65535)
    if start is None or end is None:
        return None
    if not start < end:
        ctx.invalid(path, "object", "Start port must be less than End port")
        return None
    return ClusterPort(protocol, start, end)


def _named(ctx: Ctx, value: Any, path: Path) -> ClusterPort | None:
    text = ctx.string(value, path)
    if text is None:
        return None
    problems = syntax.port_name(text)
    for msg in problems:
        ctx.invalid(path, text, msg)
    return None if problems else ClusterPort(name=text)


def _v1_protocol(ctx: Ctx, value: Any, path: Path) -> Protocol | None:
    if value is None:
        return Protocol.TCP
    found: Protocol | None = _enum(ctx, value, path, {p.value: p for p in Protocol})
    return found


def _v1_port(ctx: Ctx, value: Any, path: Path) -> ClusterPort | None:
    """v1alpha1 `ports[]`: one of portNumber {protocol, port}, namedPort, portRange."""
    raw = EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    which = _one_of(ctx, raw, path, ("portNumber", "namedPort", "portRange"))
    if which == "namedPort":
        return _named(ctx, raw[which], (path, which))
    if which is None:
        return None
    inner_path = (path, which)
    inner = ctx.mapping(raw[which], inner_path)
    if inner is None:
        return None
    protocol = _v1_protocol(ctx, inner.get("protocol"), (inner_path, "protocol"))
    if which == "portRange":
        if protocol is None:
            return None
        return _range(ctx, inner, inner_path, protocol)
    ctx.unknown_fields(inner, frozenset({"protocol", "port"}), inner_path)
    number = None
    if _required(ctx, inner, "port", inner_path) is not None:
        number = _int_between(ctx, inner["port"], (inner_path, "port"), 1, 65535)
    if number is None or protocol is None:
        return None
    return ClusterPort(protocol, number, number)
