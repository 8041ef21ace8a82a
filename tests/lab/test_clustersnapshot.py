"""ClusterNetworkPolicies survive the lab's JSON snapshot exactly, and old snapshots (without
them) still read."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from podwall.lab import snapshot
from podwall.model import Cluster, build_cluster
from tests.strategies import tiered_clusters


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(cluster=tiered_clusters())
def test_tiered_snapshots_round_trip_as_data(cluster: Cluster) -> None:
    data = snapshot.dump(cluster)
    assert data["clusterPolicies"]
    assert snapshot.load(json.loads(json.dumps(data))) == cluster


def test_a_snapshot_without_cluster_policies_has_no_such_key() -> None:
    data = snapshot.dump(build_cluster([], [], []))
    assert "clusterPolicies" not in data
    assert snapshot.load(data).cluster_policies == ()
