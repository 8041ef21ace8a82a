"""Documents -> validated model objects, reporting every problem at once with its field path.

Validation follows the Kubernetes API server: k8s.io/kubernetes pkg/apis/networking/validation
for NetworkPolicy, apimachinery's ObjectMeta, label, selector and name rules, and the container
port rules of pkg/apis/core/validation for the Pod fields podwall reads. Messages use its words
(`Invalid value: "x": ...`, `Required value`, `Unsupported value: ...`, `Forbidden: ...`).

As when the API server decodes JSON, `null` means the field's zero value: absent for optional
objects, lists and pointers, "" for strings, 0 for numbers (so `from: [null]` is a peer that
specifies nothing). A value of the wrong type is an error at its path naming the type expected.

Paths are nested pairs `(parent, segment)` (the object root is None): building one costs a
two-item tuple, and text (and a line number) is made only when something is reported.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from podwall.errors import Diagnostic, Severity
from podwall.manifests import fields, kinds, syntax
from podwall.manifests.documents import Document, type_name
from podwall.manifests.fields import FieldValidation
from podwall.manifests.located import Located, LocatedList
from podwall.model import (
    ENFORCEMENT_ANNOTATION,
    WORKLOAD_KINDS,
    ContainerPort,
    Direction,
    Endpoint,
    Enforcement,
    IPAddress,
    IPBlock,
    IPNetwork,
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
    Service,
    Source,
    default_policy_types,
)
from podwall.model.clusterpolicy import V1ALPHA1, V1ALPHA2, V1BETA1, ClusterNetworkPolicy

Path = Any  # tuple[Path, str | int] | None; `Any` because mypy has no recursive tuple aliases

PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP, "SCTP": Protocol.SCTP}
_POLICY_PROTOCOLS = '"TCP", "UDP", "SCTP"'   # networking validation lists them in this order
_CONTAINER_PROTOCOLS = '"SCTP", "TCP", "UDP"'  # core validation lists a sorted set
_OPERATORS = {op.value: op for op in Operator}
_DIRECTIONS = {"Ingress": Direction.INGRESS, "Egress": Direction.EGRESS}
_INVALID_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
_PORT_RANGE = "must be between 1 and 65535, inclusive"
_ANNOTATIONS_LIMIT = 256 * 1024

OBJECT_META_FIELDS = fields.OBJECT_META
_POLICY_TOP = fields.POLICY
_POLICY_SPEC = fields.POLICY_SPEC
_INGRESS_RULE = fields.INGRESS_RULE
_EGRESS_RULE = fields.EGRESS_RULE
_PEER = fields.PEER
_IPBLOCK = fields.IP_BLOCK
_POLICY_PORT = fields.POLICY_PORT
_SELECTOR = fields.SELECTOR
_REQUIREMENT = fields.REQUIREMENT
_CONTAINER_PORT = fields.CONTAINER_PORT

_API_VERSIONS = {
    "Namespace": "v1", "Pod": "v1", "ReplicationController": "v1",
    "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "Service": "v1",
}

_EMPTY: dict[str, Any] = {}  # read-only stand-in for an absent or null mapping
_NO_LABELS = Labels()
_ANY = LabelSelector()

_META: Path = (None, "metadata")
_META_NAME: Path = (_META, "name")
_META_GENERATE: Path = (_META, "generateName")
_META_NAMESPACE: Path = (_META, "namespace")
_META_LABELS: Path = (_META, "labels")
_META_ANNOTATIONS: Path = (_META, "annotations")
_SPEC: Path = (None, "spec")
_STATUS: Path = (None, "status")


# -- paths and values as messages show them -------------------------------------------------------

def segments(path: Path) -> list[str | int]:
    out: list[str | int] = []
    while path is not None:
        path, seg = path
        out.append(seg)
    out.reverse()
    return out


def render_path(path: Path) -> str:
    out = ""
    for seg in segments(path):
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def go_value(value: Any) -> str:
    """A bad value as the API server prints it (`%q` for strings, `%v` for numbers)."""
    if isinstance(value, str):
        return syntax.go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    return syntax.go_quote(type_name(value))


def _as_text(value: Any) -> str | None:
    """What the API server receives for a string field: null is "", a YAML timestamp its text."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):  # kubectl sends YAML timestamps as strings
        return value.isoformat()
    return None


# -- per-document reporting ------------------------------------------------------------------------

@dataclass(slots=True)
class Converted:
    namespaces: list[Namespace] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    cluster_policies: list[ClusterNetworkPolicy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)


class _Ctx:
    """Reporting context of one document: where it is, what object it is, how many errors."""

    __slots__ = ("data", "doc", "errors", "obj", "out", "seen", "validation")

    def __init__(self, doc: Document, out: list[Diagnostic],
                 validation: FieldValidation = FieldValidation.STRICT) -> None:
        self.doc = doc
        self.validation = validation
        self.data = doc.data
        self.out = out
        self.obj: str | None = None
        self.errors = 0
        self.seen: set[tuple[Severity, str, str]] | None = None

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest field on the path that the document knows a line for."""
        node: Any = self.data
        line = self.doc.line
        if line is None and isinstance(node, LocatedList):
            line = node.line
        for seg in segments(path):
            if isinstance(seg, str):
                if not isinstance(node, dict) or seg not in node:
                    break
                if isinstance(node, Located):
                    line = node.key_lines.get(seg) or line
                node = node[seg]
            else:
                if not isinstance(node, list) or not 0 <= seg < len(node):
                    break
                if isinstance(node, LocatedList) and seg < len(node.item_lines):
                    line = node.item_lines[seg]
                node = node[seg]
        return line

    def report(self, severity: Severity, path: Path, message: str, at: Path = None,
               text: str | None = None) -> None:
        """Record one problem; `at` is a deeper path for the line when `path` is a whole map
        (the API server reports label problems at `metadata.labels`, we point at the key).
        `text` spells the path when render_path cannot (a map key with dots and slashes)."""
        if text is None:
            text = self.path_text(path)
        if self.seen is None:
            self.seen = set()
        key = (severity, text, message)
        if key in self.seen:  # the API server drops identical messages too
            return
        self.seen.add(key)
        if severity is Severity.ERROR:
            self.errors += 1
        line = self.line_of(at if at is not None else path)
        self.out.append(Diagnostic(message, severity, file=self.doc.file, line=line,
                                   obj=self.obj, path=text or None))

    def path_text(self, path: Path) -> str:
        """The path as shown: inside a List, from the List (`items[3].spec.podSelector`)."""
        text = render_path(path)
        prefix = self.doc.prefix
        if prefix:
            return f"{prefix}.{text}" if text else prefix
        return text

    def error(self, path: Path, message: str, at: Path = None) -> None:
        self.report(Severity.ERROR, path, message, at)

    def warn(self, path: Path, message: str, at: Path = None) -> None:
        self.report(Severity.WARNING, path, message, at)

    def invalid(self, path: Path, value: Any, detail: str, at: Path = None) -> None:
        self.error(path, f"Invalid value: {go_value(value)}: {detail}", at)

    def required(self, path: Path, detail: str = "") -> None:
        self.error(path, f"Required value: {detail}" if detail else "Required value")

    def forbidden(self, path: Path, detail: str) -> None:
        self.error(path, f"Forbidden: {detail}")

    def unsupported(self, path: Path, value: str, supported: str) -> None:
        self.error(path, f"Unsupported value: {syntax.go_quote(value)}: supported values: "
                         f"{supported}")

    def wrong_type(self, path: Path, value: Any, expected: str) -> None:
        self.error(path, f'Invalid value: "{type_name(value)}": expected {expected}')

    def wrong_value_type(self, path: Path, value: Any, what: str, key: str, at: Path) -> None:
        """A map value of the wrong type, reported at the map (as the API server does)."""
        self.error(path, f'Invalid value: "{type_name(value)}": expected string for {what} '
                         f"{syntax.go_quote(key)}", at)

    def unknown_fields(self, mapping: dict[str, Any], allowed: frozenset[str], path: Path,
                       inner: tuple[str, frozenset[str]] | None = None) -> None:
        """Fields the schema does not have: errors, warnings or nothing, as --field-validation
        says (see fields.py). `inner` is a child mapping whose fields a too shallow one names."""
        if mapping.keys() <= allowed or self.validation is FieldValidation.IGNORE:
            return
        severity = (Severity.ERROR if self.validation is FieldValidation.STRICT
                    else Severity.WARNING)
        for key in mapping:
            if key not in allowed:
                self.report(severity, (path, key), fields.unknown(key, allowed, inner))

    # -- typed reads: None means absent (or null); a wrong type is reported and reads as None ---

    def mapping(self, value: Any, path: Path) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        self.wrong_type(path, value, "object")
        return None

    def sequence(self, value: Any, path: Path) -> list[Any] | None:
        if value is None or isinstance(value, list):
            return value
        self.wrong_type(path, value, "array")
        return None

    def string(self, value: Any, path: Path) -> str | None:
        """A string field; null is "" (its zero value), None means a wrong type (reported)."""
        if isinstance(value, str):
            return value
        text = _as_text(value)
        if text is None:
            self.wrong_type(path, value, "string")
        return text

    def integer(self, value: Any, path: Path) -> int | None:
        """An integer field; None means null/absent or a wrong type (reported)."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.wrong_type(path, value, "integer")
        return None

    def duplicates(self, node: Any, path: Path) -> None:
        """Duplicate mapping keys anywhere in the document (the last value is the one used)."""
        if isinstance(node, Located):
            for key, line in node.duplicates:
                self.out.append(Diagnostic(
                    f'duplicate key "{key}": the last value is used', Severity.WARNING,
                    file=self.doc.file, line=line or None, obj=self.obj,
                    path=self.path_text((path, key))))
            for key, value in node.items():
                if isinstance(value, dict | list):
                    self.duplicates(value, (path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    self.duplicates(value, (path, i))


# -- labels and selectors -------------------------------------------------------------------------

_LABELS_CACHE: dict[tuple[tuple[str, Any], ...], Labels] = {}
_CACHE_LIMIT = 1 << 16


def _labels(ctx: _Ctx, value: Any, path: Path) -> Labels | None:
    """ValidateLabels: keys are qualified names, values label values (strings). None on error.

    Errors are reported at the map's path, as the API server does, with the key's line.
    Valid label maps are cached by content: pods of one workload share one Labels object.
    """
    if value is None:
        return _NO_LABELS
    if not isinstance(value, dict):
        ctx.wrong_type(path, value, "object")
        return None
    key: tuple[tuple[str, Any], ...] | None
    try:
        key = tuple(value.items())
        cached = _LABELS_CACHE.get(key)
    except TypeError:  # a value that is a list or a map: report it below
        key, cached = None, None
    if cached is not None:
        return cached
    ok = True
    out: dict[str, str] = {}
    for k, v in value.items():
        at = (path, k)
        for msg in syntax.qualified_name(k):
            ctx.invalid(path, k, msg, at)
            ok = False
        text = v if isinstance(v, str) else _as_text(v)
        if text is None:
            ctx.wrong_value_type(path, v, "label", k, at)
            ok = False
            continue
        for msg in syntax.label_value(text):
            ctx.invalid(path, text, msg, at)
            ok = False
        out[k] = text
    if not ok:
        return None
    labels = Labels(out)
    if key is not None:
        if len(_LABELS_CACHE) >= _CACHE_LIMIT:
            _LABELS_CACHE.clear()
        _LABELS_CACHE[key] = labels
    return labels


def _selector(ctx: _Ctx, value: Any, path: Path) -> LabelSelector | None:
    """ValidateLabelSelector (value is not None). None when anything in it is invalid."""
    raw = ctx.mapping(value, path)
    if raw is None:
        return None
    if not raw:
        return _ANY
    ctx.unknown_fields(raw, _SELECTOR, path)
    before = ctx.errors
    labels = _labels(ctx, raw.get("matchLabels"), (path, "matchLabels"))
    requirements: list[Requirement] = []
    exprs_path = (path, "matchExpressions")
    for i, item in enumerate(ctx.sequence(raw.get("matchExpressions"), exprs_path) or ()):
        req = _requirement(ctx, item, (exprs_path, i))
        if req is not None:
            requirements.append(req)
    if ctx.errors != before or labels is None:
        return None
    return LabelSelector(labels.items_sorted, tuple(requirements))


def _requirement(ctx: _Ctx, value: Any, path: Path) -> Requirement | None:
    """ValidateLabelSelectorRequirement; values are sorted and deduplicated in the model."""
    raw = _EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _REQUIREMENT, path)
    before = ctx.errors
    key = ctx.string(raw.get("key"), (path, "key"))
    op_text = ctx.string(raw.get("operator"), (path, "operator"))
    values_path = (path, "values")
    given_values = raw.get("values")
    raw_values = ctx.sequence(given_values, values_path)
    wrong_type = raw_values is None and given_values is not None  # reported: not "absent" too
    if raw_values is None:
        raw_values = []
    values = [ctx.string(v, (values_path, i)) for i, v in enumerate(raw_values)]
    operator = _OPERATORS.get(op_text) if op_text is not None else None
    if operator is Operator.IN or operator is Operator.NOT_IN:
        if not raw_values and not wrong_type:
            ctx.required(values_path, "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator is not None:
        if raw_values:
            ctx.forbidden(values_path,
                          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    elif op_text is not None:
        ctx.invalid((path, "operator"), op_text, "not a valid selector operator")
    if key is not None:
        for msg in syntax.qualified_name(key):
            ctx.invalid((path, "key"), key, msg)
    for i, text in enumerate(values):
        if text is not None:
            for msg in syntax.label_value(text):
                ctx.invalid((values_path, i), text, msg)
    if ctx.errors != before or key is None or operator is None:
        return None
    return Requirement(key, operator, tuple(sorted({v for v in values if v is not None})))


# -- object metadata -------------------------------------------------------------------------------

def _metadata(ctx: _Ctx, kind: str, namespaced: bool, default_namespace: str,
              name_check: Callable[[str], tuple[str, ...]]) -> tuple[str | None, str, dict[str, Any]]:
    """ValidateObjectMeta: (name or None, namespace, metadata mapping). Sets `ctx.obj`."""
    raw = ctx.data.get("metadata")
    if isinstance(raw, dict) and raw.keys() <= OBJECT_META_FIELDS and "generateName" not in raw:
        # the common case, valid at a glance; anything else takes the reporting path below
        name = raw.get("name")
        ns = raw.get("namespace") if namespaced else None
        if (type(name) is str and name and not name_check(name)
                and (ns is None or (type(ns) is str and ns and not syntax.dns1123_label(ns)))):
            namespace = ns or default_namespace
            ctx.obj = f"{kind} {namespace}/{name}" if namespaced else f"{kind} {name}"
            return name, namespace, raw
    ctx.obj = kind
    meta = ctx.mapping(raw, _META)
    if meta is None:
        if raw is not None:  # of the wrong type: reported, nothing more to say
            return None, default_namespace, _EMPTY
        meta = _EMPTY
    name = ctx.string(meta.get("name"), _META_NAME)
    namespace = default_namespace
    ns_text: str | None = ""
    if namespaced:
        ns_text = ctx.string(meta.get("namespace"), _META_NAMESPACE)
        if ns_text:
            namespace = ns_text
    if name:
        ctx.obj = f"{kind} {namespace}/{name}" if namespaced else f"{kind} {name}"
    ctx.unknown_fields(meta, OBJECT_META_FIELDS, _META)
    generate = ctx.string(meta.get("generateName"), _META_GENERATE)
    if generate:
        for msg in name_check(syntax.mask_trailing_dash(generate)):
            ctx.invalid(_META_GENERATE, generate, msg)
    if name == "":
        if generate:
            ctx.required(_META_NAME, "podwall needs a name: generateName is only resolved by "
                                     "the API server")
        else:
            ctx.required(_META_NAME, "name or generateName is required")
    elif name is not None:
        for msg in name_check(name):
            ctx.invalid(_META_NAME, name, msg)
    if ns_text:
        for msg in syntax.dns1123_label(ns_text):
            ctx.invalid(_META_NAMESPACE, ns_text, msg)
    return (name or None), namespace, meta


def _annotations(ctx: _Ctx, meta: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """ValidateAnnotations (keys are qualified names, any case; 256 KiB in all), sorted."""
    raw = ctx.mapping(meta.get("annotations"), _META_ANNOTATIONS)
    if not raw:
        return ()
    out: list[tuple[str, str]] = []
    size = 0
    for key, value in raw.items():
        at = (_META_ANNOTATIONS, key)
        for msg in syntax.qualified_name(key.lower()):
            ctx.invalid(_META_ANNOTATIONS, key, msg, at)
        text = value if isinstance(value, str) else _as_text(value)
        if text is None:
            ctx.wrong_value_type(_META_ANNOTATIONS, value, "annotation", key, at)
        else:
            out.append((key, text))
            size += len(key) + len(text)
    if size > _ANNOTATIONS_LIMIT:
        ctx.error(_META_ANNOTATIONS, f"Too long: must have at most {_ANNOTATIONS_LIMIT} bytes")
    out.sort()
    return tuple(out)


def _source(ctx: _Ctx) -> Source:
    return _source_of(ctx.doc)


_LAST_SOURCE: list[Source] = [Source("")]


def _source_of(doc: Document) -> Source:
    """Where the document's object came from. The items of a JSON List all come from the same
    file, line and document: they share one Source (fewer objects to make, keep and ship)."""
    last = _LAST_SOURCE[0]
    if doc.line is None and last.line is None and last.file == doc.file and last.document == doc.index:
        return last
    source = _LAST_SOURCE[0] = Source(doc.file, doc.line, doc.index)
    return source


# -- NetworkPolicy ---------------------------------------------------------------------------------

_SPEC_PODSELECTOR: Path = (_SPEC, "podSelector")
_SPEC_INGRESS: Path = (_SPEC, "ingress")
_SPEC_EGRESS: Path = (_SPEC, "egress")
_SPEC_POLICYTYPES: Path = (_SPEC, "policyTypes")


def _policy(ctx: _Ctx, default_namespace: str) -> NetworkPolicy | None:
    data = ctx.data
    name, namespace, meta = _metadata(ctx, "NetworkPolicy", True, default_namespace,
                                      syntax.dns1123_subdomain)
    ctx.unknown_fields(data, _POLICY_TOP, None, ("spec", _POLICY_SPEC))
    _labels(ctx, meta.get("labels"), _META_LABELS)
    annotations = _annotations(ctx, meta)
    enforcement = _enforcement(ctx, annotations)
    raw_spec = data.get("spec")
    spec = _EMPTY if raw_spec is None else ctx.mapping(raw_spec, _SPEC)
    if spec is None:
        return None
    ctx.unknown_fields(spec, _POLICY_SPEC, _SPEC)
    raw_selector = spec.get("podSelector")
    # Absent or null is the decoder's zero value, the empty selector (every pod of the
    # namespace): the API server accepts it and stores `podSelector: {}`.
    pod_selector = _ANY if raw_selector is None else _selector(ctx, raw_selector,
                                                                 _SPEC_PODSELECTOR)
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
        source=_source(ctx), annotations=annotations,
        enforcement=enforcement)


_ENFORCEMENT_HINT = (
    f'"{Enforcement.AUDIT.value}" evaluates the policy without enforcing it (nothing is dropped '
    f'because of it; `podwall check` shows what it would change), "{Enforcement.ENFORCE.value}" '
    "enforces it as if the annotation were absent")


def _enforcement(ctx: _Ctx, annotations: tuple[tuple[str, str], ...]) -> Enforcement:
    """The policy's `podwall.io/enforcement` annotation; an unknown value is an error (a typo
    of "audit" must not silently enforce a policy someone meant to try out)."""
    value = next((v for k, v in annotations if k == ENFORCEMENT_ANNOTATION), None)
    if value is None:
        return Enforcement.ENFORCE
    try:
        return Enforcement(value)
    except ValueError:
        key = (_META_ANNOTATIONS, ENFORCEMENT_ANNOTATION)
        ctx.report(Severity.ERROR, key,
                   f"Unsupported value: {syntax.go_quote(value)}: supported values: "
                   f'"{Enforcement.AUDIT.value}", "{Enforcement.ENFORCE.value}": '
                   f"{_ENFORCEMENT_HINT}", key,
                   text=f'metadata.annotations["{ENFORCEMENT_ANNOTATION}"]')
        return Enforcement.ENFORCE


def _policy_types(ctx: _Ctx, value: Any) -> frozenset[Direction] | None:
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


def _rules(ctx: _Ctx, value: Any, path: Path, peers_key: str,
           allowed: frozenset[str]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for i, item in enumerate(ctx.sequence(value, path) or ()):
        rule_path = (path, i)
        raw = _EMPTY if item is None else ctx.mapping(item, rule_path)
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


def _peer(ctx: _Ctx, value: Any, path: Path) -> Peer | None:
    """ValidateNetworkPolicyPeer: at least one peer; an ipBlock stands alone."""
    raw = _EMPTY if value is None else ctx.mapping(value, path)
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
        pods = _selector(ctx, raw_pods, (path, "podSelector"))
    if raw_namespaces is not None:
        count += 1
        namespaces = _selector(ctx, raw_namespaces, (path, "namespaceSelector"))
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


def _ip_block(ctx: _Ctx, value: Any, path: Path) -> IPBlock | None:
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


def _policy_port(ctx: _Ctx, value: Any, path: Path) -> PolicyPort | None:
    """ValidateNetworkPolicyPort (protocol defaults to TCP, as the API server's defaulting)."""
    raw = _EMPTY if value is None else ctx.mapping(value, path)
    if raw is None:
        return None
    if not raw:
        return _ALL_TCP
    ctx.unknown_fields(raw, _POLICY_PORT, path)
    before = ctx.errors
    protocol = _protocol(ctx, raw.get("protocol"), (path, "protocol"), _POLICY_PROTOCOLS, False)
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
            ctx.invalid(port_path, port, _PORT_RANGE)
        if end is not None:
            if end < port:
                ctx.invalid(end_path, end, "must be greater than or equal to `port`")
            if not 1 <= end <= 65535:
                ctx.invalid(end_path, end, _PORT_RANGE)
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


def _protocol(ctx: _Ctx, value: Any, path: Path, supported: str,
              empty_is_default: bool) -> Protocol | None:
    """A protocol; null defaults to TCP (and "" too for container ports, whose defaulting
    replaces an empty string, unlike a policy port's pointer)."""
    if value is None:
        return Protocol.TCP
    text = ctx.string(value, path)
    if text is None:
        return None
    proto = PROTOCOLS.get(text)
    if proto is None:
        if not text and empty_is_default:
            return Protocol.TCP
        ctx.unsupported(path, text, supported)
    return proto


# -- Pods and workloads ----------------------------------------------------------------------------

def _endpoint(ctx: _Ctx, kind: str, default_namespace: str) -> Endpoint | None:
    data = ctx.data
    name, namespace, meta = _metadata(ctx, kind, True, default_namespace,
                                      syntax.dns1123_subdomain)
    if kind == "CronJob" and name is not None and len(name) > 52:
        ctx.invalid(_META_NAME, name, "must be no more than 52 characters")
    labels = _labels(ctx, meta.get("labels"), _META_LABELS)
    _annotations(ctx, meta)
    ctx.unknown_fields(data, fields.OBJECT, None,
                       ("spec", fields.POD_SPEC if kind == "Pod" else fields.WORKLOAD_SPEC[kind]))
    ip: IPAddress | None = None
    if kind == "Pod":
        ports = _pod_ports(ctx, data.get("spec"), _SPEC)
        raw_status = data.get("status")
        if raw_status is not None:
            ip = _pod_ip(ctx, raw_status)
    else:
        labels, ports = _template(ctx, kind)
    if ctx.errors or name is None or labels is None or ports is None:
        return None
    owners, phase, replicas, live = _live_fields(kind, data, meta)
    return Endpoint(namespace, name, labels, ports, ip, kind, False, _source(ctx), owners, phase,
                    replicas, live)


def _template(ctx: _Ctx, kind: str) -> tuple[Labels | None, tuple[ContainerPort, ...] | None]:
    """The pod template of a workload: its labels and its containers' ports."""
    before = ctx.errors
    spec = ctx.mapping(ctx.data.get("spec"), _SPEC) or _EMPTY
    levels = [(spec, fields.WORKLOAD_SPEC[kind], _SPEC)]
    if kind == "CronJob":
        job_path = (_SPEC, "jobTemplate")
        job = ctx.mapping(spec.get("jobTemplate"), job_path) or _EMPTY
        job_spec_path = (job_path, "spec")
        job_spec = ctx.mapping(job.get("spec"), job_spec_path) or _EMPTY
        levels += [(job, fields.POD_TEMPLATE, job_path), (job_spec, fields.JOB_SPEC, job_spec_path)]
        template_path = (job_spec_path, "template")
        raw = job_spec.get("template")
    else:
        template_path = (_SPEC, "template")
        raw = spec.get("template")
    if ctx.errors != before:  # a wrong type on the way there, already reported
        return None, None
    for mapping, allowed, level_path in levels:
        ctx.unknown_fields(mapping, allowed, level_path)
    if raw is None:
        ctx.required(template_path)
        return None, None
    template = ctx.mapping(raw, template_path)
    if template is None:
        return None, None
    ctx.unknown_fields(template, fields.POD_TEMPLATE, template_path)
    meta_path = (template_path, "metadata")
    meta = ctx.mapping(template.get("metadata"), meta_path) or _EMPTY
    ctx.unknown_fields(meta, fields.OBJECT_META, meta_path)
    labels = _labels(ctx, meta.get("labels"), (meta_path, "labels"))
    ports = _pod_ports(ctx, template.get("spec"), (template_path, "spec"))
    return labels, ports


_PORTS_CACHE: dict[tuple[ContainerPort, ...], tuple[ContainerPort, ...]] = {}


def _pod_ports(ctx: _Ctx, value: Any, path: Path) -> tuple[ContainerPort, ...] | None:
    """validateContainerPorts for every container, and the ports the pod serves (its containers
    and its sidecars, i.e. init containers with `restartPolicy: Always`), sorted."""
    spec = ctx.mapping(value, path)
    if not spec:
        return () if spec is not None or value is None else None
    before = ctx.errors
    ctx.unknown_fields(spec, fields.POD_SPEC, path)
    ports: list[ContainerPort] = []
    names: dict[str, Path] = {}
    definitions: dict[tuple[Any, ...], Path] = {}
    for key in ("containers", "initContainers"):
        list_path = (path, key)
        for i, item in enumerate(ctx.sequence(spec.get(key), list_path) or ()):
            container_path = (list_path, i)
            container = _EMPTY if item is None else ctx.mapping(item, container_path)
            if not container:
                continue
            ctx.unknown_fields(container, fields.CONTAINER, container_path)
            raw_ports = container.get("ports")
            if raw_ports is None:
                continue
            serves = key == "containers" or container.get("restartPolicy") == "Always"
            _container_ports(ctx, raw_ports, (container_path, "ports"), serves, ports, names,
                             definitions)
    if ctx.errors != before:
        return None
    return _sorted_ports(ports)


def _sorted_ports(ports: list[ContainerPort]) -> tuple[ContainerPort, ...]:
    """Distinct and sorted; one shared tuple per distinct list (pods of a workload share it)."""
    key_ports = tuple(ports)
    cached = _PORTS_CACHE.get(key_ports)
    if cached is None:
        cached = tuple(sorted(set(ports)))
        if len(_PORTS_CACHE) >= _CACHE_LIMIT:
            _PORTS_CACHE.clear()
        _PORTS_CACHE[key_ports] = cached
    return cached


def _container_ports(ctx: _Ctx, value: Any, path: Path, serves: bool,
                     ports: list[ContainerPort], pod_names: dict[str, Path],
                     definitions: dict[tuple[Any, ...], Path]) -> None:
    names: set[str] = set()  # the API server wants names unique within one container
    for j, item in enumerate(ctx.sequence(value, path) or ()):
        port_path = (path, j)
        entry = _port_fast(item)
        if entry is None:
            entry = _port_entry(ctx, item, port_path)
            if entry is None:
                continue
        number, protocol, name, host_ip, host_port = entry
        if name:
            if name in names:
                ctx.error((port_path, "name"), f"Duplicate value: {syntax.go_quote(name)}")
                continue
            names.add(name)
            other = pod_names.get(name)
            if other is None:
                pod_names[name] = port_path
            else:
                ctx.warn((port_path, "name"), f"port name {syntax.go_quote(name)} is also used by "
                                              f"{render_path(other)}: a policy port naming it "
                                              "matches both")
        definition = (number, protocol, host_ip, host_port)
        other = definitions.get(definition)
        if other is not None:
            ctx.warn(port_path, f"duplicate port definition with {render_path(other)}")
        else:
            definitions[definition] = port_path
        if serves:
            ports.append(_container_port(number, protocol, name or None))


_PortEntry = tuple[int, Protocol, str, str, int]  # number, protocol, name, hostIP, hostPort


def _port_fast(item: Any) -> _PortEntry | None:
    """The common, valid container port (containerPort, maybe name and protocol), or None."""
    if not isinstance(item, dict) or not item.keys() <= _CONTAINER_PORT:
        return None
    number = item.get("containerPort")
    name = item.get("name")
    proto = item.get("protocol")
    if (type(number) is not int or not 0 < number <= 65535 or "hostPort" in item
            or "hostIP" in item):
        return None
    if proto is None:
        protocol = Protocol.TCP
    elif type(proto) is str and proto in PROTOCOLS:
        protocol = PROTOCOLS[proto]
    else:
        return None
    if name is None:
        name = ""
    elif type(name) is not str or (name and syntax.port_name(name)):
        return None
    return number, protocol, name, "", 0


def _port_entry(ctx: _Ctx, item: Any, port_path: Path) -> _PortEntry | None:
    """validateContainerPorts for one entry, reporting everything; None when invalid."""
    raw = _EMPTY if item is None else ctx.mapping(item, port_path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _CONTAINER_PORT, port_path)
    before = ctx.errors
    name_path = (port_path, "name")
    name = ctx.string(raw.get("name"), name_path)
    if name:
        for msg in syntax.port_name(name):
            ctx.invalid(name_path, name, msg)
    number_path = (port_path, "containerPort")
    number = ctx.integer(raw.get("containerPort"), number_path)
    if number == 0 or (number is None and raw.get("containerPort") is None):
        ctx.required(number_path)
    elif number is not None and not 1 <= number <= 65535:
        ctx.invalid(number_path, number, _PORT_RANGE)
    host_path = (port_path, "hostPort")
    host_port = ctx.integer(raw.get("hostPort"), host_path)
    if host_port and not 1 <= host_port <= 65535:
        ctx.invalid(host_path, host_port, _PORT_RANGE)
    protocol = _protocol(ctx, raw.get("protocol"), (port_path, "protocol"),
                         _CONTAINER_PROTOCOLS, True)
    host_ip = ctx.string(raw.get("hostIP"), (port_path, "hostIP"))
    if (ctx.errors != before or number is None or protocol is None or name is None
            or host_ip is None):
        return None
    return number, protocol, name, host_ip, host_port or 0


@lru_cache(maxsize=4096)
def _container_port(number: int, protocol: Protocol, name: str | None) -> ContainerPort:
    return ContainerPort(number, protocol, name)


_POD_IP: Path = (_STATUS, "podIP")


def _pod_ip(ctx: _Ctx, value: Any) -> IPAddress | None:
    status = ctx.mapping(value, _STATUS)
    if not status:
        return None
    ctx.unknown_fields(status, fields.POD_STATUS, _STATUS)
    text = ctx.string(status.get("podIP"), _POD_IP)
    if not text:
        return None
    ip = syntax.parse_ip(text)
    if ip is None:
        ctx.invalid(_POD_IP, text, _INVALID_IP)
    return ip


def _namespace(ctx: _Ctx) -> Namespace | None:
    # The API server clears metadata.namespace of cluster-scoped objects, so it is not checked.
    name, _, meta = _metadata(ctx, "Namespace", False, "", syntax.dns1123_label)
    labels = _labels(ctx, meta.get("labels"), _META_LABELS)
    _annotations(ctx, meta)
    data = ctx.data
    ctx.unknown_fields(data, fields.OBJECT, None, ("spec", fields.NAMESPACE_SPEC))
    for key, allowed in (("spec", fields.NAMESPACE_SPEC), ("status", fields.NAMESPACE_STATUS)):
        part = ctx.mapping(data.get(key), (None, key))
        if part:
            ctx.unknown_fields(part, allowed, (None, key))
    if ctx.errors or name is None or labels is None:
        return None
    return Namespace.make(name, dict(labels), source=_source(ctx))


_NOT_LIVE: tuple[tuple[tuple[str, str], ...], str | None, int | None, bool] = ((), None, None, False)


def _live_fields(kind: str, data: dict[str, Any], meta: Any
                 ) -> tuple[tuple[tuple[str, str], ...], str | None, int | None, bool]:
    """What a live object says about itself (model.snapshot decides with it): its owners, a
    Pod's phase ("" with a status but no phase, None without a status), a controller's
    replicas and whether it has a status. Read leniently and identically by both paths: these
    fields are the server's, not the user's, and a value of an unexpected shape only means the
    rule cannot use it."""
    refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
    status = data.get("status")
    if not refs and not status and kind == "Pod":
        return _NOT_LIVE
    owners: tuple[tuple[str, str], ...] = ()
    if isinstance(refs, list) and refs:
        owners = tuple((ref["kind"], ref["name"]) for ref in refs
                       if isinstance(ref, dict) and isinstance(ref.get("kind"), str)
                       and isinstance(ref.get("name"), str))
    has_status = isinstance(status, dict) and bool(status)
    if kind == "Pod":
        phase = status.get("phase") if has_status else None  # type: ignore[union-attr]
        return owners, (phase if isinstance(phase, str) else "") if has_status else None, \
            None, False
    spec = data.get("spec")
    replicas = spec.get("replicas") if isinstance(spec, dict) else None
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        replicas = None
    return owners, None, replicas, has_status


# -- the common, valid object, quickly -------------------------------------------------------------
# Nearly every object in a real input is valid and plain. The functions below read such an object
# without building field paths, a reporting context or a single message, and give up (None) at
# the first thing that is not plain and valid; the reporting path above then reads the object
# again and says what is wrong. They accept only what the reporting path accepts without a word
# and build the same values (tests/manifests/test_fast_path.py holds them to that), so a result
# never depends on which path produced it.

def _fast_labels(value: Any) -> Labels | None:
    """ValidateLabels for a valid label map (None: absent/null is no labels), else None."""
    if value is None:
        return _NO_LABELS
    if type(value) is not dict and type(value) is not Located:
        return None
    try:
        key = tuple(value.items())
        cached = _LABELS_CACHE.get(key)
    except TypeError:  # an unhashable value: not a valid label map
        return None
    if cached is not None:
        return cached
    out: dict[str, str] = {}
    for k, v in key:
        text = v if type(v) is str else _as_text(v)
        if text is None or syntax.qualified_name(k) or syntax.label_value(text):
            return None
        out[k] = text
    labels = Labels(out)
    if len(_LABELS_CACHE) >= _CACHE_LIMIT:
        _LABELS_CACHE.clear()
    _LABELS_CACHE[key] = labels
    return labels


def _fast_meta(meta: Any, namespaced: bool, default_namespace: str,
               name_ok: Callable[[str], bool]) -> tuple[str, str] | None:
    """(name, namespace) of valid, plain metadata whose annotations are valid, else None."""
    if (type(meta) is not dict and type(meta) is not Located) or not meta.keys() <= OBJECT_META_FIELDS:
        return None
    name = meta.get("name")
    if type(name) is not str or not name or "generateName" in meta or not name_ok(name):
        return None
    namespace = default_namespace
    if namespaced:
        ns = meta.get("namespace")
        if ns is not None:
            if type(ns) is not str or not ns or syntax.dns1123_label(ns):
                return None
            namespace = ns
    annotations = meta.get("annotations")
    if annotations is not None:
        if type(annotations) is not dict and type(annotations) is not Located:
            return None
        size = 0
        for k, v in annotations.items():
            if type(v) is not str or syntax.qualified_name(k.lower()):
                return None
            size += len(k) + len(v)
        if size > _ANNOTATIONS_LIMIT:
            return None
    return name, namespace


def _fast_ports(spec: Any) -> tuple[ContainerPort, ...] | None:
    """The ports a valid pod spec serves (see _pod_ports), or None when anything in its
    containers' ports would be reported (an error or a warning) or is not plain."""
    if spec is None:
        return ()
    if type(spec) is not dict and type(spec) is not Located:
        return None
    ports: list[ContainerPort] = []
    pod_names: set[str] = set()
    definitions: set[tuple[int, Protocol]] = set()
    if not spec.keys() <= fields.POD_SPEC:
        return None
    for key in ("containers", "initContainers"):
        containers = spec.get(key)
        if containers is None:
            continue
        if type(containers) is not list and type(containers) is not LocatedList:
            return None
        for container in containers:
            if container is None:
                continue
            if ((type(container) is not dict and type(container) is not Located)
                    or not container.keys() <= fields.CONTAINER):
                return None
            raw_ports = container.get("ports")
            if raw_ports is None:
                continue
            if type(raw_ports) is not list and type(raw_ports) is not LocatedList:
                return None
            serves = key == "containers" or container.get("restartPolicy") == "Always"
            names: set[str] = set()
            for item in raw_ports:
                entry = _port_fast(item)
                if entry is None:
                    return None
                number, protocol, name = entry[0], entry[1], entry[2]
                if name:
                    if name in names or name in pod_names:
                        return None  # a duplicate (an error) or a shared name (a warning)
                    names.add(name)
                    pod_names.add(name)
                definition = (number, protocol)
                if definition in definitions:
                    return None  # a duplicate port definition (a warning)
                definitions.add(definition)
                if serves:
                    ports.append(_container_port(number, protocol, name or None))
    return _sorted_ports(ports)


class _NotPlain(Exception):
    """Raised inside the quick path where returning None would be ambiguous."""


def _fast_pod_ip(status: Any) -> IPAddress | None:
    """status.podIP of a valid status (None when there is none); _NotPlain otherwise."""
    if status is None:
        return None
    if (type(status) is not dict and type(status) is not Located) or not status.keys() <= fields.POD_STATUS:
        raise _NotPlain
    text = status.get("podIP")
    if text is None or text == "":
        return None
    if type(text) is not str:
        raise _NotPlain
    ip = syntax.parse_ip(text)
    if ip is None:
        raise _NotPlain
    return ip


def _fast_endpoint(doc: Document, data: dict[str, Any], kind: str,
                   default_namespace: str) -> Endpoint | None:
    """A valid, plain Pod or workload, or None (the reporting path then reads it)."""
    if not data.keys() <= fields.OBJECT:
        return None
    meta: Any = data.get("metadata")
    named = _fast_meta(meta, True, default_namespace, syntax.is_dns1123_subdomain)
    if named is None:
        return None
    name, namespace = named
    if kind == "CronJob" and len(name) > 52:
        return None
    labels = _fast_labels(meta.get("labels"))  # validated for every kind, used for Pods
    if labels is None:
        return None
    ip: IPAddress | None = None
    if kind == "Pod":
        ports = _fast_ports(data.get("spec"))
        ip = _fast_pod_ip(data.get("status"))
    else:
        spec = data.get("spec")
        if ((type(spec) is not dict and type(spec) is not Located)
                or not spec.keys() <= fields.WORKLOAD_SPEC[kind]):
            return None
        if kind == "CronJob":
            job = spec.get("jobTemplate")
            if ((type(job) is not dict and type(job) is not Located)
                    or not job.keys() <= fields.POD_TEMPLATE):
                return None
            spec = job.get("spec")
            if ((type(spec) is not dict and type(spec) is not Located)
                    or not spec.keys() <= fields.JOB_SPEC):
                return None
        template = spec.get("template")
        if ((type(template) is not dict and type(template) is not Located)
                or not template.keys() <= fields.POD_TEMPLATE):
            return None
        template_meta = template.get("metadata")
        if template_meta is None:
            labels = _NO_LABELS
        elif ((type(template_meta) is not dict and type(template_meta) is not Located)
              or not template_meta.keys() <= fields.OBJECT_META):
            return None
        else:
            labels = _fast_labels(template_meta.get("labels"))
        ports = _fast_ports(template.get("spec"))
    if labels is None or ports is None:
        return None
    owners, phase, replicas, live = _live_fields(kind, data, meta)
    return Endpoint(namespace, name, labels, ports, ip, kind, False, _source_of(doc), owners,
                    phase, replicas, live)


def _fast(doc: Document, default_namespace: str) -> Endpoint | None:
    """The object of a document read the quick way, or None: the reporting path's turn."""
    data = doc.data
    if type(data) is not dict and (type(data) is not Located or data.nested_duplicates):
        return None
    kind = data.get("kind")
    if type(kind) is not str:
        return None
    api_version = data.get("apiVersion")
    try:
        if kind == "Pod":
            if api_version == "v1":
                return _fast_endpoint(doc, data, kind, default_namespace)
        elif kind in _WORKLOAD_API and api_version == _WORKLOAD_API[kind]:
            return _fast_endpoint(doc, data, kind, default_namespace)
    except _NotPlain:
        pass
    return None


_WORKLOAD_API = {kind: _API_VERSIONS[kind] for kind in WORKLOAD_KINDS}


# -- entry point -----------------------------------------------------------------------------------

_KIND: Path = (None, "kind")
_API_VERSION: Path = (None, "apiVersion")


def convert(documents: list[Document], default_namespace: str = "default",
            validation: FieldValidation = FieldValidation.STRICT) -> Converted:
    """Turn documents into model objects; invalid objects are dropped and reported.
    `validation` says what an unknown field is (see fields.py).

    Duplicates are not resolved here (chunks may be converted in parallel): see `deduplicate`.
    """
    result = Converted()
    endpoints = result.endpoints
    for doc in documents:
        try:
            quick = _fast(doc, default_namespace)
        except Exception:  # pragma: no cover - a bug in the quick path: the careful one decides
            quick = None
        if quick is not None:
            endpoints.append(quick)
            continue
        ctx = _Ctx(doc, result.diagnostics, validation)
        try:
            obj = _convert_one(ctx, default_namespace)
        except RecursionError:
            ctx.error(None, "object is nested too deeply to read")
            continue
        except Exception as exc:  # pragma: no cover - a bug; say so instead of a traceback
            ctx.error(None, f"podwall could not read this object (a bug, please report it): "
                            f"{type(exc).__name__}: {exc}")
            continue
        if obj is None:
            continue
        if isinstance(obj, Endpoint):
            result.endpoints.append(obj)
        elif isinstance(obj, ClusterNetworkPolicy):
            result.cluster_policies.append(obj)
        elif isinstance(obj, NetworkPolicy):
            result.policies.append(obj)
        elif isinstance(obj, Service):
            result.services.append(obj)
        else:
            result.namespaces.append(obj)
    return result


def _convert_one(ctx: _Ctx, default_namespace: str,
                 ) -> Namespace | Endpoint | NetworkPolicy | ClusterNetworkPolicy | Service | None:
    data = ctx.data
    if not isinstance(data, dict):
        ctx.error(None, f'Invalid value: "{type_name(data)}": expected object (a Kubernetes '
                        "object with apiVersion, kind and metadata)")
        return None
    kind = _kind_field(ctx, data.get("kind"), _KIND, "kind")
    api_version = _kind_field(ctx, data.get("apiVersion"), _API_VERSION, "apiVersion")
    obj: Namespace | Endpoint | NetworkPolicy | ClusterNetworkPolicy | Service | None = None
    if kind and api_version:
        expected = _API_VERSIONS.get(kind)
        no_match = kinds.no_match(kind, api_version)
        if kind in CLUSTER_POLICY_KINDS:
            obj = _cluster_policy(ctx, kind, api_version, data)
        elif no_match is not None:
            ctx.obj = _label_of(kind, data)
            ctx.error(_KIND, no_match)
        elif expected is None:
            ctx.obj = _label_of(kind, data)
            ctx.report(Severity.INFO, None, f"skipped: kind {kind} is not used by podwall")
        elif api_version != expected:
            ctx.obj = _label_of(kind, data)
            if kind == "NetworkPolicy":
                ctx.unsupported(_API_VERSION, api_version, '"networking.k8s.io/v1" (only '
                                "networking.k8s.io/v1 NetworkPolicy is supported)")
            else:
                ctx.warn(_API_VERSION, f"skipped: podwall reads {kind} from {expected}, not "
                                       f"{api_version}")
        elif kind == "NetworkPolicy":
            obj = _policy(ctx, default_namespace)
        elif kind == "Namespace":
            obj = _namespace(ctx)
        elif kind == "Service":
            from podwall.manifests.services import read_service

            obj = read_service(ctx, default_namespace)
        elif kind == "Pod" or kind in WORKLOAD_KINDS:
            obj = _endpoint(ctx, kind, default_namespace)
    if isinstance(data, Located) and data.nested_duplicates:
        ctx.duplicates(data, None)
    return obj


CLUSTER_POLICY_KINDS = {  # kind -> the API versions podwall reads it from
    "ClusterNetworkPolicy": (V1ALPHA2, V1BETA1),
    "AdminNetworkPolicy": (V1ALPHA1,),
    "BaselineAdminNetworkPolicy": (V1ALPHA1,),
}


def _cluster_policy(ctx: _Ctx, kind: str, api_version: str,
                    data: dict[str, Any]) -> ClusterNetworkPolicy | None:
    """The cluster-admin tiers (podwall.manifests.clusterpolicy reads them; imported here,
    late, because it builds on this module's readers)."""
    expected = CLUSTER_POLICY_KINDS[kind]
    if api_version not in expected:
        ctx.obj = _label_of(kind, data)
        ctx.unsupported(_API_VERSION, api_version, ", ".join(syntax.go_quote(v) for v in expected))
        return None
    from podwall.manifests.clusterpolicy import read_cluster_policy
    return read_cluster_policy(ctx, kind, api_version)


def _kind_field(ctx: _Ctx, value: Any, path: Path, field_name: str) -> str | None:
    if value is None or value == "":
        ctx.required(path, f"{field_name} is not set")
        return None
    if not isinstance(value, str):
        ctx.wrong_type(path, value, "string")
        return None
    return value


def _label_of(kind: str, data: dict[str, Any]) -> str:
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{kind} {name}" if isinstance(name, str) and name else kind


def deduplicate(parts: list[Converted]) -> Converted:
    """Merge converted chunks in input order; of objects with the same name the last one wins,
    as `kubectl apply -f DIR` leaves the cluster (each apply overwrites the one before), with a
    warning at it that names the one it replaces.

    Two endpoints with the same namespace/name collide even when their kinds differ: both would
    be `ns/name` to every query. (Labels and messages are made only for a duplicate: this runs
    once for every object of the input.)
    """
    merged = Converted()
    diagnostics = merged.diagnostics
    namespaces: dict[str, Namespace] = {}
    endpoints: dict[tuple[str, str], Endpoint] = {}
    policies: dict[tuple[str, str], NetworkPolicy] = {}
    cluster_policies: dict[tuple[str, str], ClusterNetworkPolicy] = {}
    services: dict[tuple[str, str], Service] = {}
    for part in parts:
        diagnostics.extend(part.diagnostics)
        for cnp in part.cluster_policies:
            earlier_cnp = cluster_policies.get((cnp.kind, cnp.name))
            if earlier_cnp is not None:
                diagnostics.append(_duplicate(f"{cnp.kind} {cnp.name}", earlier_cnp.source,
                                              f"{cnp.kind} {cnp.name}", cnp.source))
            cluster_policies[(cnp.kind, cnp.name)] = cnp
        for ns in part.namespaces:
            earlier_ns = namespaces.get(ns.name)
            if earlier_ns is not None:
                diagnostics.append(_duplicate(f"Namespace {earlier_ns.name}", earlier_ns.source,
                                              f"Namespace {ns.name}", ns.source))
            namespaces[ns.name] = ns
        for ep in part.endpoints:
            key = (ep.namespace, ep.name)
            earlier_ep = endpoints.get(key)
            if earlier_ep is not None:
                diagnostics.append(_duplicate(f"{earlier_ep.kind} {earlier_ep.key}",
                                              earlier_ep.source, f"{ep.kind} {ep.key}", ep.source))
            endpoints[key] = ep
        for pol in part.policies:
            key = (pol.namespace, pol.name)
            earlier_pol = policies.get(key)
            if earlier_pol is not None:
                diagnostics.append(_duplicate(f"NetworkPolicy {earlier_pol.key}", earlier_pol.source,
                                              f"NetworkPolicy {pol.key}", pol.source))
            policies[key] = pol
        for svc in part.services:
            skey = (svc.namespace, svc.name)
            earlier_svc = services.get(skey)
            if earlier_svc is not None:
                diagnostics.append(_duplicate(f"Service {earlier_svc.key}", earlier_svc.source,
                                              f"Service {svc.key}", svc.source))
            services[skey] = svc
    merged.namespaces = list(namespaces.values())
    merged.endpoints = list(endpoints.values())
    merged.policies = list(policies.values())
    merged.cluster_policies = list(cluster_policies.values())
    merged.services = list(services.values())
    return merged


def _duplicate(earlier: str, earlier_source: Source | None, label: str,
               source: Source | None) -> Diagnostic:
    where = f"{earlier} at {earlier_source}" if earlier_source is not None else earlier
    return Diagnostic(f"duplicate object: {where} has the same name; this one, the last, is "
                      "used (as kubectl apply -f leaves it)",
                      Severity.WARNING, file=source.file if source else None,
                      line=source.line if source else None, obj=label, path="metadata.name")
