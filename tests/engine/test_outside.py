"""The outside world's partition: address sets, blocks, port ranges."""

from __future__ import annotations

import ipaddress

from podwall.engine.outside import AddressSet, partition, port_partition, ports_words
from podwall.model import (
    ContainerPort,
    Direction,
    Endpoint,
    IPBlock,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Protocol,
    Rule,
    build_cluster,
)


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def egress_to(*blocks: IPBlock, ports: tuple[PolicyPort, ...] = ()) -> NetworkPolicy:
    return NetworkPolicy("x", "p", LabelSelector.of({}), frozenset({Direction.EGRESS}),
                         egress=(Rule(tuple(Peer(ip_block=b) for b in blocks), ports),))


def test_address_set_words_prefer_except_when_shorter() -> None:
    s = AddressSet.network(net("0.0.0.0/0")).minus(AddressSet.network(net("10.0.0.0/8")))
    assert str(s) == "0.0.0.0/0 except 10.0.0.0/8"
    assert str(AddressSet.network(net("192.0.2.0/24"))) == "192.0.2.0/24"
    two = AddressSet.network(net("192.0.2.0/25")).union(AddressSet.network(net("192.0.2.128/25")))
    assert str(two) == "192.0.2.0/24"  # adjacent intervals merge
    assert str(AddressSet()) == "no address"


def test_address_set_contains_and_cidrs() -> None:
    s = AddressSet.network(net("10.0.0.0/8")).minus(AddressSet.network(net("10.1.0.0/16")))
    assert s.contains(ipaddress.ip_address("10.2.0.1"))
    assert not s.contains(ipaddress.ip_address("10.1.0.1"))
    assert not s.contains(ipaddress.ip_address("::1"))
    assert not s.contains(ipaddress.ip_address("11.0.0.0"))
    assert [str(n) for n in s.cidrs()][:2] == ["10.0.0.0/16", "10.2.0.0/15"]


def test_no_ipblock_is_one_block_without_the_pod_cidr() -> None:
    cluster = build_cluster([], [Endpoint("x", "a", Labels({}))], [], pod_cidr="10.244.0.0/16")
    outside = partition(cluster)
    assert [str(b.addresses) for b in outside.blocks] == [
        "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0"]
    assert outside.block_of(ipaddress.ip_address("10.244.3.3")) is None
    assert outside.block_of(ipaddress.ip_address("8.8.8.8")) is outside.blocks[0]


def test_ipblocks_cut_blocks_and_pods_are_never_representatives() -> None:
    block = IPBlock(net("192.0.2.0/24"), (net("192.0.2.0/28"),))
    pod = Endpoint("x", "a", Labels({}), ip=ipaddress.ip_address("192.0.2.17"))
    cluster = build_cluster([], [pod], [egress_to(block)], pod_cidr="10.244.0.0/16")
    outside = partition(cluster)
    words = [str(b.addresses) for b in outside.blocks]
    assert "192.0.2.0/24 except 192.0.2.0/28" in words
    inner = next(b for b in outside.blocks if b.within == (0,))
    assert inner.representative != pod.ip
    assert block.contains(inner.representative)
    assert outside.stray_pod_ips == (pod.ip,)
    assert outside.block_of(pod.ip) is None  # a pod outside the pod CIDR is still a pod


def test_a_block_of_pod_ips_only_is_not_outside() -> None:
    pod = Endpoint("x", "a", Labels({}), ip=ipaddress.ip_address("192.0.2.17"))
    cluster = build_cluster([], [pod], [egress_to(IPBlock(net("192.0.2.17/32")))])
    assert all(b.within == () for b in partition(cluster).blocks)


def test_port_partition_cuts_at_policy_ranges_and_container_ports() -> None:
    pod = Endpoint("x", "a", Labels({}), ports=(ContainerPort(8080, Protocol.TCP, "http"),))
    policy = egress_to(IPBlock(net("0.0.0.0/0")), ports=(PolicyPort(Protocol.TCP, 80, 90),))
    ranges = port_partition(build_cluster([], [pod], [policy]))
    tcp = [str(r) for r in ranges if r.protocol is Protocol.TCP]
    assert tcp == ["TCP/1-79", "TCP/80-90", "TCP/91-8079", "TCP/8080", "TCP/8081-65535"]
    assert [str(r) for r in ranges if r.protocol is not Protocol.TCP] == ["UDP/*", "SCTP/*"]
    assert ports_words(ranges) == "every port"
    assert ports_words(ranges[1:2] + ranges[3:4]) == "TCP/80-90, TCP/8080"


# -- the Service CIDR is not outside ------------------------------------------------------------

def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_the_service_cidr_is_inside_like_the_pod_cidr() -> None:
    """A connection to a ClusterIP is DNAT-ed to a pod before policy: never the outside."""
    cluster = build_cluster([], [Endpoint("x", "a", Labels({}))], [], pod_cidr="10.244.0.0/16",
                            service_cidr="10.96.0.0/12")
    outside = partition(cluster)
    assert [str(b.addresses) for b in outside.blocks] == [
        "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0"]
    for inside in ("10.96.0.10", "10.96.0.0", "10.111.255.255"):
        assert outside.block_of(ip(inside)) is None
        assert outside.inside_because(ip(inside)) == ("service-cidr", "10.96.0.0/12")
    assert outside.inside_because(ip("10.244.0.9")) == ("pod-cidr", "10.244.0.0/16")
    assert outside.block_of(ip("10.112.0.0")) is outside.blocks[0]  # just past the CIDR
    assert outside.inside_because(ip("10.112.0.0")) is None


def test_an_ipblock_over_the_service_cidr_never_makes_clusterips_outside() -> None:
    """egress to 10.0.0.0/8 covers 10.96.0.0/12, but no packet judged by policy carries a
    ClusterIP (kube-proxy rewrote it to the pod's IP first): the block leaves it out."""
    cluster = build_cluster([], [Endpoint("x", "a", Labels({}))],
                            [egress_to(IPBlock(net("10.0.0.0/8")))], service_cidr="10.96.0.0/12")
    outside = partition(cluster)
    inner = next(b for b in outside.blocks if b.within == (0,))
    assert str(inner.addresses) == "10.0.0.0/8 except 10.96.0.0/12, 10.244.0.0/16"
    assert not inner.addresses.contains(ip("10.96.0.10"))
    assert inner.representative not in net("10.96.0.0/12")


def test_a_clusterip_outside_the_service_cidr_is_still_a_service() -> None:
    """An input whose Services carry ClusterIPs of another range (e.g. EKS's 172.20.0.0/16)
    than --service-cidr: those addresses are Services, never representatives of the outside."""
    from podwall.model.services import Service, ServicePort

    svc = Service("x", "db", Labels({"app": "db"}), (ServicePort(5432, Protocol.TCP, 5432),),
                  ip("172.20.0.10"))
    cluster = build_cluster([], [Endpoint("x", "a", Labels({}))],
                            [egress_to(IPBlock(net("172.20.0.10/32")))], services=[svc])
    outside = partition(cluster)
    assert outside.stray_service_ips == (ip("172.20.0.10"),)
    assert outside.block_of(ip("172.20.0.10")) is None
    assert outside.inside_because(ip("172.20.0.10")) == ("service-ip", "172.20.0.10")
    assert all(b.within == () for b in outside.blocks)  # the /32 block is no block at all


def test_cluster_policy_networks_and_ports_cut_the_outside() -> None:
    """A ClusterNetworkPolicy that denies one address treats it apart from the rest."""
    from podwall.model.clusterpolicy import (
        Action,
        ClusterNetworkPolicy,
        ClusterPeer,
        ClusterPort,
        ClusterRule,
        PeerKind,
        Subject,
        Tier,
    )

    deny = ClusterRule(Action.DENY, (ClusterPeer(PeerKind.NETWORKS,
                                                 networks=(net("169.254.169.254/32"),)),),
                       (ClusterPort(Protocol.TCP, 80, 90),))
    cnp = ClusterNetworkPolicy("no-metadata", Tier.ADMIN, 10,
                               Subject(LabelSelector.of({})), egress=(deny,))
    cluster = build_cluster([], [Endpoint("x", "a", Labels({}))], [], cluster_policies=[cnp])
    outside = partition(cluster)
    assert [str(b.addresses) for b in outside.blocks] == [
        "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16, 169.254.169.254/32; ::/0",
        "169.254.169.254/32"]
    tcp = [str(r) for r in port_partition(cluster) if r.protocol is Protocol.TCP]
    assert tcp == ["TCP/1-79", "TCP/80-90", "TCP/91-65535"]


def test_cluster_policy_networks_and_port_ranges_cut_the_outside() -> None:
    # netpol-analyzer's anp_and_banp_using_networks_and_nodes_test: an AdminNetworkPolicy that
    # denies egress to one host judges that host apart from the rest of the outside.
    from podwall.model.clusterpolicy import (
        Action,
        ClusterNetworkPolicy,
        ClusterPeer,
        ClusterPort,
        ClusterRule,
        PeerKind,
        Subject,
        Tier,
    )

    deny = ClusterRule(Action.DENY, (ClusterPeer(PeerKind.NETWORKS,
                                                 networks=(net("104.154.164.160/32"),)),),
                       (ClusterPort(Protocol.UDP, 5000, 6000),))
    anp = ClusterNetworkPolicy("egress-peer-1", Tier.ADMIN, 30, Subject(LabelSelector.of({})),
                               egress=(deny,))
    cluster = build_cluster([], [Endpoint("x", "a", Labels({}))], [], pod_cidr="10.244.0.0/16",
                            cluster_policies=[anp])
    words = [str(b.addresses) for b in partition(cluster).blocks]
    assert words == ["0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16, 104.154.164.160/32; ::/0",
                     "104.154.164.160/32"]
    udp = [str(r) for r in port_partition(cluster) if r.protocol is Protocol.UDP]
    assert udp == ["UDP/1-4999", "UDP/5000-6000", "UDP/6001-65535"]
