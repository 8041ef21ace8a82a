"""`explain` on endpoint classes says exactly what the scalar check says endpoint by endpoint."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis.explain import Explainer, explanation_json, write_text
from podwall.analysis.filters import View, parse_selector
from podwall.engine import Engine, default_ports
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Protocol,
    Rule,
    build_cluster,
)
from tests.strategies import clusters, views


def _oracle(cluster: Cluster, view: View) -> list[dict[str, object]]:
    """The explanation of every endpoint in view, pair by pair with the scalar check."""
    engine = Engine(cluster)
    ports = default_ports(cluster)
    out = []
    for ep in cluster.endpoints:
        if not view.shows_endpoint(ep):
            continue
        others = [o for o in cluster.endpoints if o.key != ep.key]
        out.append({
            "endpoint": ep.key,
            "isolatedBy": {d.word: [p.key for p in engine.selecting(ep, d)] for d in Direction},
            "reachableFrom": {str(p): [o.key for o in others if view.shows_pair(o, ep)
                                       and engine.check(o, ep, p).allowed] for p in ports},
            "reaches": {str(p): [o.key for o in others if view.shows_pair(ep, o)
                                 and engine.check(ep, o, p).allowed] for p in ports},
        })
    return out


@settings(max_examples=120, deadline=None)
@given(clusters(max_endpoints=7, max_policies=4), st.data())
def test_classes_say_what_pairs_say(cluster: Cluster, data: st.DataObject) -> None:
    view = data.draw(views(cluster))
    got = explanation_json(Explainer(Engine(cluster), view))
    assert [{k: e[k] for k in ("endpoint", "isolatedBy", "reachableFrom", "reaches")}
            for e in got["endpoints"]] == _oracle(cluster, view)
    shown_policies = [p.key for p in cluster.policies
                      if (view.namespace is None or p.namespace == view.namespace)]
    if view.focus is None:
        assert [p["policy"] for p in got["policies"]] == shown_policies
    else:
        assert all(view.focus in p["selects"] for p in got["policies"])


@settings(max_examples=40, deadline=None)
@given(clusters(max_endpoints=6, max_policies=3))
def test_full_text_lists_the_same_names_as_json(cluster: Cluster) -> None:
    explainer = Explainer(Engine(cluster))
    data = explanation_json(explainer)
    out = io.BytesIO()
    write_text(explainer, out)
    text = out.getvalue().decode()
    total = len(cluster.endpoints)
    for e in data["endpoints"]:
        block = text.split(f"\n{e['endpoint']}  (", 1)[1]
        for port, names in e["reaches"].items():
            who = ("every other endpoint" if names and len(names) == total - 1
                   else ", ".join(names) or "nothing")
            assert f"  reaches on {port}: {who}\n" in block


def _big(pods: int, kinds: int) -> Cluster:
    """`pods` endpoints in two namespaces and `kinds` label sets (so about 2 x kinds classes)."""
    eps = [Endpoint("a" if i % 2 else "b", f"p{i:03d}", Labels({"app": f"k{i % kinds}"}),
                    ports=())
           for i in range(pods)]
    allow = NetworkPolicy("a", "allow-k0", LabelSelector.of({"app": "k1"}),
                          frozenset({Direction.INGRESS}),
                          ingress=(Rule((Peer(pod_selector=LabelSelector.of({"app": "k0"})),),
                                        (PolicyPort(Protocol.TCP, 80),)),))
    return build_cluster([], eps, [allow])


def _text(cluster: Cluster, view: View) -> str:
    out = io.BytesIO()
    write_text(Explainer(Engine(cluster), view), out)
    return out.getvalue().decode()


@pytest.mark.parametrize(("pods", "mode"), [(50, "full"), (51, "classes")])
def test_summary_fires_above_the_threshold_only(pods: int, mode: str) -> None:
    text = _text(_big(pods, 3), View())
    assert ("Drill down" in text) is (mode != "full")
    assert ("\na/p001  (Pod" in text) is (mode == "full")
    if mode == "classes":
        assert "in 6 classes" in text
        # a class line counts endpoints: k1 in a is reachable from the 8 k0 endpoints of a
        k1 = text.split("\na/p001 and ", 1)[1].split("\n\n", 1)[0]
        assert "reachable from: 8 on TCP/80\n" in k1
        assert "reaches: 42 on TCP/80" in k1  # everyone but the 9 isolated k1 of a


def test_many_classes_are_summarised_per_namespace() -> None:
    text = _text(_big(200, 41), View())
    assert "summarised per namespace" in text
    assert "NAMESPACE" in text and "\n  a " in text and "\n  b " in text
    assert "\na/p001" not in text


def test_full_and_filters_drill_down() -> None:
    cluster = _big(200, 41)
    full = _text(cluster, View(full=True))
    assert "\na/p001  (Pod" in full and "Drill down" not in full
    focus = _text(cluster, View(focus="a/p001"))
    assert "Endpoints (1)" in focus and "\na/p001  (Pod" in focus
    assert "reachable from on TCP/80: every other endpoint in view" not in focus
    k0 = parse_selector("app=k0")
    only_b = _text(cluster, View(namespace="b", sources=k0, destinations=k0))
    assert "Endpoints (3)" in only_b  # b's k0 endpoints: p000, p082, p164
    assert "\nb/p082  (Pod" in only_b
    # an endpoint is in view as a source or a destination: with --from only, all of b is
    assert "Endpoints (100)" in _text(cluster, View(namespace="b", sources=k0))
