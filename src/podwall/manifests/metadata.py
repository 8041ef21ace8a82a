"""ObjectMeta as the API server validates it (ValidateObjectMeta, ValidateAnnotations),
and the Source every object keeps of where it was read.

Every kind's reader starts here: the name (with the kind's own name rule), the namespace, the
annotations; it also names the object in every later message (`ctx.obj`). `fast_metadata` is
the quick path's twin of `read_metadata` (tests/manifests/test_fast_path.py holds them to the
same results).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podwall.manifests import fields, syntax
from podwall.manifests.documents import Document
from podwall.manifests.located import Located
from podwall.manifests.report import EMPTY, Ctx, Path, as_text
from podwall.model import Source

_ANNOTATIONS_LIMIT = 256 * 1024
OBJECT_META_FIELDS = fields.OBJECT_META

_META: Path = (None, "metadata")
META_NAME: Path = (_META, "name")
_META_GENERATE: Path = (_META, "generateName")
_META_NAMESPACE: Path = (_META, "namespace")
META_LABELS: Path = (_META, "labels")
META_ANNOTATIONS: Path = (_META, "annotations")


def read_metadata(ctx: Ctx, kind: str, namespaced: bool, default_namespace: str,
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
            return None, default_namespace, EMPTY
        meta = EMPTY
    name = ctx.string(meta.get("name"), META_NAME)
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
            ctx.required(META_NAME, "podwall needs a name: generateName is only resolved by "
                                     "the API server")
        else:
            ctx.required(META_NAME, "name or generateName is required")
    elif name is not None:
        for msg in name_check(name):
            ctx.invalid(META_NAME, name, msg)
    if ns_text:
        for msg in syntax.dns1123_label(ns_text):
            ctx.invalid(_META_NAMESPACE, ns_text, msg)
    return (name or None), namespace, meta


def read_annotations(ctx: Ctx, meta: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """ValidateAnnotations (keys are qualified names, any case; 256 KiB in all), sorted."""
    raw = ctx.mapping(meta.get("annotations"), META_ANNOTATIONS)
    if not raw:
        return ()
    out: list[tuple[str, str]] = []
    size = 0
    for key, value in raw.items():
        at = (META_ANNOTATIONS, key)
        for msg in syntax.qualified_name(key.lower()):
            ctx.invalid(META_ANNOTATIONS, key, msg, at)
        text = value if isinstance(value, str) else as_text(value)
        if text is None:
            ctx.wrong_value_type(META_ANNOTATIONS, value, "annotation", key, at)
        else:
            out.append((key, text))
            size += len(key) + len(text)
    if size > _ANNOTATIONS_LIMIT:
        ctx.error(META_ANNOTATIONS, f"Too long: must have at most {_ANNOTATIONS_LIMIT} bytes")
    out.sort()
    return tuple(out)


def object_source(ctx: Ctx) -> Source:
    return document_source(ctx.doc)


_LAST_SOURCE: list[Source] = [Source("")]


def document_source(doc: Document) -> Source:
    """Where the document's object came from. The items of a JSON List all come from the same
    file, line and document: they share one Source (fewer objects to make, keep and ship)."""
    last = _LAST_SOURCE[0]
    if doc.line is None and last.line is None and last.file == doc.file and last.document == doc.index:
        return last
    source = _LAST_SOURCE[0] = Source(doc.file, doc.line, doc.index)
    return source


def fast_metadata(meta: Any, namespaced: bool, default_namespace: str,
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
