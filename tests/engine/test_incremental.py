"""Incremental updates (`MatrixComputer.with_policy` / `.with_endpoint`) against recomputing from
scratch: the same verdict on both sides of every pair, for every port, after any change or chain of
changes; and the comparison is sharp enough to catch a state that was not updated."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Engine
from podwall.engine.matrix import MatrixComputer, same_verdicts
from podwall.engine.targets import ExternalHost
from podwall.errors import QueryError
from podwall.model import (
    Cluster,
    Direction,
    Endpoint,
    IPBlock,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PortQuery,
    Rule,
    build_cluster,
)
from tests.strategies import (
    clusters,
    container_ports,
    label_maps,
    policies,
    policy_ports,
    port_queries,
)

EXTERNALS = [ExternalHost(ipaddress.ip_address(a)) for a in ("192.0.2.7", "10.1.0.200", "8.8.8.8")]
PORTS = [PortQuery.parse(p) for p in ("TCP/80", "TCP/81", "UDP/53", "TCP/443", "TCP/82")]
ADDRESSES = ["10.1.0.77", "10.1.5.77", "10.2.0.77", "192.0.2.77"]


def rebuilt(cluster: Cluster, endpoints: list[Endpoint] | None = None,
            policy_list: list[NetworkPolicy] | None = None) -> Cluster:
    return build_cluster(cluster.namespaces.values(),
                         endpoints if endpoints is not None else cluster.endpoints,
                         policy_list if policy_list is not None else cluster.policies,
                         pod_cidr=cluster.pod_cidr)


def warmed(cluster: Cluster, ports: list[PortQuery]) -> MatrixComputer:
    """A computer with the rows of `ports` built, so that updates carry them forward."""
    computer = MatrixComputer(cluster, EXTERNALS)
    for port in ports:
        computer.verdicts(port)
    return computer


def assert_same(updated: MatrixComputer, expected_cluster: Cluster) -> None:
    assert updated.cluster.endpoints == expected_cluster.endpoints
    assert updated.cluster.policies == expected_cluster.policies
    fresh = MatrixComputer(expected_cluster, EXTERNALS)
    assert same_verdicts(updated, fresh, PORTS)
    # and endpoint by endpoint, through the public Matrix
    for port in PORTS:
        assert (updated.matrix([port]).dense(port) == fresh.matrix([port]).dense(port)).all()


@st.composite
def policy_changes(draw: st.DrawFn, cluster: Cluster
                   ) -> tuple[str | None, NetworkPolicy | None, list[NetworkPolicy]]:
    """(old key, new policy, the policy list after the change): add, modify or remove."""
    existing = list(cluster.policies)
    kinds = ["add", "modify", "remove"] if existing else ["add"]
    kind = draw(st.sampled_from(kinds))
    if kind == "add":
        taken = {p.name for p in existing}
        name = next(f"added{n}" for n in range(len(existing) + 1) if f"added{n}" not in taken)
        new = replace(draw(policies(0)), name=name)
        return None, new, [*existing, new]
    victim = draw(st.sampled_from(existing))
    if kind == "remove":
        return victim.key, None, [p for p in existing if p.key != victim.key]
    new = replace(draw(policies(0)), namespace=victim.namespace, name=victim.name)
    return victim.key, new, [new if p.key == victim.key else p for p in existing]


@st.composite
def relabelled(draw: st.DrawFn, cluster: Cluster) -> Endpoint:
    victim = draw(st.sampled_from(cluster.endpoints))
    labels = Labels(draw(label_maps))
    ports = victim.ports
    if draw(st.booleans()):
        found = {cp.name or f"#{cp.port}{cp.protocol}": cp
                 for cp in draw(st.lists(container_ports, max_size=2))}
        ports = tuple(sorted(found.values()))
    ip = victim.ip
    if draw(st.booleans()):
        ip = ipaddress.ip_address(draw(st.sampled_from(ADDRESSES)))
    return replace(victim, labels=labels, ports=ports, ip=ip)


def with_endpoint_replaced(cluster: Cluster, endpoint: Endpoint) -> Cluster:
    return rebuilt(cluster, [endpoint if e.key == endpoint.key else e for e in cluster.endpoints])


@settings(max_examples=250, deadline=None)
@given(clusters(), st.data(), st.lists(st.sampled_from(PORTS), unique=True))
def test_a_policy_change_equals_recomputing(cluster, data, warm):
    old_key, new, after = data.draw(policy_changes(cluster))
    updated = warmed(cluster, warm).with_policy(old_key, new)
    assert_same(updated, rebuilt(cluster, policy_list=after))


@settings(max_examples=250, deadline=None)
@given(clusters(), st.data(), st.lists(st.sampled_from(PORTS), unique=True))
def test_a_relabelled_endpoint_equals_recomputing(cluster, data, warm):
    endpoint = data.draw(relabelled(cluster))
    updated = warmed(cluster, warm).with_endpoint(endpoint)
    assert_same(updated, with_endpoint_replaced(cluster, endpoint))


@settings(max_examples=150, deadline=None)
@given(st.one_of(clusters(max_endpoints=8, max_policies=5), st.deferred(lambda: replicated())),
       st.data(), st.lists(st.sampled_from(PORTS), min_size=1, unique=True))
def test_a_chain_of_changes_equals_recomputing_at_every_step(cluster, data, warm):
    computer = warmed(cluster, warm)
    current = cluster
    for _ in range(data.draw(st.integers(1, 6))):
        if data.draw(st.booleans()):
            old_key, new, after = data.draw(policy_changes(current))
            computer = computer.with_policy(old_key, new)
            current = rebuilt(current, policy_list=after)
        else:
            endpoint = data.draw(relabelled(current))
            computer = computer.with_endpoint(endpoint)
            current = with_endpoint_replaced(current, endpoint)
        assert_same(computer, current)


@settings(max_examples=150, deadline=None)
@given(clusters(), st.data(), st.lists(st.sampled_from(PORTS), min_size=1, unique=True))
def test_an_update_leaves_its_origin_untouched(cluster, data, warm):
    """Versions share arrays: deriving one must not change what the original says."""
    base = warmed(cluster, warm)
    before = {p: (base.verdicts(p).egress.packed.copy(), base.verdicts(p).ingress.packed.copy())
              for p in PORTS}
    old_key, new, _ = data.draw(policy_changes(cluster))
    base.with_policy(old_key, new).with_endpoint(data.draw(relabelled(cluster)))
    for port in PORTS:
        assert (base.verdicts(port).egress.packed == before[port][0]).all()
        assert (base.verdicts(port).ingress.packed == before[port][1]).all()
    assert same_verdicts(base, MatrixComputer(cluster, EXTERNALS), PORTS)


def sides(computer: MatrixComputer, port: PortQuery) -> tuple[object, object]:
    """Endpoint-level (egress, ingress) matrices by brute force, for judging `same_verdicts`."""
    of = computer.classes.class_of
    v = computer.verdicts(port)
    return v.egress.rows_for(of)[:, of].tolist(), v.ingress.rows_for(of)[:, of].tolist()


@settings(max_examples=200, deadline=None)
@given(clusters(), st.data(), st.lists(st.sampled_from(PORTS), unique=True))
def test_a_stale_state_is_caught_exactly_when_the_change_matters(cluster, data, warm):
    """The comparison can fail: the state before the change matches the changed cluster exactly
    when no verdict of either side changed (judged by brute force), and the update always does."""
    old_key, new, after = data.draw(policy_changes(cluster))
    base = warmed(cluster, warm)
    expected = MatrixComputer(rebuilt(cluster, policy_list=after), EXTERNALS)
    matters = any(sides(base, p) != sides(expected, p) for p in PORTS)
    assert same_verdicts(base, expected, PORTS) is not matters
    assert same_verdicts(base.with_policy(old_key, new), expected, PORTS)


@settings(max_examples=100, deadline=None)
@given(clusters(), port_queries)
def test_updated_verdicts_agree_with_the_scalar_evaluator(cluster, port):
    """Independent of the matrix code: a deny-all ingress policy in the first endpoint's namespace
    and a relabel, then every pair against `Engine.check` of the final cluster."""
    first = cluster.endpoints[0]
    deny = NetworkPolicy(first.namespace, "zz-deny", LabelSelector(), frozenset({Direction.INGRESS}),
                         ingress=(Rule((Peer(pod_selector=LabelSelector.of({"app": "a"})),)),))
    moved = replace(first, labels=Labels({"app": "a"}))
    updated = MatrixComputer(cluster, []).with_policy(None, deny).with_endpoint(moved)
    final = rebuilt(rebuilt(cluster, policy_list=[*cluster.policies, deny]),
                    [moved if e.key == moved.key else e for e in cluster.endpoints])
    engine = Engine(final)
    matrix = updated.matrix([port])
    for i, src in enumerate(matrix.endpoints):
        for j, dst in enumerate(matrix.endpoints):
            assert matrix.is_allowed(port, i, j) == engine.check(src, dst, port).allowed


BLOCKS = [IPBlock(ipaddress.ip_network(c), tuple(ipaddress.ip_network(e) for e in ex))
          for c, ex in (("10.1.0.0/24", ()), ("10.1.0.0/16", ("10.1.5.0/24",)), ("10.0.0.0/8", ()),
                        ("10.2.0.0/16", ()), ("192.0.2.0/25", ()), ("0.0.0.0/0", ("10.1.0.0/16",)))]
PREFIXES = ("10.1.0", "10.1.5", "10.2.0", "10.3.1")


@st.composite
def replicated(draw: st.DrawFn) -> Cluster:
    """Clusters whose endpoints come in replicas (same labels and ports, addresses spread over
    several ranges), so that a new ipBlock splits their classes."""
    base = draw(clusters(max_endpoints=4, max_policies=3))
    endpoints = []
    for e in base.endpoints:
        for r in range(draw(st.integers(1, 4))):
            host = len(endpoints) + 1
            ip = ipaddress.ip_address(f"{draw(st.sampled_from(PREFIXES))}.{host}")
            endpoints.append(replace(e, name=f"{e.name}-{r}", ip=ip, ip_assigned=False))
    return rebuilt(base, endpoints)


@settings(max_examples=150, deadline=None)
@given(replicated(), st.data(), st.lists(st.sampled_from(PORTS), unique=True))
def test_a_new_ipblock_that_splits_classes_equals_recomputing(cluster, data, warm):
    old_key, new, after = data.draw(policy_changes(cluster))
    block = Peer(ip_block=data.draw(st.sampled_from(BLOCKS)))
    if new is None:  # a removal becomes a replacement under another name
        new = replace(data.draw(policies(7)), name="blocky")
        after = [*after, new]
    ports = tuple(data.draw(st.lists(policy_ports, max_size=1)))
    widened = replace(new, ingress=(*new.ingress, Rule((block,))),
                      egress=(*new.egress, Rule((block,), ports)))
    after = [widened if p.key == new.key else p for p in after]
    computer = warmed(cluster, warm)
    updated = computer.with_policy(old_key, widened)
    assert_same(updated, rebuilt(cluster, policy_list=after))
    # and the split classes keep working for later relabels
    endpoint = data.draw(relabelled(updated.cluster))
    assert_same(updated.with_endpoint(endpoint), with_endpoint_replaced(updated.cluster, endpoint))


def test_a_stale_state_differs_on_a_known_change():
    a = Endpoint("x", "a", Labels({"app": "a"}))
    b = Endpoint("x", "b", Labels({"app": "b"}))
    cluster = build_cluster([], [a, b], [])
    deny = NetworkPolicy("x", "deny", LabelSelector(), frozenset({Direction.INGRESS}))
    port = PortQuery.parse("TCP/80")
    base = warmed(cluster, [port])
    updated = base.with_policy(None, deny)
    expected = MatrixComputer(rebuilt(cluster, policy_list=[deny]), EXTERNALS)
    assert not same_verdicts(base, expected, [port])
    assert same_verdicts(updated, expected, [port])
    assert not updated.matrix([port]).is_allowed(port, 0, 1)
    assert base.matrix([port]).is_allowed(port, 0, 1)


def test_an_endpoint_without_an_address_keeps_its_own():
    a = Endpoint("x", "a", Labels({"app": "a"}))
    cluster = build_cluster([], [a, Endpoint("x", "b", Labels({"app": "b"}))], [])
    computer = MatrixComputer(cluster)
    moved = computer.with_endpoint(Endpoint("x", "a", Labels({"app": "b"})))
    assert moved.cluster.endpoints[0].ip == cluster.endpoints[0].ip
    assert moved.classes.class_of[0] == moved.classes.class_of[1]


def test_a_policy_in_a_namespace_without_pods_implies_it():
    cluster = build_cluster([], [Endpoint("x", "a", Labels())], [])
    deny = NetworkPolicy("w", "deny", LabelSelector(), frozenset({Direction.INGRESS}))
    updated = MatrixComputer(cluster).with_policy(None, deny)
    assert updated.cluster.namespaces["w"].implied
    assert updated.cluster.policies == (deny,)


def test_unknown_keys_are_query_errors():
    cluster = build_cluster([], [Endpoint("x", "a", Labels())], [])
    computer = MatrixComputer(cluster)
    with pytest.raises(QueryError):
        computer.with_policy("x/missing", None)
    with pytest.raises(QueryError):
        computer.with_endpoint(Endpoint("x", "missing", Labels()))
    deny = NetworkPolicy("x", "deny", LabelSelector(), frozenset({Direction.INGRESS}))
    with pytest.raises(QueryError):
        computer.with_policy(None, deny).with_policy(None, deny)
