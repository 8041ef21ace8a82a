"""Label maps and label selectors, validated as apimachinery's ValidateLabels and
ValidateLabelSelector judge them.

Every kind podwall reads carries labels, and policies of every tier select with selectors:
one reader of each, shared. Valid label maps are cached by content, so the pods of one
workload (and every object with the same labels) share one Labels object; the quick path's
reader (`fast_labels`) uses the same cache and must accept exactly what `read_labels` accepts
without a word (tests/manifests/test_fast_path.py).
"""

from __future__ import annotations

from typing import Any

from podwall.manifests import fields, syntax
from podwall.manifests.located import Located
from podwall.manifests.report import EMPTY, Ctx, Path, as_text
from podwall.model import Labels, LabelSelector, Operator, Requirement

_OPERATORS = {op.value: op for op in Operator}
_SELECTOR = fields.SELECTOR
_REQUIREMENT = fields.REQUIREMENT
NO_LABELS = Labels()
ANY_SELECTOR = LabelSelector()

_LABELS_CACHE: dict[tuple[tuple[str, Any], ...], Labels] = {}
_CACHE_LIMIT = 1 << 16


def read_labels(ctx: Ctx, value: Any, path: Path) -> Labels | None:
    """ValidateLabels: keys are qualified names, values label values (strings). None on error.

    Errors are reported at the map's path, as the API server does, with the key's line.
    Valid label maps are cached by content: pods of one workload share one Labels object.
    """
    if value is None:
        return NO_LABELS
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
        text = v if isinstance(v, str) else as_text(v)
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


def read_selector(ctx: Ctx, value: Any, path: Path) -> LabelSelector | None:
    """ValidateLabelSelector (value is not None). None when anything in it is invalid."""
    raw = ctx.mapping(value, path)
    if raw is None:
        return None
    if not raw:
        return ANY_SELECTOR
    ctx.unknown_fields(raw, _SELECTOR, path)
    before = ctx.errors
    labels = read_labels(ctx, raw.get("matchLabels"), (path, "matchLabels"))
    requirements: list[Requirement] = []
    exprs_path = (path, "matchExpressions")
    for i, item in enumerate(ctx.sequence(raw.get("matchExpressions"), exprs_path) or ()):
        req = _requirement(ctx, item, (exprs_path, i))
        if req is not None:
            requirements.append(req)
    if ctx.errors != before or labels is None:
        return None
    return LabelSelector(labels.items_sorted, tuple(requirements))


def _requirement(ctx: Ctx, value: Any, path: Path) -> Requirement | None:
    """ValidateLabelSelectorRequirement; values are sorted and deduplicated in the model."""
    raw = EMPTY if value is None else ctx.mapping(value, path)
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


def fast_labels(value: Any) -> Labels | None:
    """ValidateLabels for a valid label map (None: absent/null is no labels), else None."""
    if value is None:
        return NO_LABELS
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
        text = v if type(v) is str else as_text(v)
        if text is None or syntax.qualified_name(k) or syntax.label_value(text):
            return None
        out[k] = text
    labels = Labels(out)
    if len(_LABELS_CACHE) >= _CACHE_LIMIT:
        _LABELS_CACHE.clear()
    _LABELS_CACHE[key] = labels
    return labels
