"""The exposure table (one representative per block and port range, vectorised) answers for
every outside address and port exactly as the scalar evaluator does."""

from __future__ import annotations

import ipaddress

from hypothesis import example, given, settings
from hypothesis import strategies as st

from podwall.analysis.exposure import ExposureTable
from podwall.engine import Engine, ExternalHost
from podwall.model import (
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    PortQuery,
    Protocol,
    build_cluster,
)
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    PeerKind,
    Subject,
    Tier,
)
from tests.strategies import clusters, tiered_clusters

ADDRESSES = st.one_of(
    st.sampled_from(["10.1.0.5", "10.1.0.200", "10.1.5.1", "10.2.0.1", "192.0.2.9", "8.8.8.8",
                     "10.0.0.1", "192.0.2.255", "0.0.0.0", "255.255.255.255", "::1"]),
    st.integers(0, (1 << 32) - 1).map(lambda v: str(ipaddress.IPv4Address(v))),
    st.integers(0, 255).map(lambda v: f"10.1.0.{v}"),
)
PORTS = st.builds(PortQuery, st.sampled_from([Protocol.TCP, Protocol.UDP, Protocol.SCTP]),
                  st.one_of(st.sampled_from([1, 53, 79, 80, 81, 82, 83, 443, 444, 65535]),
                            st.integers(1, 65535)))


@settings(max_examples=300, deadline=None)
@given(clusters(), st.lists(ADDRESSES, min_size=1, max_size=4),
       st.lists(PORTS, min_size=1, max_size=3))
def test_exposure_agrees_with_check_for_outside_addresses(cluster, addresses, ports):
    _agrees(cluster, addresses, ports)


# One Admin policy that denies egress to one network and no NetworkPolicy ipBlock: random
# clusters rarely draw it (their ipBlocks often cut the same networks already).
_DENY_ONE_NETWORK = build_cluster(
    [], [Endpoint("x", "a", Labels({}))], [], pod_cidr="10.3.0.0/16",
    cluster_policies=[ClusterNetworkPolicy(
        "deny-net", Tier.ADMIN, 30, Subject(LabelSelector.of({})),
        egress=(ClusterRule(Action.DENY, (ClusterPeer(
            PeerKind.NETWORKS, networks=(ipaddress.ip_network("192.0.2.0/24"),)),)),))])


@settings(max_examples=300, deadline=None)
@given(tiered_clusters(), st.lists(ADDRESSES, min_size=1, max_size=4),
       st.lists(PORTS, min_size=1, max_size=3))
@example(_DENY_ONE_NETWORK, ["192.0.2.9", "8.8.8.8"], [PortQuery(Protocol.TCP, 80)])
def test_exposure_agrees_with_check_with_cluster_policies(cluster, addresses, ports):
    # An AdminNetworkPolicy's `networks` and port ranges cut the outside and the ports as an
    # ipBlock does (found on netpol-analyzer's anp_and_banp_using_networks_and_nodes_test).
    _agrees(cluster, addresses, ports)


def _agrees(cluster, addresses, ports):
    table = ExposureTable(cluster)
    engine = Engine(cluster)
    for text in addresses:
        address = ipaddress.ip_address(text)
        block = table.outside.block_of(address)
        if cluster.endpoint_by_ip(address) is not None or address in cluster.pod_cidr:
            assert block is None
            continue
        assert block is not None, address
        host = ExternalHost(address)
        for port in ports:
            k = next(i for i, r in enumerate(table.ports)
                     if r.protocol is port.protocol and r.first <= port.port <= r.last)
            for i, ep in enumerate(cluster.endpoints):
                assert table.allowed(i, Direction.INGRESS, block.index, k) == \
                    engine.check(host, ep, port).allowed, (text, ep.key, port)
                assert table.allowed(i, Direction.EGRESS, block.index, k) == \
                    engine.check(ep, host, port).allowed, (ep.key, text, port)
