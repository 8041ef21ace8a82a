"""Documents -> validated model objects, reporting every problem at once with its field path.

Validation follows the Kubernetes API server (networking/v1 NetworkPolicy, the Pod and Namespace
fields podwall reads). Paths are kept as tuples of segments and turned into text (and a line
number) only when something is reported, so the valid path stays cheap.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podwall.errors import Diagnostic, Severity
from podwall.manifests import syntax
from podwall.manifests.documents import Document, Located, LocatedList, type_name
from podwall.model import (
    WORKLOAD_KINDS,
    ContainerPort,
    Direction,
    Endpoint,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Operator,
    Peer,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Source,
    default_policy_types,
)

Path = tuple[str | int, ...]

PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP, "SCTP": Protocol.SCTP}
_SUPPORTED_PROTOCOLS = '"SCTP", "TCP", "UDP"'

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "ownerReferences", "finalizers", "managedFields", "selfLink"})
_POLICY_TOP = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_POLICY_SPEC = frozenset({"podSelector", "ingress", "egress", "policyTypes"})
_INGRESS_RULE = frozenset({"from", "ports"})
_EGRESS_RULE = frozenset({"to", "ports"})
_PEER = frozenset({"podSelector", "namespaceSelector", "ipBlock"})
_IPBLOCK = frozenset({"cidr", "except"})
_POLICY_PORT = frozenset({"protocol", "port", "endPort"})
_SELECTOR = frozenset({"matchLabels", "matchExpressions"})
_REQUIREMENT = frozenset({"key", "operator", "values"})
_CONTAINER_PORT = frozenset({"name", "containerPort", "protocol", "hostPort", "hostIP"})

_API_VERSIONS = {
    "Namespace": "v1", "Pod": "v1", "ReplicationController": "v1",
    "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}


def render_path(path: Path) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def quote(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return type_name(value)
    return str(value)


@dataclass(slots=True)
class Converted:
    namespaces: list[Namespace] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class _Doc:
    """Reporting context of one document: where it is, what object it is."""

    __slots__ = ("data", "doc", "errors", "obj", "out")

    def __init__(self, doc: Document, out: list[Diagnostic]) -> None:
        self.doc = doc
        self.data = doc.data
        self.out = out
        self.obj: str | None = None
        self.errors = 0

    def line_of(self, path: Path) -> int | None:
        node: Any = self.data
        line = self.doc.line
        for seg in path:
            if isinstance(node, Located) and isinstance(seg, str) and seg in node:
                line = node.key_lines.get(seg, line)
                node = node[seg]
            elif isinstance(node, LocatedList) and isinstance(seg, int) and seg < len(node):
                line = node.item_lines[seg]
                node = node[seg]
            else:
                break
        return line

    def report(self, path: Path, message: str, severity: Severity = Severity.ERROR) -> None:
        if severity is Severity.ERROR:
            self.errors += 1
        self.out.append(Diagnostic(message, severity, file=self.doc.file,
                                   line=self.line_of(path), obj=self.obj,
                                   path=render_path(path) or None))

    def invalid(self, path: Path, value: Any, why: str) -> None:
        self.report(path, f"Invalid value: {quote(value)}: {why}")

    def required(self, path: Path) -> None:
        self.report(path, "Required value")

    def wrong_type(self, path: Path, value: Any, expected: str) -> None:
        self.report(path, f"Invalid value: {quote(value)}: must be {expected}, "
                          f"not {type_name(value)}")

    def unknown_fields(self, mapping: dict[str, Any], allowed: frozenset[str], path: Path) -> None:
        for key in mapping:
            if key not in allowed:
                self.report((*path, key), f'unknown field "{render_path((*path, key))}"',
                            Severity.WARNING)

    def duplicates(self, node: Any, path: Path) -> None:
        """Duplicate YAML keys anywhere in the document (PyYAML keeps the last silently)."""
        if isinstance(node, Located):
            for key, line in node.duplicates:
                self.out.append(Diagnostic(
                    f'duplicate key "{key}": the last value is used', Severity.WARNING,
                    file=self.doc.file, line=line or None, obj=self.obj,
                    path=render_path((*path, key))))
            for key, value in node.items():
                if isinstance(value, dict | list):
                    self.duplicates(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    self.duplicates(value, (*path, i))

    # -- typed getters: report and return None on a wrong type --------------------------------
    def mapping(self, value: Any, path: Path) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.wrong_type(path, value, "an object")
            return None
        return value

    def sequence(self, value: Any, path: Path) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.wrong_type(path, value, "a list")
            return None
        return value

    def string(self, value: Any, path: Path) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.wrong_type(path, value, "a string")
            return None
        return value

    def integer(self, value: Any, path: Path) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(path, value, "an integer")
            return None
        return value


# -- common pieces ------------------------------------------------------------------------------

def _labels(d: _Doc, value: Any, path: Path) -> dict[str, str]:
    raw = d.mapping(value, path)
    out: dict[str, str] = {}
    if not raw:
        return out
    for key, val in raw.items():
        problem = syntax.qualified_name(key) if isinstance(key, str) else "must be a string"
        if problem:
            d.invalid((*path, key), key, problem)
            continue
        if not isinstance(val, str):
            d.wrong_type((*path, key), val, "a string")
            continue
        problem = syntax.label_value(val)
        if problem:
            d.invalid((*path, key), val, problem)
            continue
        out[key] = val
    return out


def _selector(d: _Doc, value: Any, path: Path) -> LabelSelector | None:
    raw = d.mapping(value, path)
    if raw is None:
        return None
    d.unknown_fields(raw, _SELECTOR, path)
    match_labels = _labels(d, raw.get("matchLabels"), (*path, "matchLabels"))
    requirements: list[Requirement] = []
    exprs = d.sequence(raw.get("matchExpressions"), (*path, "matchExpressions"))
    for i, item in enumerate(exprs or ()):
        req = _requirement(d, item, (*path, "matchExpressions", i))
        if req is not None:
            requirements.append(req)
    return LabelSelector.of(match_labels, tuple(requirements))


def _requirement(d: _Doc, value: Any, path: Path) -> Requirement | None:
    raw = d.mapping(value, path)
    if raw is None:
        if value is None:
            d.required(path)
        return None
    d.unknown_fields(raw, _REQUIREMENT, path)
    before = d.errors
    key = d.string(raw.get("key"), (*path, "key"))
    if key is None and "key" not in raw:
        d.required((*path, "key"))
    elif key is not None and (problem := syntax.qualified_name(key)):
        d.invalid((*path, "key"), key, problem)
    op_text = d.string(raw.get("operator"), (*path, "operator"))
    operator: Operator | None = None
    if op_text is None and "operator" not in raw:
        d.required((*path, "operator"))
    elif op_text is not None:
        try:
            operator = Operator(op_text)
        except ValueError:
            d.report((*path, "operator"), f"Unsupported value: {quote(op_text)}: supported "
                     'values: "In", "NotIn", "Exists", "DoesNotExist"')
    values_raw = d.sequence(raw.get("values"), (*path, "values"))
    values: list[str] = []
    for i, v in enumerate(values_raw or ()):
        text = d.string(v, (*path, "values", i))
        if text is None:
            if v is None:
                d.wrong_type((*path, "values", i), v, "a string")
            continue
        if problem := syntax.label_value(text):
            d.invalid((*path, "values", i), text, problem)
        values.append(text)
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        d.report((*path, "values"), "Required value: must be specified when `operator` is "
                 "'In' or 'NotIn'")
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        d.report((*path, "values"), "Forbidden: may not be specified when `operator` is "
                 "'Exists' or 'DoesNotExist'")
    if d.errors != before or key is None or operator is None:
        return None
    return Requirement(key, operator, tuple(sorted(set(values))))


def _metadata(d: _Doc, kind: str, default_namespace: str | None,
              name_check: Callable[[str], str | None]) -> tuple[str | None, str | None, Any]:
    meta = d.mapping(d.data.get("metadata"), ("metadata",))
    if meta is None:
        if "metadata" not in d.data or d.data.get("metadata") is None:
            d.required(("metadata", "name"))
        return None, None, None
    d.unknown_fields(meta, OBJECT_META_FIELDS, ("metadata",))
    name = d.string(meta.get("name"), ("metadata", "name"))
    if name is None and not isinstance(meta.get("name"), bool | int | float | dict | list):
        d.required(("metadata", "name"))
    elif name is not None and (problem := name_check(name)):
        d.invalid(("metadata", "name"), name, problem)
    namespace: str | None = None
    if default_namespace is not None:
        ns_value = d.string(meta.get("namespace"), ("metadata", "namespace"))
        namespace = ns_value or default_namespace
        if ns_value is not None and (problem := syntax.dns1123_label(ns_value)):
            d.invalid(("metadata", "namespace"), ns_value, problem)
    d.obj = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
    d.mapping(meta.get("annotations"), ("metadata", "annotations"))
    return name, namespace, meta


# -- NetworkPolicy ------------------------------------------------------------------------------

def _policy(d: _Doc, default_namespace: str) -> NetworkPolicy | None:
    name, namespace, meta = _metadata(d, "NetworkPolicy", default_namespace,
                                      syntax.dns1123_subdomain)
    d.unknown_fields(d.data, _POLICY_TOP, ())
    spec = d.mapping(d.data.get("spec"), ("spec",))
    if spec is None:
        if d.data.get("spec") is None:
            d.required(("spec", "podSelector"))
        return None
    d.unknown_fields(spec, _POLICY_SPEC, ("spec",))
    if spec.get("podSelector") is None:
        d.required(("spec", "podSelector"))
        pod_selector = None
    else:
        pod_selector = _selector(d, spec["podSelector"], ("spec", "podSelector"))
    ingress = _rules(d, spec.get("ingress"), ("spec", "ingress"), Direction.INGRESS)
    egress = _rules(d, spec.get("egress"), ("spec", "egress"), Direction.EGRESS)
    types_raw = d.sequence(spec.get("policyTypes"), ("spec", "policyTypes"))
    types: set[Direction] = set()
    types_given = types_raw is not None and "policyTypes" in spec
    if types_raw is not None:
        for i, item in enumerate(types_raw):
            text = d.string(item, ("spec", "policyTypes", i))
            if text is None:
                continue
            if text not in ("Ingress", "Egress"):
                d.report(("spec", "policyTypes", i), f"Unsupported value: {quote(text)}: "
                         'supported values: "Egress", "Ingress"')
            elif Direction(text) in types:
                d.report(("spec", "policyTypes", i), f"Duplicate value: {quote(text)}")
            else:
                types.add(Direction(text))
        if len(types_raw) > 2:
            d.invalid(("spec", "policyTypes"), types_raw, "may not specify more than two "
                      "policyTypes")
    if d.errors or name is None or namespace is None or pod_selector is None:
        return None
    policy_types = frozenset(types) if types_given and types_raw else default_policy_types(egress)
    return NetworkPolicy(namespace, name, pod_selector, policy_types, ingress, egress,
                         policy_types_given=bool(types_given and types_raw),
                         egress_given=spec.get("egress") is not None,
                         source=Source(d.doc.file, d.doc.line, d.doc.index),
                         annotations=_annotations(meta))


def _annotations(meta: Any) -> tuple[tuple[str, str], ...]:
    """metadata.annotations with string keys and values, sorted (others are ignored)."""
    raw = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(raw, dict):
        return ()
    return tuple(sorted((k, v) for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)))


def _rules(d: _Doc, value: Any, path: Path, direction: Direction) -> tuple[Rule, ...]:
    items = d.sequence(value, path)
    rules: list[Rule] = []
    peers_key = "from" if direction is Direction.INGRESS else "to"
    allowed = _INGRESS_RULE if direction is Direction.INGRESS else _EGRESS_RULE
    for i, item in enumerate(items or ()):
        rpath = (*path, i)
        raw = d.mapping(item, rpath) if item is not None else Located()
        if raw is None:
            continue
        d.unknown_fields(raw, allowed, rpath)
        peers_raw = d.sequence(raw.get(peers_key), (*rpath, peers_key))
        peers: list[Peer] = []
        for j, p in enumerate(peers_raw or ()):
            peer = _peer(d, p, (*rpath, peers_key, j))
            if peer is not None:
                peers.append(peer)
        ports_raw = d.sequence(raw.get("ports"), (*rpath, "ports"))
        ports: list[PolicyPort] = []
        for j, p in enumerate(ports_raw or ()):
            port = _policy_port(d, p, (*rpath, "ports", j))
            if port is not None:
                ports.append(port)
        rules.append(Rule(tuple(peers), tuple(ports), peers_given=peers_raw is not None,
                          ports_given=ports_raw is not None))
    return tuple(rules)


def _peer(d: _Doc, value: Any, path: Path) -> Peer | None:
    raw = d.mapping(value, path)
    if raw is None:
        if value is None:
            d.report(path, "Required value: must specify a peer")
        return None
    d.unknown_fields(raw, _PEER, path)
    present = [k for k in ("podSelector", "namespaceSelector", "ipBlock")
               if raw.get(k) is not None]
    if not present:
        d.report(path, "Required value: must specify a peer")
        return None
    if "ipBlock" in present and len(present) > 1:
        d.report(path, "Forbidden: may not specify more than 1 peer")
        return None
    if "ipBlock" in present:
        block = _ip_block(d, raw["ipBlock"], (*path, "ipBlock"))
        return Peer(ip_block=block) if block is not None else None
    before = d.errors
    pods = (_selector(d, raw["podSelector"], (*path, "podSelector"))
            if "podSelector" in present else None)
    nss = (_selector(d, raw["namespaceSelector"], (*path, "namespaceSelector"))
           if "namespaceSelector" in present else None)
    if d.errors != before:
        return None
    return Peer(pod_selector=pods, namespace_selector=nss)


def _ip_block(d: _Doc, value: Any, path: Path) -> IPBlock | None:
    raw = d.mapping(value, path)
    if raw is None:
        return None
    d.unknown_fields(raw, _IPBLOCK, path)
    before = d.errors
    cidr_text = d.string(raw.get("cidr"), (*path, "cidr"))
    cidr = None
    if cidr_text is None:
        if raw.get("cidr") is None:
            d.required((*path, "cidr"))
    elif not cidr_text:
        d.required((*path, "cidr"))
    else:
        cidr = syntax.parse_cidr(cidr_text)
        if cidr is None:
            d.invalid((*path, "cidr"), cidr_text, "must be a valid CIDR value, "
                      "(e.g. 10.9.8.0/24 or 2001:db8::/64)")
    excepts: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for i, item in enumerate(d.sequence(raw.get("except"), (*path, "except")) or ()):
        epath = (*path, "except", i)
        text = d.string(item, epath)
        if text is None:
            if item is None:
                d.wrong_type(epath, item, "a string")
            continue
        ex = syntax.parse_cidr(text)
        if ex is None:
            d.invalid(epath, text, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                      "2001:db8::/64)")
            continue
        if cidr is not None and (ex.version != cidr.version or not ex.subnet_of(cidr)  # type: ignore[arg-type]
                                 or ex.prefixlen <= cidr.prefixlen):
            d.invalid(epath, text, "must be a strict subset of `cidr`")
            continue
        excepts.append(ex)
    if d.errors != before or cidr is None or cidr_text is None:
        return None
    return IPBlock(cidr, tuple(excepts), cidr_text)


def _policy_port(d: _Doc, value: Any, path: Path) -> PolicyPort | None:
    raw = d.mapping(value, path)
    if raw is None:
        return PolicyPort() if value is None else None
    d.unknown_fields(raw, _POLICY_PORT, path)
    before = d.errors
    protocol = _protocol(d, raw.get("protocol"), (*path, "protocol"))
    port_value = raw.get("port")
    port: int | str | None = None
    if isinstance(port_value, bool) or not isinstance(port_value, int | str | type(None)):
        d.wrong_type((*path, "port"), port_value, "an integer or a string")
    elif isinstance(port_value, int):
        if not 1 <= port_value <= 65535:
            d.invalid((*path, "port"), port_value, "must be between 1 and 65535, inclusive")
        port = port_value
    elif isinstance(port_value, str):
        if problem := syntax.port_name(port_value):
            d.invalid((*path, "port"), port_value, problem)
        port = port_value
    end_port = d.integer(raw.get("endPort"), (*path, "endPort"))
    if end_port is not None:
        if port is None and port_value is None:
            d.report((*path, "port"), "Required value: must be specified when `endPort` is "
                     "specified")
        elif isinstance(port, str):
            d.report((*path, "endPort"), "Forbidden: may not be specified when `port` is "
                     "non-numeric")
        elif isinstance(port, int):
            if not 1 <= end_port <= 65535:
                d.invalid((*path, "endPort"), end_port,
                          "must be between 1 and 65535, inclusive")
            elif end_port < port:
                d.invalid((*path, "endPort"), end_port, "must be greater than or equal to "
                          "`port`")
    if d.errors != before or protocol is None:
        return None
    return PolicyPort(protocol, port, end_port)


def _protocol(d: _Doc, value: Any, path: Path) -> Protocol | None:
    if value is None:
        return Protocol.TCP
    text = d.string(value, path)
    if text is None:
        return None
    proto = PROTOCOLS.get(text)
    if proto is None:
        d.report(path, f"Unsupported value: {quote(text)}: supported values: "
                 f"{_SUPPORTED_PROTOCOLS}")
    return proto


# -- Pods, workloads, namespaces ------------------------------------------------------------------

def _pod_template(d: _Doc, kind: str) -> tuple[Path, Any]:
    spec = d.mapping(d.data.get("spec"), ("spec",))
    if kind == "Pod":
        return ("spec",), spec
    if spec is None:
        d.required(("spec", "template"))
        return ("spec", "template"), None
    if kind == "CronJob":
        job = d.mapping(spec.get("jobTemplate"), ("spec", "jobTemplate"))
        job_spec = d.mapping((job or {}).get("spec"), ("spec", "jobTemplate", "spec"))
        base: Path = ("spec", "jobTemplate", "spec", "template")
        template = (job_spec or {}).get("template")
    else:
        base = ("spec", "template")
        template = spec.get("template")
    template = d.mapping(template, base)
    if template is None:
        d.required(base)
    return base, template


def _container_ports(d: _Doc, pod_spec: Any, path: Path) -> tuple[ContainerPort, ...]:
    spec = d.mapping(pod_spec, path)
    if spec is None:
        return ()
    ports: list[ContainerPort] = []
    names: set[str] = set()
    for key in ("containers", "initContainers"):
        containers = d.sequence(spec.get(key), (*path, key))
        for i, container in enumerate(containers or ()):
            cpath = (*path, key, i)
            c = d.mapping(container, cpath)
            if c is None:
                continue
            if key == "initContainers" and c.get("restartPolicy") != "Always":
                continue  # only sidecar init containers keep serving
            for j, item in enumerate(d.sequence(c.get("ports"), (*cpath, "ports")) or ()):
                ppath = (*cpath, "ports", j)
                raw = d.mapping(item, ppath)
                if raw is None:
                    continue
                d.unknown_fields(raw, _CONTAINER_PORT, ppath)
                before = d.errors
                number = d.integer(raw.get("containerPort"), (*ppath, "containerPort"))
                if number is None and raw.get("containerPort") is None:
                    d.required((*ppath, "containerPort"))
                elif number is not None and not 1 <= number <= 65535:
                    d.invalid((*ppath, "containerPort"), number,
                              "must be between 1 and 65535, inclusive")
                protocol = _protocol(d, raw.get("protocol"), (*ppath, "protocol"))
                name = d.string(raw.get("name"), (*ppath, "name"))
                if name is not None:
                    if problem := syntax.port_name(name):
                        d.invalid((*ppath, "name"), name, problem)
                    elif name in names:
                        d.report((*ppath, "name"), f"Duplicate value: {quote(name)}")
                    names.add(name)
                if d.errors == before and number is not None and protocol is not None:
                    ports.append(ContainerPort(number, protocol, name or None))
    return tuple(sorted(set(ports)))


def _endpoint(d: _Doc, kind: str, default_namespace: str) -> Endpoint | None:
    name, namespace, meta = _metadata(d, kind, default_namespace, syntax.dns1123_subdomain)
    base, template = _pod_template(d, kind)
    if kind == "Pod":
        labels = _labels(d, (meta or {}).get("labels"), ("metadata", "labels"))
        ports = _container_ports(d, template, base)
    else:
        _labels(d, (meta or {}).get("labels"), ("metadata", "labels"))
        tmeta = d.mapping((template or {}).get("metadata"), (*base, "metadata"))
        labels = _labels(d, (tmeta or {}).get("labels"), (*base, "metadata", "labels"))
        ports = _container_ports(d, (template or {}).get("spec"), (*base, "spec"))
    ip = None
    status = d.mapping(d.data.get("status"), ("status",)) if kind == "Pod" else None
    if status is not None:
        ip_text = d.string(status.get("podIP"), ("status", "podIP"))
        if ip_text:
            try:
                ip = ipaddress.ip_address(ip_text)
            except ValueError:
                d.invalid(("status", "podIP"), ip_text, "must be a valid IP address")
    if d.errors or name is None or namespace is None:
        return None
    return Endpoint(namespace, name, Labels(labels), ports, ip, kind,
                    source=Source(d.doc.file, d.doc.line, d.doc.index))


def _namespace(d: _Doc) -> Namespace | None:
    name, _, meta = _metadata(d, "Namespace", None, syntax.dns1123_label)
    labels = _labels(d, (meta or {}).get("labels"), ("metadata", "labels"))
    if d.errors or name is None:
        return None
    return Namespace.make(name, labels, source=Source(d.doc.file, d.doc.line, d.doc.index))


# -- entry point ----------------------------------------------------------------------------------

def convert(documents: list[Document], default_namespace: str = "default") -> Converted:
    """Turn documents into model objects; invalid objects are dropped and reported.

    Duplicates are not resolved here (chunks may be converted in parallel): see `deduplicate`.
    """
    result = Converted()
    for doc in documents:
        d = _Doc(doc, result.diagnostics)
        data = doc.data
        if not isinstance(data, dict):
            d.report((), f"a Kubernetes object must be a mapping, not {type_name(data)}")
            continue
        kind = data.get("kind")
        api_version = data.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            d.report(("kind",), "Required value: kind must be set")
            continue
        if not isinstance(api_version, str) or not api_version:
            d.obj = kind
            d.report(("apiVersion",), "Required value: apiVersion must be set")
            continue
        expected = _API_VERSIONS.get(kind)
        if expected is None:
            d.report((), f"skipped: kind {kind} is not used by podwall", Severity.INFO)
            continue
        try:
            obj = _convert_one(d, kind, api_version, expected, default_namespace)
        except RecursionError:  # pathological nesting: report rather than crash
            d.report((), "object is nested too deeply to read")
            obj = None
        if isinstance(data, Located) and data.nested_duplicates:
            d.duplicates(data, ())
        if obj is None:
            continue
        if isinstance(obj, Namespace):
            result.namespaces.append(obj)
        elif isinstance(obj, Endpoint):
            result.endpoints.append(obj)
        else:
            result.policies.append(obj)
    return result


def _convert_one(d: _Doc, kind: str, api_version: str, expected: str,
                 default_namespace: str) -> Namespace | Endpoint | NetworkPolicy | None:
    if api_version != expected:
        d.obj = kind
        if kind == "NetworkPolicy":
            d.report(("apiVersion",), f"Unsupported value: {quote(api_version)}: only "
                     "networking.k8s.io/v1 NetworkPolicy is supported")
        else:
            d.report(("apiVersion",), f"skipped: {kind} of {api_version} (podwall reads "
                     f"{expected})", Severity.INFO)
        return None
    if kind == "NetworkPolicy":
        return _policy(d, default_namespace)
    if kind == "Namespace":
        return _namespace(d)
    if kind == "Pod" or kind in WORKLOAD_KINDS:
        return _endpoint(d, kind, default_namespace)
    return None


def deduplicate(parts: list[Converted]) -> Converted:
    """Merge converted chunks in input order; of objects with the same name the first wins.

    Two endpoints with the same namespace/name collide even when their kinds differ: both would
    be `ns/name` to every query.
    """
    merged = Converted()
    seen: dict[tuple[str, str], str] = {}

    def first(kind: str, key: str, label: str, source: Source | None) -> bool:
        where = f"{label} at {source}" if source else label
        earlier = seen.get((kind, key))
        if earlier is None:
            seen[(kind, key)] = where
            return True
        merged.diagnostics.append(Diagnostic(
            f"duplicate object: {earlier} has the same name; the first one is used",
            Severity.WARNING, file=source.file if source else None,
            line=source.line if source else None, obj=label, path="metadata.name"))
        return False

    for part in parts:
        merged.diagnostics.extend(part.diagnostics)
        for ns in part.namespaces:
            if first("Namespace", ns.name, f"Namespace {ns.name}", ns.source):
                merged.namespaces.append(ns)
        for ep in part.endpoints:
            if first("Endpoint", ep.key, f"{ep.kind} {ep.key}", ep.source):
                merged.endpoints.append(ep)
        for pol in part.policies:
            if first("NetworkPolicy", pol.key, f"NetworkPolicy {pol.key}", pol.source):
                merged.policies.append(pol)
    return merged
