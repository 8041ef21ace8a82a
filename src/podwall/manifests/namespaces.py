"""Namespace objects -> model.Namespace: to podwall a Namespace is its name and its labels
(what namespaceSelectors match); its spec and status are only checked for unknown fields.
"""

from __future__ import annotations

from podwall.manifests import fields, syntax
from podwall.manifests.labels import read_labels
from podwall.manifests.metadata import META_LABELS, object_source, read_annotations, read_metadata
from podwall.manifests.report import Ctx
from podwall.model import Namespace


def read_namespace(ctx: Ctx) -> Namespace | None:
    # The API server clears metadata.namespace of cluster-scoped objects, so it is not checked.
    name, _, meta = read_metadata(ctx, "Namespace", False, "", syntax.dns1123_label)
    labels = read_labels(ctx, meta.get("labels"), META_LABELS)
    read_annotations(ctx, meta)
    data = ctx.data
    ctx.unknown_fields(data, fields.OBJECT, None, ("spec", fields.NAMESPACE_SPEC))
    for key, allowed in (("spec", fields.NAMESPACE_SPEC), ("status", fields.NAMESPACE_STATUS)):
        part = ctx.mapping(data.get(key), (None, key))
        if part:
            ctx.unknown_fields(part, allowed, (None, key))
    if ctx.errors or name is None or labels is None:
        return None
    return Namespace.make(name, dict(labels), source=object_source(ctx))
