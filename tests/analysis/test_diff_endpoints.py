"""`diff` lists the connections of the endpoints it adds or removes, not only their number."""

from __future__ import annotations

import ipaddress

from podwall.analysis import diff_endpoints
from podwall.analysis.diff import diff_clusters
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

DB = Endpoint("prod", "db", Labels({"app": "db"}), (ContainerPort(3306),),
              ipaddress.ip_address("10.244.0.5"))
DNS = Endpoint("kube-system", "coredns", Labels({"k8s-app": "kube-dns"}),
               ip=ipaddress.ip_address("10.96.0.53"))
AGENT = Endpoint("prod", "backup-agent", Labels({"app": "backup"}))


def db_policy(*peers: Peer) -> NetworkPolicy:
    return NetworkPolicy("prod", "db", LabelSelector.of({"app": "db"}),
                         frozenset({Direction.INGRESS}),
                         ingress=(Rule(peers, (PolicyPort(Protocol.TCP, 3306),)),))


def test_an_added_endpoint_lists_its_connections_with_rules() -> None:
    policy = db_policy(Peer(pod_selector=LabelSelector.of({"app": "backup"})))
    old = build_cluster([], [DB, DNS], [policy])
    new = build_cluster([], [DB, DNS, AGENT], [policy])
    (added,) = diff_clusters(old, new).endpoints
    lines = [f"{c.sign} {c.src} -> {c.dst} {c.ports[0]} ({c.reason})" for c in added.connections]
    assert ("+ prod/backup-agent -> prod/db TCP/3306 (allowed by prod/db ingress[0]; egress at "
            "the source not isolated)") in lines
    assert added.listed
    # the reverse: a removed endpoint's connections, as they were
    (removed,) = diff_clusters(new, old).endpoints
    assert any(c.sign == "-" and c.dst == "prod/db" and c.reason.startswith("was allowed by")
               for c in removed.connections)


def test_a_pod_matched_by_an_ipblock_is_never_shown_as_a_rule_for_pods() -> None:
    # a new database admits the internet; CoreDNS's IP happens to be in the block
    internet = Peer(ip_block=IPBlock(ipaddress.ip_network("0.0.0.0/0"),
                                     (ipaddress.ip_network("10.244.0.0/16"),)))
    old = build_cluster([], [DNS], [])
    new = build_cluster([], [DB, DNS], [db_policy(internet)])
    result = diff_clusters(old, new)
    (added,) = result.endpoints
    (dns,) = [c for c in added.connections if c.src == "kube-system/coredns"]
    assert "kube-system/coredns only by its IP 10.96.0.53, in ipBlock 0.0.0.0/0 except " \
           "10.244.0.0/16 of prod/db ingress[0]" in dns.reason
    assert any(o.addresses.startswith("0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16")
               and o.label == "prod/db" for o in result.outside)
    # a pod admitted by a pod selector carries no such note
    by_label = build_cluster([], [DB, DNS], [db_policy(Peer(namespace_selector=LabelSelector.of(
        {})))])
    (added,) = diff_clusters(old, by_label).endpoints
    (dns,) = [c for c in added.connections if c.src == "kube-system/coredns"]
    assert "only by its IP" not in dns.reason


def test_too_many_connections_are_counted_not_listed(monkeypatch) -> None:
    monkeypatch.setattr(diff_endpoints, "CONNECTION_LIMIT", 1)
    old = build_cluster([], [DB, DNS], [])
    new = build_cluster([], [DB, DNS, AGENT], [])
    (added,) = diff_clusters(old, new).endpoints
    assert not added.listed and added.connections == ()
    assert added.reaches == 2
