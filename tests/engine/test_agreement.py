"""The scalar evaluator (check) and the vectorised matrix are two independent implementations:
they must agree on every pair of every random cluster."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Engine
from podwall.model import PortQuery, Rule, build_cluster
from tests.strategies import clusters, port_queries

EXTERNALS = ["192.0.2.7", "10.1.0.200", "8.8.8.8"]


@settings(max_examples=300, deadline=None)
@given(clusters(), st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_check_and_matrix_agree(cluster, ports):
    engine = Engine(cluster)
    matrix = engine.matrix(ports, externals=EXTERNALS)
    names = matrix.endpoints
    for port in ports:
        dense = matrix.dense(port)
        for i, src in enumerate(names):
            for j, dst in enumerate(names):
                expected = engine.check(src, dst, port).allowed
                assert matrix.is_allowed(port, i, j) == expected, (src, dst, port)
                assert bool(dense[i, j]) == expected, (src, dst, port)


@settings(max_examples=150, deadline=None)
@given(clusters(), port_queries, st.randoms())
def test_policy_order_never_matters(cluster, port, rnd: random.Random):
    shuffled = list(cluster.policies)
    rnd.shuffle(shuffled)
    other = build_cluster(cluster.namespaces.values(), cluster.endpoints, shuffled,
                          pod_cidr=cluster.pod_cidr)
    a = Engine(cluster).matrix([port]).dense(port)
    b = Engine(other).matrix([port]).dense(port)
    assert (a == b).all()


@settings(max_examples=150, deadline=None)
@given(clusters(), port_queries, st.data())
def test_adding_an_allow_rule_never_removes_a_connection(cluster, port, data):
    if not cluster.policies:
        return
    before = Engine(cluster).matrix([port]).dense(port)
    index = data.draw(st.integers(0, len(cluster.policies) - 1))
    victim = cluster.policies[index]
    from dataclasses import replace

    from tests.strategies import rules
    extra = data.draw(rules)
    widened = replace(victim, ingress=(*victim.ingress, extra), egress=(*victim.egress, extra))
    pols = list(cluster.policies)
    pols[index] = widened
    after_cluster = build_cluster(cluster.namespaces.values(), cluster.endpoints, pols,
                                  pod_cidr=cluster.pod_cidr)
    after = Engine(after_cluster).matrix([port]).dense(port)
    assert not (before & ~after).any(), "an allow rule took a connection away"


@settings(max_examples=100, deadline=None)
@given(clusters(), port_queries)
def test_allow_all_rules_open_everything(cluster, port):
    from dataclasses import replace
    pols = [replace(p, ingress=(*p.ingress, Rule()), egress=(*p.egress, Rule()))
            for p in cluster.policies]
    opened = build_cluster(cluster.namespaces.values(), cluster.endpoints, pols,
                           pod_cidr=cluster.pod_cidr)
    assert Engine(opened).matrix([port]).dense(port).all()


def test_self_is_always_allowed_even_under_deny_all():
    from podwall.model import Direction, Endpoint, Labels, LabelSelector, NetworkPolicy
    ep = Endpoint("x", "a", Labels({"pod": "a"}))
    deny = NetworkPolicy("x", "deny", LabelSelector(), frozenset(Direction))
    cluster = build_cluster([], [ep, Endpoint("x", "b", Labels())], [deny])
    engine = Engine(cluster)
    port = PortQuery.parse("TCP/80")
    assert engine.check("x/a", "x/a", port).allowed
    assert engine.check("x/a", "x/a", port).same_endpoint
    assert not engine.check("x/a", "x/b", port).allowed
    m = engine.matrix([port])
    assert m.dense(port).tolist() == [[True, False], [False, True]]


@settings(max_examples=150, deadline=None)
@given(clusters(max_endpoints=10), port_queries)
def test_factored_pair_count_equals_brute_force(cluster, port):
    from podwall.engine.matrix import MatrixComputer
    verdicts = MatrixComputer(cluster, []).verdicts(port)
    assert verdicts.count_allowed() == verdicts.count_allowed_dense()
    assert verdicts.count_allowed() == int(verdicts.dense().sum())
