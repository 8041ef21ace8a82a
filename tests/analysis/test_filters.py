"""Views: kubectl's -l syntax, and which pairs and endpoints a view shows (per class = per pair)."""

from __future__ import annotations

import ipaddress
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis.filters import MatrixView, View, parse_selector
from podwall.engine import Engine, ExternalHost, selector_matches
from podwall.errors import QueryError
from podwall.model import (
    Cluster,
    Endpoint,
    Labels,
    LabelSelector,
    Operator,
    PortQuery,
    Requirement,
    build_cluster,
)
from tests.strategies import clusters, views


@pytest.mark.parametrize(("text", "expected"), [
    ("app=web", LabelSelector.of({"app": "web"})),
    ("app==web", LabelSelector.of({"app": "web"})),
    ("app=web,tier=db", LabelSelector.of({"app": "web", "tier": "db"})),
    ("tier!=db", LabelSelector.of(None, (Requirement("tier", Operator.NOT_IN, ("db",)),))),
    ("env in (b, a)", LabelSelector.of(None, (Requirement("env", Operator.IN, ("a", "b")),))),
    ("env notin (a)", LabelSelector.of(None, (Requirement("env", Operator.NOT_IN, ("a",)),))),
    ("canary", LabelSelector.of(None, (Requirement("canary", Operator.EXISTS),))),
    ("!canary", LabelSelector.of(None, (Requirement("canary", Operator.DOES_NOT_EXIST),))),
    ("app=web, env in (a,b),!x,example.com/team=core", LabelSelector.of(
        {"app": "web", "example.com/team": "core"},
        (Requirement("env", Operator.IN, ("a", "b")), Requirement("x", Operator.DOES_NOT_EXIST)))),
    ("app=", LabelSelector.of({"app": ""})),
])
def test_parse_selector_kubectl_syntax(text: str, expected: LabelSelector) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty selector"),
    ("app=web,", "empty requirement"),
    ("env in (a", "unbalanced '('"),
    ("env in ()", "at least one value"),
    ("a=b)", "unbalanced ')'"),
    ("=web", "missing label key"),
    ("app=we b", "not a valid label value"),
    ("-app", "not a valid label key"),
    ("app=a,app=b", "cannot equal both"),
])
def test_parse_selector_errors_name_the_requirement(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_selector(text)


def test_not_equal_matches_objects_without_the_key_as_kubectl() -> None:
    selector = parse_selector("tier!=db")
    assert selector_matches(selector, Labels({"app": "x"}))
    assert not selector_matches(selector, Labels({"tier": "db"}))


def _cluster() -> Cluster:
    return build_cluster([], [
        Endpoint("a", "web-1", Labels({"app": "web"})),
        Endpoint("a", "web-2", Labels({"app": "web"})),
        Endpoint("a", "db", Labels({"app": "db"})),
        Endpoint("b", "web-1", Labels({"app": "web"})),
    ], [])


def test_each_option_and_combinations() -> None:
    cluster = _cluster()
    eps = {ep.key: ep for ep in cluster.endpoints}
    a_web1, a_web2, a_db, b_web1 = eps["a/web-1"], eps["a/web-2"], eps["a/db"], eps["b/web-1"]
    everything = View()
    assert not everything.active
    assert everything.shows_pair(b_web1, a_db)
    only_b = View(namespace="b")
    assert only_b.shows_pair(b_web1, a_db) and only_b.shows_pair(a_db, b_web1)
    assert not only_b.shows_pair(a_web1, a_db)
    focus = View(focus="a/web-1")
    assert focus.shows_pair(a_web1, b_web1) and focus.shows_pair(a_db, a_web1)
    assert not focus.shows_pair(a_web2, a_db)
    to_db = View(destinations=parse_selector("app=db"))
    assert to_db.shows_pair(a_web1, a_db) and not to_db.shows_pair(a_db, a_web1)
    combined = View(namespace="b", sources=parse_selector("app=web"),
                    destinations=parse_selector("app=db"))
    assert combined.shows_pair(b_web1, a_db)
    assert not combined.shows_pair(a_web1, a_db)  # neither end in b
    assert not combined.shows_pair(a_db, b_web1)  # wrong way round
    assert combined.flags() == "-n b --from 'app=web' --to 'app=db'"


def test_focus_must_name_an_endpoint() -> None:
    with pytest.raises(QueryError, match=r"no endpoint 'a/nope'.*a/db"):
        View(focus="a/nope").check(_cluster().endpoints)


def test_restrict_keeps_policies_and_the_endpoints_in_view() -> None:
    cluster = _cluster()
    web = parse_selector("app=web")
    kept = View(namespace="a", sources=web, destinations=web).restrict(cluster)
    assert [ep.key for ep in kept.endpoints] == ["a/web-1", "a/web-2"]
    # with only --from, every endpoint may still be a destination in view
    assert len(View(namespace="a", sources=web).restrict(cluster).endpoints) == 3
    assert kept.namespaces == cluster.namespaces
    assert View(focus="a/db").restrict(cluster) is cluster


@settings(max_examples=150, deadline=None)
@given(clusters(max_endpoints=7, max_policies=4), st.data())
def test_matrix_view_is_the_view_pair_by_pair(cluster: Cluster, data: st.DataObject) -> None:
    """Per class (refined for the focus) == per endpoint pair, for every view."""
    view = data.draw(views(cluster))
    port = PortQuery.parse("TCP/80")
    matrix = Engine(cluster).matrix([port], externals=["192.0.2.1"])


    targets = (*cluster.endpoints, ExternalHost(ipaddress.ip_address("192.0.2.1")))
    mv = MatrixView(matrix, targets, view)
    vc = mv.classes
    everyone = np.arange(vc.count, dtype=np.int64)
    shown = mv.shown_between(everyone, everyone)
    n = len(targets)
    for i in range(n):
        for j in range(n):
            assert bool(shown[vc.of[i], vc.of[j]]) == view.shows_pair(targets[i], targets[j])
    rows = {i for i in range(n) if any(view.shows_pair(targets[i], t) for t in targets)}
    cols = {j for j in range(n) if any(view.shows_pair(t, targets[j]) for t in targets)}
    assert set(mv.rows.tolist()) == rows and set(mv.cols.tolist()) == cols
    # pair counts per namespace group: exact, pairs of distinct endpoints
    group = np.zeros(vc.count, dtype=np.int64)
    (allowed,), counted = mv.pair_counts([port], group, 1)
    pairs = [(i, j) for i in range(n) for j in range(n)
             if i != j and view.shows_pair(targets[i], targets[j])]
    assert int(counted[0, 0]) == len(pairs)
    assert int(allowed[0, 0]) == sum(1 for i, j in pairs if matrix.is_allowed(port, i, j))
