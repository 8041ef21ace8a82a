from __future__ import annotations

import pytest

from podwall.engine import selector_matches
from podwall.model import Labels, LabelSelector, Operator, Requirement

WEB = Labels({"app": "web", "tier": "frontend"})


@pytest.mark.parametrize(("selector", "expected"), [
    (LabelSelector(), True),
    (LabelSelector.of({"app": "web"}), True),
    (LabelSelector.of({"app": "web", "tier": "backend"}), False),
    (LabelSelector.of({"missing": ""}), False),
    (LabelSelector.of(match_expressions=(Requirement("app", Operator.IN, ("api", "web")),)), True),
    (LabelSelector.of(match_expressions=(Requirement("app", Operator.IN, ("api",)),)), False),
    (LabelSelector.of(match_expressions=(Requirement("app", Operator.NOT_IN, ("web",)),)), False),
    # NotIn matches objects that do not have the key at all (Kubernetes semantics).
    (LabelSelector.of(match_expressions=(Requirement("env", Operator.NOT_IN, ("prod",)),)), True),
    (LabelSelector.of(match_expressions=(Requirement("tier", Operator.EXISTS),)), True),
    (LabelSelector.of(match_expressions=(Requirement("env", Operator.EXISTS),)), False),
    (LabelSelector.of(match_expressions=(Requirement("env", Operator.DOES_NOT_EXIST),)), True),
    (LabelSelector.of(match_expressions=(Requirement("app", Operator.DOES_NOT_EXIST),)), False),
    # matchLabels and matchExpressions are ANDed.
    (LabelSelector.of({"app": "web"},
                      (Requirement("tier", Operator.IN, ("backend",)),)), False),
])
def test_selector_semantics(selector: LabelSelector, expected: bool) -> None:
    assert selector_matches(selector, WEB) is expected


def test_selector_string_form_is_kubectl_like() -> None:
    sel = LabelSelector.of({"app": "web"}, (
        Requirement("env", Operator.NOT_IN, ("dev", "qa")),
        Requirement("tier", Operator.EXISTS),
        Requirement("legacy", Operator.DOES_NOT_EXIST)))
    assert str(sel) == "app=web,env notin (dev,qa),tier,!legacy"
    assert str(LabelSelector()) == "{}"
