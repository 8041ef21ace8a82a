"""networking.k8s.io/v1 NetworkPolicy -> model.NetworkPolicy, validated as
pkg/apis/networking/validation judges it (ValidateNetworkPolicy and its peers, ipBlocks and
ports, with the warnings the API server returns), plus podwall's own enforcement annotation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from podwall.errors import Severity
from podwall.manifests import fields, syntax
from podwall.manifests.labels import ANY_SELECTOR, read_labels, read_selector
from podwall.manifests.metadata import (
    META_ANNOTATIONS,
    META_LABELS,
    object_source,
    read_annotations,
    read_metadata,
)
from podwall.manifests.ports import PORT_RANGE, read_protocol
from podwall.manifests.report import EMPTY, Ctx, Path, go_value
from podwall.model import (
    ENFORCEMENT_ANNOTATION,
    Direction,
    Enforcement,
    IPBlock,
    IPNetwork,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Protocol,
    Rule,
    default_policy_types,
)

_POLICY_PROTOCOLS = '"TCP", "UDP", "SCTP"'   # networking validation lists them in this order
_DIRECTIONS = {"Ingress": Direction.INGRESS, "Egress": Direction.EGRESS}
_INVALID_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_POLICY_TOP = fields.POLICY
_POLICY_SPEC = fields.POLICY_SPEC
_INGRESS_RULE = fields.INGRESS_RULE
_EGRESS_RULE = fields.EGRESS_RULE
_PEER = fields.PEER
_IPBLOCK = fields.IP_BLOCK
_POLICY_PORT = fields.POLICY_PORT
_SPEC: Path = (None, "spec")
_SPEC_PODSELECTOR: Path = (_SPEC, "podSelector")
_SPEC_INGRESS: Path = (_SPEC, "ingress")
_SPEC_EGRESS: Path = (_SPEC, "egress")
_SPEC_POLICYTYPES: Path = (_SPEC, "policyTypes")


def read_policy(ctx: Ctx, default_namespace: str) -> NetworkPolicy | None:
    data = ctx.data
    name, namespace, meta = read_metadata(ctx, "NetworkPolicy", True, default_namespace,
                                          syntax.dns1123_subdomain)
    ctx.unknown_fields(data, _POLICY_TOP, None, ("spec", _POLICY_SPEC))
    read_labels(ctx, meta.get("labels"), META_LABELS)
    annotations = read_annotations(ctx, meta)
    enforcement = _enforcement(ctx, annotations)
    raw_spec = data.get("spec")
    spec = EMPTY if raw_spec is None else ctx.mapping(raw_spec, _SPEC)
    if spec is None:
        return None
    ctx.unknown_fields(spec, _POLICY_SPEC, _SPEC)
    raw_selector = spec.get("podSelector")
    # Absent or null is the decoder's zero value, the empty selector (every pod of the
    # namespace): the API server accepts it and stores `podSelector: {}`.
    pod_selector = (ANY_SELECTOR if raw_selector is None
                    else read_selector(ctx, raw_selector, _SPEC_PODSELECTOR))
    ingress = _rules(ctx, spec.get("ingress"), _SPEC_INGRESS, "from", _INGRESS_RULE)
    egress = _rules(ctx, spec.get("egress"), _SPEC_EGRESS, "to", _EGRESS_RULE)
    types = _policy_types(ctx, spec.get("policyTypes"))
    if ctx.errors or name is None or pod_selector is None:
        return None
    return NetworkPolicy(
        namespace, name, pod_selector,
        types if types is not None else default_policy_types(egress),
        ingress, egress,
        policy_types_given=types is not None,
        egress_given=spec.get("egress") is not None,
        source=object_source(ctx), annotations=annotations,
        enforcement=enforcement)


_ENFORCEMENT_HINT = (
    f'"{Enforcement.AUDIT.value}" evaluates the policy without enforcing it (nothing is dropped '
    f'because of it; `podwall check` shows what it would change), "{Enforcement.ENFORCE.value}" '
    "enforces it as if the annotation were absent")


def _enforcement(ctx: Ctx, annotations: tuple[tuple[str, str], ...]) -> Enforcement:
    """The policy's `podwall.io/enforcement` annotation; an unknown value is an error (a typo
    of "audit" must not silently enforce a policy someone meant to try out)."""
    value = next((v for k, v in annotations if k == ENFORCEMENT_ANNOTATION), None)
    if value is None:
        return Enforcement.ENFORCE
    try:
        return Enforcement(value)
    except ValueError:
        key = (META_ANNOTATIONS, ENFORCEMENT_ANNOTATION)
        ctx.report(Severity.ERROR, key,
                   f"Unsupported value: {syntax.go_quote(value)}: supported values: "
                   f'"{Enforcement.AUDIT.value}", "{Enforcement.ENFORCE.value}": '
                   f"{_ENFORCEMENT_HINT}", key,
                   text=f'metadata.annotations["{ENFORCEMENT_ANNOTATION}"]')
        return Enforcement.ENFORCE


def _policy_types(ctx: Ctx, value: Any) -> frozenset[Direction] | None:
    """`spec.policyTypes`; None when omitted or empty (the API server then defaults it)."""
    items = ctx.sequence(value, _SPEC_POLICYTYPES)
    if not items:
        return None
    texts = [ctx.string(v, (_SPEC_POLICYTYPES, i)) for i, v in enumerate(items)]
    if len(items) > 2:
        shown = ", ".join(go_value(t if t is not None else v)
                          for t, v in zip(texts, items, strict=True))
        ctx.error(_SPEC_POLICYTYPES, f"Invalid value: []networking.PolicyType{{{shown}}}: "
                                     "may not specify more than two policyTypes")
        return frozenset()
    found: set[Direction] = set()
    for i, text in enumerate(texts):
        if text is None:
            continue
        direction = _DIRECTIONS.get(text)
        if direction is None:
            ctx.unsupported((_SPEC_POLICYTYPES, i), text, '"Ingress", "Egress"')
        elif direction in found:  # accepted by the API server; harmless but surely a slip
            ctx.warn((_SPEC_POLICYTYPES, i), f"Duplicate value: {syntax.go_quote(text)}")
        else:
            found.add(direction)
    return frozenset(found)


def _rules(ctx: Ctx, value: Any, path: Path, peers_key: str,
           allowed: frozenset[str]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for i, item in enumerate(ctx.sequence(value, path) or ()):
        rule_path = (path, i)
        raw = EMPTY if item is None else ctx.mapping(item, rule_path)
        if raw is None:
            continue
        ctx.unknown_fields(raw, allowed, rule_path)
        # the API server checks a rule's ports before its peers
        ports_path = (rule_path, "ports")
        raw_ports = ctx.sequence(raw.get("ports"), ports_path)
        ports: list[PolicyPort] = []
        for j, p in enumerate(raw_ports or ()):
            port = _policy_port(ctx, p, (ports_path, j))
            if port is not None:
                ports.append(port)
        peers_path = (rule_path, peers_key)
        raw_peers = ctx.sequence(raw.get(peers_key), peers_path)
        peers: list[Peer] = []
        for j, p in enumerate(raw_peers or ()):
            peer = _peer(ctx, p, (peers_path, j))
            if peer is not None:
                peers.append(peer)
        rules.append(Rule(tuple(peers), tuple(ports), peers_given=raw_peers is not None,
                          ports_given=raw_ports is not None))
    return tuple(rules)


def _peer(ctx: Ctx, value: Any, path: Path) -> Peer | None:
    """ValidateNetworkPolicyPeer: at least one peer; an ipBlock stands alone."""
    raw = EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _PEER, path)
    before = ctx.errors
    raw_pods = raw.get("podSelector")
    raw_namespaces = raw.get("namespaceSelector")
    raw_block = raw.get("ipBlock")
    count = 0
    pods = namespaces = None
    block = None
    if raw_pods is not None:
        count += 1
        pods = read_selector(ctx, raw_pods, (path, "podSelector"))
    if raw_namespaces is not None:
        count += 1
        namespaces = read_selector(ctx, raw_namespaces, (path, "namespaceSelector"))
    if raw_block is not None:
        count += 1
        block = _ip_block(ctx, raw_block, (path, "ipBlock"))
    if count == 0:
        ctx.required(path, "must specify a peer")
    elif count > 1 and raw_block is not None:
        ctx.forbidden(path, "may not specify both ipBlock and another peer")
    if ctx.errors != before:
        return None
    return Peer(pods, namespaces, block)


def _ip_block(ctx: Ctx, value: Any, path: Path) -> IPBlock | None:
    """ValidateIPBlock, plus the warnings the API server returns for odd CIDR spellings."""
    raw = ctx.mapping(value, path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _IPBLOCK, path)
    cidr_path = (path, "cidr")
    text = ctx.string(raw.get("cidr"), cidr_path)
    except_path = (path, "except")
    raw_excepts = ctx.sequence(raw.get("except"), except_path) or ()
    except_texts = [ctx.string(v, (except_path, i)) for i, v in enumerate(raw_excepts)]
    if text is None:
        return None
    if not text:
        ctx.required(cidr_path)
        return None
    cidr = syntax.parse_cidr(text)
    if cidr is None:
        ctx.invalid(cidr_path, text, _INVALID_CIDR)
        return None
    for warning in cidr.warnings:
        ctx.warn(cidr_path, warning)
    network = cidr.network
    excepts: list[IPNetwork] = []
    for i, ex_text in enumerate(except_texts):
        if ex_text is None:
            continue
        ex_path = (except_path, i)
        ex = syntax.parse_cidr(ex_text)
        if ex is None:
            ctx.invalid(ex_path, ex_text, _INVALID_CIDR)
            continue
        for warning in ex.warnings:
            ctx.warn(ex_path, warning)
        sub = ex.network
        # ValidateIPBlock: Contains(except's address), and the masks' lengths as written
        if (sub.version != network.version or sub.network_address not in network
                or ex.mask_bits <= cidr.mask_bits):
            ctx.invalid(ex_path, ex_text, "must be a strict subset of `cidr`")
            continue
        excepts.append(sub)
    if len(excepts) != len(except_texts):
        return None
    return IPBlock(network, tuple(excepts), text)


_ALL_TCP = PolicyPort()


def _policy_port(ctx: Ctx, value: Any, path: Path) -> PolicyPort | None:
    """ValidateNetworkPolicyPort (protocol defaults to TCP, as the API server's defaulting)."""
    raw = EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    if not raw:
        return _ALL_TCP
    ctx.unknown_fields(raw, _POLICY_PORT, path)
    before = ctx.errors
    protocol = read_protocol(ctx, raw.get("protocol"), (path, "protocol"), _POLICY_PROTOCOLS, False)
    port_path = (path, "port")
    end_path = (path, "endPort")
    raw_port = raw.get("port")
    end = ctx.integer(raw.get("endPort"), end_path)
    port: int | str | None = None
    if raw_port is None:
        if end is not None:
            ctx.invalid(end_path, end, "may not be specified when `port` is not specified")
    elif isinstance(raw_port, int) and not isinstance(raw_port, bool):
        port = raw_port
        if not 1 <= port <= 65535:
            ctx.invalid(port_path, port, PORT_RANGE)
        if end is not None:
            if end < port:
                ctx.invalid(end_path, end, "must be greater than or equal to `port`")
            if not 1 <= end <= 65535:
                ctx.invalid(end_path, end, PORT_RANGE)
    elif isinstance(raw_port, str):
        port = raw_port
        if end is not None:
            ctx.invalid(end_path, end, "may not be specified when `port` is non-numeric")
        for msg in syntax.port_name(port):
            ctx.invalid(port_path, port, msg)
    else:
        ctx.wrong_type(port_path, raw_port, "integer or string")
    if ctx.errors != before or protocol is None:
        return None
    return _policy_port_value(protocol, port, end)


@lru_cache(maxsize=4096)
def _policy_port_value(protocol: Protocol, port: int | str | None, end: int | None) -> PolicyPort:
    return PolicyPort(protocol, port, end)
