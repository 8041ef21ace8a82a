"""Hypothesis strategies for random but valid clusters, shared by the property tests.

Small label and port vocabularies make collisions (and so interesting matches) likely.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from podwall.model import (
    Cluster,
    ContainerPort,
    Direction,
    Endpoint,
    IPBlock,
    Labels,
    LabelSelector,
    NamedPortQuery,
    Namespace,
    NetworkPolicy,
    Operator,
    Peer,
    PolicyPort,
    PortQuery,
    Protocol,
    Requirement,
    Rule,
    build_cluster,
)

if TYPE_CHECKING:
    from podwall.analysis.filters import View

NAMESPACES = ("x", "y", "z")
KEYS = ("app", "tier", "env")
VALUES = ("a", "b", "c")
PORTS = (53, 80, 81, 443)
PORT_NAMES = ("http", "dns", "metrics")
PROTOCOLS = (Protocol.TCP, Protocol.UDP)

label_maps = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)

requirements = st.one_of(
    st.builds(lambda k, op, vs: Requirement(k, op, tuple(sorted(set(vs)))),
              st.sampled_from(KEYS), st.sampled_from([Operator.IN, Operator.NOT_IN]),
              st.lists(st.sampled_from(VALUES), min_size=1, max_size=2)),
    st.builds(lambda k, op: Requirement(k, op), st.sampled_from(KEYS),
              st.sampled_from([Operator.EXISTS, Operator.DOES_NOT_EXIST])),
)

selectors = st.builds(
    lambda ml, me: LabelSelector.of(ml, tuple(me)),
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2),
    st.lists(requirements, max_size=1),
)

ip_blocks = st.sampled_from([
    IPBlock(ipaddress.ip_network("10.1.0.0/16")),
    IPBlock(ipaddress.ip_network("10.1.0.0/16"), (ipaddress.ip_network("10.1.0.0/24"),)),
    IPBlock(ipaddress.ip_network("0.0.0.0/0"), (ipaddress.ip_network("10.0.0.0/8"),)),
    IPBlock(ipaddress.ip_network("192.0.2.0/24")),
])

peers = st.one_of(
    st.builds(Peer, pod_selector=selectors),
    st.builds(Peer, namespace_selector=selectors),
    st.builds(Peer, pod_selector=selectors, namespace_selector=selectors),
    st.builds(lambda b: Peer(ip_block=b), ip_blocks),
)

policy_ports = st.one_of(
    st.builds(PolicyPort, st.sampled_from(PROTOCOLS), st.sampled_from(PORTS)),
    st.builds(PolicyPort, st.sampled_from(PROTOCOLS), st.sampled_from(PORT_NAMES)),
    st.builds(PolicyPort, st.sampled_from(PROTOCOLS)),
    st.builds(lambda p, a: PolicyPort(p, a, a + 2), st.sampled_from(PROTOCOLS),
              st.sampled_from((79, 80, 441))),
)

rules = st.builds(lambda ps, pts: Rule(tuple(ps), tuple(pts)),
                  st.lists(peers, max_size=2), st.lists(policy_ports, max_size=2))

container_ports = st.builds(
    ContainerPort, st.sampled_from(PORTS), st.sampled_from(PROTOCOLS),
    st.one_of(st.none(), st.sampled_from(PORT_NAMES)))


@st.composite
def policies(draw: st.DrawFn, index: int) -> NetworkPolicy:
    types = draw(st.sets(st.sampled_from(list(Direction)), min_size=1))
    return NetworkPolicy(
        namespace=draw(st.sampled_from(NAMESPACES)),
        name=f"p{index}",
        pod_selector=draw(selectors),
        policy_types=frozenset(types),
        ingress=tuple(draw(st.lists(rules, max_size=2))),
        egress=tuple(draw(st.lists(rules, max_size=2))),
    )


@st.composite
def endpoints(draw: st.DrawFn, index: int) -> Endpoint:
    ports: dict[str | None, ContainerPort] = {}
    for cp in draw(st.lists(container_ports, max_size=3)):
        ports.setdefault(cp.name or f"#{cp.port}{cp.protocol}", cp)
    ip = draw(st.one_of(st.none(), st.sampled_from(
        [f"10.1.0.{index + 1}", f"10.1.5.{index + 1}", f"10.2.0.{index + 1}"])))
    return Endpoint(
        namespace=draw(st.sampled_from(NAMESPACES)),
        name=f"e{index}",
        labels=Labels(draw(label_maps)),
        ports=tuple(sorted(ports.values())),
        ip=ipaddress.ip_address(ip) if ip else None,
    )


@st.composite
def clusters(draw: st.DrawFn, max_endpoints: int = 6, max_policies: int = 4) -> Cluster:
    n_eps = draw(st.integers(1, max_endpoints))
    n_pols = draw(st.integers(0, max_policies))
    eps = [draw(endpoints(i)) for i in range(n_eps)]
    pols = [draw(policies(i)) for i in range(n_pols)]
    nss = [Namespace.make(n, draw(label_maps)) for n in NAMESPACES]
    return build_cluster(nss, eps, pols, pod_cidr="10.3.0.0/16")


@st.composite
def named_clusters(draw: st.DrawFn) -> Cluster:
    """Random clusters where most endpoints give `http` and `dns` a number, often not the same
    one (for `--port NAME`, which resolves at each destination)."""
    cluster = draw(clusters())
    eps = []
    for ep in cluster.endpoints:
        ports = {cp.name or f"#{cp.port}{cp.protocol}": cp for cp in ep.ports}
        for name in ("http", "dns"):
            if draw(st.integers(0, 2)):
                ports[name] = ContainerPort(draw(st.sampled_from(PORTS)),
                                            draw(st.sampled_from(PROTOCOLS)), name)
        eps.append(replace(ep, ports=tuple(sorted(ports.values()))))
    return build_cluster(cluster.namespaces.values(), eps, cluster.policies,
                         pod_cidr=cluster.pod_cidr)


named_queries = st.builds(NamedPortQuery, st.sampled_from(PROTOCOLS),
                          st.sampled_from(PORT_NAMES))

port_queries = st.builds(PortQuery, st.sampled_from(PROTOCOLS),
                         st.sampled_from((*PORTS, 82, 442)))


@st.composite
def views(draw: st.DrawFn, cluster: Cluster) -> View:
    """A view over `cluster`: any mix of -n, --focus (one of its endpoints), --from, --to."""
    from podwall.analysis.filters import View

    keys = [ep.key for ep in cluster.endpoints]
    return View(
        namespace=draw(st.one_of(st.none(), st.sampled_from(NAMESPACES))),
        focus=draw(st.one_of(st.none(), st.sampled_from(keys))) if keys else None,
        sources=draw(st.one_of(st.none(), selectors)),
        destinations=draw(st.one_of(st.none(), selectors)),
        full=draw(st.booleans()))


# -- cluster-admin tiers (ClusterNetworkPolicy) -----------------------------------------------------

CNP_NETWORKS = ("10.1.0.0/16", "10.1.0.0/24", "0.0.0.0/0", "192.0.2.0/24")


@st.composite
def cluster_peers(draw: st.DrawFn, egress: bool) -> object:
    from podwall.model.clusterpolicy import ClusterPeer, PeerKind

    kinds = [PeerKind.NAMESPACES, PeerKind.PODS]
    if egress:
        kinds += [PeerKind.NETWORKS, PeerKind.NODES, PeerKind.DOMAIN_NAMES]
    kind = draw(st.sampled_from(kinds))
    if kind is PeerKind.NAMESPACES:
        return ClusterPeer(kind, namespace_selector=draw(selectors))
    if kind is PeerKind.PODS:
        return ClusterPeer(kind, namespace_selector=draw(selectors), pod_selector=draw(selectors))
    if kind is PeerKind.NETWORKS:
        nets = draw(st.lists(st.sampled_from(CNP_NETWORKS), min_size=1, max_size=2, unique=True))
        return ClusterPeer(kind, networks=tuple(ipaddress.ip_network(n) for n in nets))
    if kind is PeerKind.NODES:
        return ClusterPeer(kind, node_selector=draw(selectors))
    return ClusterPeer(kind, domain_names=("example.com",))


@st.composite
def cluster_ports(draw: st.DrawFn) -> object:
    from podwall.model.clusterpolicy import ClusterPort

    if draw(st.integers(0, 3)) == 0:
        return ClusterPort(name=draw(st.sampled_from(PORT_NAMES)))
    start = draw(st.sampled_from((53, 79, 80, 443)))
    return ClusterPort(draw(st.sampled_from(PROTOCOLS)), start,
                       start + draw(st.sampled_from((0, 0, 2))))


@st.composite
def cluster_policies(draw: st.DrawFn, index: int) -> object:
    """A random ClusterNetworkPolicy (no named ports beside networks/nodes/domainNames, as the
    CRD's CEL rule demands)."""
    from podwall.model.clusterpolicy import (
        Action,
        ClusterNetworkPolicy,
        ClusterRule,
        PeerKind,
        Subject,
        Tier,
    )

    def rule(egress: bool) -> ClusterRule:
        peers = tuple(draw(st.lists(cluster_peers(egress), min_size=1, max_size=2)))
        ports = tuple(draw(st.lists(cluster_ports(), max_size=2)))
        if any(p.kind not in (PeerKind.NAMESPACES, PeerKind.PODS) for p in peers):
            ports = tuple(p for p in ports if p.name is None)
        return ClusterRule(draw(st.sampled_from(list(Action))), peers, ports)

    tier = draw(st.sampled_from(list(Tier)))
    subject = Subject(draw(selectors), draw(st.one_of(st.none(), selectors)))
    return ClusterNetworkPolicy(
        f"c{index}", tier, draw(st.integers(0, 3)), subject,
        tuple(rule(False) for _ in range(draw(st.integers(0, 3)))),
        tuple(rule(True) for _ in range(draw(st.integers(0, 3)))))


@st.composite
def tiered_clusters(draw: st.DrawFn) -> Cluster:
    """Random clusters with NetworkPolicies and ClusterNetworkPolicies of both tiers."""
    cluster = draw(named_clusters())
    cnps = [draw(cluster_policies(i)) for i in range(draw(st.integers(1, 4)))]
    return build_cluster(cluster.namespaces.values(), cluster.endpoints, cluster.policies,
                         pod_cidr=cluster.pod_cidr, cluster_policies=cnps)  # type: ignore[arg-type]
