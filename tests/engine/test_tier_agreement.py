"""The vectorised tiers (engine.tiermatrix) against the scalar evaluator (engine.tiers), on
random clusters with NetworkPolicies and ClusterNetworkPolicies of both tiers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Engine
from tests.strategies import named_queries, port_queries, tiered_clusters

EXTERNALS = ["192.0.2.7", "10.1.0.200", "8.8.8.8"]


@settings(max_examples=300, deadline=None)
@given(tiered_clusters(), st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_check_and_matrix_agree_with_tiers(cluster, ports):
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


@settings(max_examples=100, deadline=None)
@given(tiered_clusters(), named_queries)
def test_named_columns_agree_with_tiers(cluster, name):
    engine = Engine(cluster)
    matrix = engine.matrix([name])
    number_of = matrix.resolved[name]
    for j, dst in enumerate(matrix.endpoints):
        for i, src in enumerate(matrix.endpoints):
            if number_of[j] < 0:
                continue
            from podwall.model import PortQuery
            expected = engine.check(src, dst, PortQuery(name.protocol, int(number_of[j]))).allowed
            assert matrix.is_allowed(name, i, j) == expected, (src, dst, name)


@settings(max_examples=60, deadline=None)
@given(tiered_clusters(), port_queries, st.data())
def test_an_updated_computer_agrees_with_a_fresh_one_with_tiers(cluster, port, data):
    """`with_endpoint` (a pod relabelled) keeps the tiers right: a subject may change."""
    from dataclasses import replace

    from podwall.engine.matrix import MatrixComputer, same_verdicts
    from podwall.model import Labels, build_cluster
    from tests.strategies import label_maps

    computer = MatrixComputer(cluster)
    computer.verdicts(port)
    target = data.draw(st.sampled_from(cluster.endpoints))
    moved = replace(target, labels=Labels(data.draw(label_maps)))
    updated = computer.with_endpoint(moved)
    fresh = MatrixComputer(build_cluster(
        cluster.namespaces.values(), [moved if e.key == moved.key else e
                                      for e in cluster.endpoints],
        cluster.policies, pod_cidr=cluster.pod_cidr, cluster_policies=cluster.cluster_policies))
    assert same_verdicts(updated, fresh, [port])
