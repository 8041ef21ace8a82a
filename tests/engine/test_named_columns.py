"""A named port as a matrix column (`podwall.engine.named`): at each destination, the verdict of
the number that destination gives the name; not allowed where it has no such name. Held to the
scalar check with the per-destination number, on every pair of random clusters."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Engine
from podwall.engine.matrix import MatrixComputer, same_verdicts
from podwall.engine.targets import ExternalHost
from podwall.model import (
    ContainerPort,
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    NamedPortQuery,
    Namespace,
    NetworkPolicy,
    PolicyPort,
    PortQuery,
    Protocol,
    Rule,
    build_cluster,
)
from tests.strategies import named_clusters, named_queries, policies

EXTERNALS = ["192.0.2.7", "10.1.0.200"]
HTTP = NamedPortQuery(Protocol.TCP, "http")


def two_https():
    """b names TCP/80 `http`, c names TCP/8080 `http`, d has no `http`; only TCP/80 is admitted
    into b, c and d (a policy selects all three); a may send to TCP/8080 only, e anywhere."""
    eps = [
        Endpoint("x", "a", Labels({"app": "a"})),
        Endpoint("x", "e", Labels({"app": "e"})),
        Endpoint("x", "b", Labels({"app": "srv"}), (ContainerPort(80, Protocol.TCP, "http"),)),
        Endpoint("x", "c", Labels({"app": "srv"}), (ContainerPort(8080, Protocol.TCP, "http"),)),
        Endpoint("x", "d", Labels({"app": "srv"}), (ContainerPort(80, Protocol.TCP, "web"),)),
    ]
    pol = NetworkPolicy("x", "only-80", LabelSelector.of({"app": "srv"}),
                        frozenset({Direction.INGRESS}),
                        ingress=(Rule((), (PolicyPort(Protocol.TCP, 80),)),))
    out = NetworkPolicy("x", "a-to-8080", LabelSelector.of({"app": "a"}),
                        frozenset({Direction.EGRESS}),
                        egress=(Rule((), (PolicyPort(Protocol.TCP, 8080),)),))
    return build_cluster([Namespace.make("x", {})], eps, [pol, out])


def test_each_destination_takes_its_own_number() -> None:
    matrix = Engine(two_https()).matrix([HTTP])
    a, b, c, d, e = (matrix.endpoints.index(f"x/{n}") for n in "abcde")
    assert matrix.is_allowed(HTTP, e, b)  # b's http is TCP/80: admitted
    assert not matrix.is_allowed(HTTP, e, c)  # c's http is TCP/8080: not admitted
    assert not matrix.is_allowed(HTTP, e, d)  # d has no http: no such connection
    assert not matrix.is_allowed(HTTP, a, b)  # a may send to TCP/8080 only, b's http is 80
    assert not matrix.is_allowed(HTTP, a, c)  # ... and c admits TCP/80 only
    assert matrix.dense(HTTP)[e].tolist() == [False, True, False, False, True]
    assert matrix.dense(HTTP)[a].tolist() == [True, False, False, False, False]
    assert matrix.resolved_json() == {"TCP/http": [None, "TCP/80", "TCP/8080", None, None]}
    assert matrix.to_json()["allowed"]["TCP/http"][e] == [False, True, False, False, True]


def test_a_name_nothing_has_allows_nothing_but_itself() -> None:
    dns = NamedPortQuery(Protocol.UDP, "dns")
    matrix = Engine(two_https()).matrix([dns])
    assert (matrix.dense(dns) == np.eye(5, dtype=np.bool_)).all()


def expected(engine: Engine, src: str, dst: str, port: NamedPortQuery) -> bool:
    """The scalar check at the number the destination gives the name (False: it has none)."""
    target = engine.resolve(dst)
    if src == dst:
        return True
    number = port.resolve(target.ports) if isinstance(target, Endpoint) else None
    return number is not None and engine.check(src, dst, number).allowed


@settings(max_examples=300, deadline=None)
@given(named_clusters(), st.lists(named_queries, min_size=1, max_size=2, unique=True))
def test_named_column_agrees_with_check_per_destination(cluster, names) -> None:
    engine = Engine(cluster)
    matrix = engine.matrix(names, externals=EXTERNALS)
    for port in names:
        dense = matrix.dense(port)
        verdicts = matrix.verdicts[port]
        assert verdicts.count_allowed() == verdicts.count_allowed_dense()
        for i, src in enumerate(matrix.endpoints):
            for j, dst in enumerate(matrix.endpoints):
                want = expected(engine, src, dst, port)
                assert matrix.is_allowed(port, i, j) == want, (src, dst, port)
                assert bool(dense[i, j]) == want, (src, dst, port)
                target = engine.resolve(dst)
                number = port.resolve(target.ports) if isinstance(target, Endpoint) else None
                cs, cd = int(matrix.class_of[i]), int(matrix.class_of[j])
                if number is None or i == j:
                    continue
                # each side on its own, too: egress at src and ingress at dst at dst's number
                verdict = engine.check(src, dst, number)
                assert verdicts.egress.bit(cs, cd) == verdict.egress.allowed, (src, dst, port)
                assert verdicts.ingress.bit(cd, cs) == verdict.ingress.allowed, (src, dst, port)


@settings(max_examples=100, deadline=None)
@given(named_clusters(), named_queries, st.data())
def test_named_column_follows_incremental_updates(cluster, name, data) -> None:
    hosts = [ExternalHost(ipaddress.ip_address(a)) for a in EXTERNALS]
    computer = MatrixComputer(cluster, hosts)
    computer.verdicts(name)
    policy = data.draw(policies(len(cluster.policies)))
    changed = computer.with_policy(None, policy)
    fresh = MatrixComputer(build_cluster(cluster.namespaces.values(), cluster.endpoints,
                                         [*cluster.policies, policy], pod_cidr=cluster.pod_cidr),
                           hosts)
    assert same_verdicts(changed, fresh, [name])
    moved = replace(cluster.endpoints[0], ports=(ContainerPort(81, name.protocol, name.name),))
    after = changed.with_endpoint(moved)
    fresh = MatrixComputer(build_cluster(
        cluster.namespaces.values(), [moved, *cluster.endpoints[1:]],
        [*cluster.policies, policy], pod_cidr=cluster.pod_cidr), hosts)
    assert same_verdicts(after, fresh, [name, PortQuery(name.protocol, 81)])
