"""What a label selector matches. The one place selector semantics live."""

from __future__ import annotations

from collections.abc import Mapping

from podwall.model import LabelSelector, Operator


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Kubernetes semantics: every matchLabels pair and every expression must hold.

    NotIn and DoesNotExist match objects that lack the key; the empty selector matches all.
    """
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    for req in selector.match_expressions:
        present = req.key in labels
        if req.operator is Operator.IN:
            if not present or labels[req.key] not in req.values:
                return False
        elif req.operator is Operator.NOT_IN:
            if present and labels[req.key] in req.values:
                return False
        elif req.operator is Operator.EXISTS:
            if not present:
                return False
        elif present:  # DoesNotExist
            return False
    return True
