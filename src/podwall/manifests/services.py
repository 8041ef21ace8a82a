"""`Service` (v1) objects -> model.Service, validated as pkg/apis/core/validation's
ValidateService judges the fields podwall reads.

Only what the Service's DNAT needs is kept: the cluster IP, the selector and the ports with
their target ports. ExternalName Services are a DNS alias (a CNAME to a name outside the
cluster): no address, no pods, nothing to DNAT, so they are skipped with a note.
"""

from __future__ import annotations

import re
from typing import Any

from podwall.errors import Severity
from podwall.manifests import syntax
from podwall.manifests.labels import read_labels
from podwall.manifests.metadata import META_LABELS, object_source, read_annotations, read_metadata
from podwall.manifests.ports import PORT_RANGE, PROTOCOLS
from podwall.manifests.report import EMPTY, Ctx, Path
from podwall.model import Labels, Protocol, Service, ServicePort

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_SERVICE_TOP = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_SERVICE_SPEC = frozenset({
    "type", "ports", "selector", "clusterIP", "clusterIPs", "externalIPs", "sessionAffinity",
    "loadBalancerIP", "loadBalancerSourceRanges", "externalName", "externalTrafficPolicy",
    "healthCheckNodePort", "publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies",
    "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
    "internalTrafficPolicy", "trafficDistribution"})
_SERVICE_PORT = frozenset({"name", "protocol", "appProtocol", "port", "targetPort", "nodePort"})
_DNS1035 = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?")
_DNS1035_MSG = syntax.regex_error(
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character",
    "[a-z]([-a-z0-9]*[a-z0-9])?", "my-name", "abc-123")


def dns1035_label(value: str) -> tuple[str, ...]:
    """IsDNS1035Label: Service names (they become DNS names and environment variables)."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append(syntax.max_len_error(63))
    if not _DNS1035.fullmatch(value):
        errs.append(_DNS1035_MSG)
    return tuple(errs)


def read_service(ctx: Ctx, default_namespace: str) -> Service | None:
    """One Service; None when invalid (reported) or ExternalName (noted)."""
    data = ctx.data
    name, namespace, meta = read_metadata(ctx, "Service", True, default_namespace, dns1035_label)
    ctx.unknown_fields(data, _SERVICE_TOP, None)
    read_labels(ctx, meta.get("labels"), META_LABELS)
    read_annotations(ctx, meta)
    spec_path: Path = (None, "spec")
    raw_spec = data.get("spec")
    spec = EMPTY if raw_spec is None else ctx.mapping(raw_spec, spec_path)
    if spec is None:
        return None
    ctx.unknown_fields(spec, _SERVICE_SPEC, spec_path)
    type_path = (spec_path, "type")
    kind = ctx.string(spec.get("type"), type_path) or "ClusterIP"
    if kind not in SERVICE_TYPES:
        ctx.unsupported(type_path, kind, ", ".join(f'"{t}"' for t in SERVICE_TYPES))
        return None
    if kind == "ExternalName":
        ctx.report(Severity.INFO, type_path, "skipped: an ExternalName Service is a DNS alias "
                   "(no cluster IP, no pods): no connection is rewritten to a pod, so podwall "
                   "does not model it")
        return None
    cluster_ip, headless = _cluster_ip(ctx, spec, spec_path)
    selector = _service_selector(ctx, spec.get("selector"), (spec_path, "selector"))
    ports = _ports(ctx, spec.get("ports"), (spec_path, "ports"), headless)
    if ctx.errors or name is None or ports is None:
        return None
    return Service(namespace, name, selector, ports, cluster_ip, source=object_source(ctx),
                   cluster_ip_missing=cluster_ip is None and not headless)


def _cluster_ip(ctx: Ctx, spec: dict[str, Any], spec_path: Path) -> tuple[Any, bool]:
    """(address or None when not given, headless). `clusterIP` wins; else `clusterIPs[0]`."""
    path: Path = (spec_path, "clusterIP")
    raw = spec.get("clusterIP")
    if raw is None:
        ips = ctx.sequence(spec.get("clusterIPs"), (spec_path, "clusterIPs"))
        if ips:
            path, raw = ((spec_path, "clusterIPs"), 0), ips[0]
    text = ctx.string(raw, path) if raw is not None else ""
    if not text:
        return None, False
    if text == "None":
        return None, True
    ip = syntax.parse_ip(text)
    if ip is None:
        ctx.invalid(path, text, syntax.INVALID_IP)
    return ip, False


def _service_selector(ctx: Ctx, value: Any, path: Path) -> Labels | None:
    """`spec.selector` is a plain label map (not a LabelSelector); empty means none."""
    if value is None:
        return None
    labels = read_labels(ctx, value, path)
    return labels if labels else None


def _ports(ctx: Ctx, value: Any, path: Path, headless: bool) -> tuple[ServicePort, ...] | None:
    items = ctx.sequence(value, path)
    if not items:
        if value is not None and items is None:
            return None
        if not headless:
            ctx.required(path)
        return ()
    before = ctx.errors
    out: list[ServicePort] = []
    names: set[str] = set()
    seen: set[tuple[int, Protocol]] = set()
    for i, item in enumerate(items):
        port = _port(ctx, item, (path, i), len(items) > 1, names)
        if port is None:
            continue
        if (port.port, port.protocol) in seen:
            ctx.error((path, i), f"Duplicate value: core.ServicePort{{Name:"
                                 f"{syntax.go_quote(port.name or '')}, Protocol:"
                                 f"{syntax.go_quote(str(port.protocol))}, Port:{port.port}}}")
            continue
        seen.add((port.port, port.protocol))
        out.append(port)
    if ctx.errors != before:
        return None
    return tuple(out)


def _port(ctx: Ctx, item: Any, path: Path, several: bool, names: set[str]) -> ServicePort | None:
    raw = EMPTY if item is None else ctx.mapping(item, path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _SERVICE_PORT, path)
    before = ctx.errors
    name_path = (path, "name")
    name = ctx.string(raw.get("name"), name_path)
    if name:
        for msg in syntax.dns1123_label(name):
            ctx.invalid(name_path, name, msg)
        if name in names:
            ctx.error(name_path, f"Duplicate value: {syntax.go_quote(name)}")
        names.add(name)
    elif name == "" and several:
        ctx.required(name_path)
    number_path = (path, "port")
    number = ctx.integer(raw.get("port"), number_path)
    if number is None and raw.get("port") is None:
        ctx.required(number_path)
    elif number is not None and not 1 <= number <= 65535:
        ctx.invalid(number_path, number, PORT_RANGE)
    protocol_path = (path, "protocol")
    proto_text = ctx.string(raw.get("protocol"), protocol_path) if raw.get("protocol") is not None \
        else "TCP"
    protocol = PROTOCOLS.get(proto_text or "TCP")
    if protocol is None and proto_text is not None:
        ctx.unsupported(protocol_path, proto_text, '"SCTP", "TCP", "UDP"')
    target = _target_port(ctx, raw.get("targetPort"), (path, "targetPort"))
    if ctx.errors != before or number is None or protocol is None or target is None:
        return None
    return ServicePort(number, protocol, target or number, name or None)


def _target_port(ctx: Ctx, value: Any, path: Path) -> int | str | None:
    """A number 1-65535 or a port name (IANA_SVC_NAME); absent or 0 is `port` (returned 0)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if value != 0 and not 1 <= value <= 65535:
            ctx.invalid(path, value, PORT_RANGE)
            return None
        return value
    if isinstance(value, str):  # a quoted number is a name to the API server, and invalid
        problems = syntax.port_name(value)
        for msg in problems:
            ctx.invalid(path, value, msg)
        return None if problems else value
    ctx.wrong_type(path, value, "integer or string")
    return None
