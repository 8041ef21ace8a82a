"""Namespace objects -> model.Namespace: to podwall a Namespace is its name and its labels
(what namespaceSelectors match); its spec and status are only checked for unknown fields.
"""

from __future__ import annotations

from podwall.manifests import fields, syntax
from podwall.manifests.labels import _labels
from podwall.manifests.metadata import _META_LABELS, _annotations, _metadata, _source
from podwall.manifests.report import _Ctx
from podwall.model import Namespace


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
