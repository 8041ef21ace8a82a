"""Services after DNAT and a snapshot's controllers: one verdict per pod behind the name."""

from __future__ import annotations

import ipaddress

import pytest

from podwall.engine import Engine
from podwall.errors import QueryError
from podwall.model import (
    ContainerPort,
    Direction,
    Endpoint,
    Labels,
    LabelSelector,
    NetworkPolicy,
    PolicyPort,
    PortQuery,
    Protocol,
    Rule,
    Service,
    ServicePort,
    build_cluster,
)

UDP53 = PortQuery(Protocol.UDP, 53)


def _pod(name: str, port: int, ns: str = "shop") -> Endpoint:
    return Endpoint(ns, name, Labels({"app": "api"}),
                    (ContainerPort(port, Protocol.TCP, "http"),))


def _cluster(*, implied: bool = True, policies: tuple[NetworkPolicy, ...] = ()) -> Engine:
    svc = Service("shop", "api", Labels({"app": "api"}),
                  (ServicePort(80, Protocol.TCP, "http", "http"),), cluster_ip_missing=True)
    client = Endpoint("shop", "client", Labels({"app": "client"}))
    return Engine(build_cluster([], [_pod("api-a", 8080), _pod("api-b", 9090), client],
                                policies, services=[svc], implied=implied))


# only TCP/8080 is admitted at the api pods
ONLY_8080 = NetworkPolicy("shop", "api", LabelSelector.of({"app": "api"}),
                          frozenset({Direction.INGRESS}),
                          ingress=(Rule((), (PolicyPort(Protocol.TCP, 8080),)),))


def test_a_service_is_answered_for_each_pod_on_its_own_target_port() -> None:
    engine = _cluster(policies=(ONLY_8080,))
    result = engine.check_group("shop/client", "svc/shop/api", PortQuery(Protocol.TCP, 80))
    assert [(v.dst, str(v.port), v.allowed) for v in result.verdicts] == [
        ("shop/api-a", "TCP/8080", True), ("shop/api-b", "TCP/9090", False)]
    assert not result.allowed and result.some_allowed
    assert result.deciding is not None and result.deciding.dst == "shop/api-b"


def test_the_cluster_ip_names_the_service_and_a_pod_ip_the_pod() -> None:
    engine = _cluster()
    svc = engine.cluster.service("shop/api")
    assert svc is not None and svc.cluster_ip is not None and svc.cluster_ip_assigned
    by_ip = engine.resolve_group(str(svc.cluster_ip))
    assert by_ip.service == svc and [t.key for t in by_ip.targets] == ["shop/api-a", "shop/api-b"]
    pod = engine.cluster.endpoint("shop/api-a")
    assert pod is not None and not engine.resolve_group(str(pod.ip)).grouped
    outside = engine.resolve_group("192.0.2.1")
    assert not outside.grouped and outside.targets[0].key == "192.0.2.1"


@pytest.mark.parametrize("name", ["svc/shop/api", "service/shop/api", "svc/api"])
def test_service_spellings(name: str) -> None:
    assert _cluster().resolve_group(name, "shop").service is not None


def test_a_port_the_service_does_not_expose_is_an_error_naming_its_ports() -> None:
    with pytest.raises(QueryError, match=r"does not expose TCP/81 \(its ports: TCP/80\)"):
        _cluster().check_group("shop/client", "svc/shop/api", PortQuery(Protocol.TCP, 81))
    with pytest.raises(QueryError, match="no Service 'shop/nope'"):
        _cluster().resolve_group("svc/shop/nope")


def test_a_named_target_port_a_pod_lacks_is_unserved() -> None:
    engine = _cluster()
    cluster = engine.cluster
    bare = Endpoint("shop", "api-c", Labels({"app": "api"}))
    engine = Engine(build_cluster([], [*cluster.endpoints, bare], [], services=cluster.services))
    result = engine.check_group("shop/client", "svc/shop/api", PortQuery(Protocol.TCP, 80))
    assert [u.pod for u in result.unserved] == ["shop/api-c"]
    assert len(result.verdicts) == 2 and not result.allowed


def test_implied_kube_dns_answers_dns_and_no_implied_takes_it_away() -> None:
    engine = _cluster()
    dns = engine.check_group("shop/client", "svc/kube-system/kube-dns", UDP53)
    assert dns.allowed and dns.dst.service is not None and dns.dst.service.implied
    assert dns.dst.service.cluster_ip == ipaddress.ip_address("10.96.0.10")
    coredns = engine.cluster.endpoint("kube-system/coredns")
    assert coredns is not None and coredns.implied
    assert engine.resolve_group("10.96.0.10").service == dns.dst.service
    with pytest.raises(QueryError):
        _cluster(implied=False).resolve_group("svc/kube-system/kube-dns")
    assert _cluster(implied=False).cluster.endpoint("kube-system/coredns") is None


def test_an_input_with_its_own_kube_dns_implies_nothing() -> None:
    own = Endpoint("kube-system", "dns-x", Labels({"k8s-app": "kube-dns"}))
    cluster = build_cluster([], [own], [], implied=True)
    assert [ep.key for ep in cluster.endpoints] == ["kube-system/dns-x"]
    svc = cluster.service("kube-system/kube-dns")
    assert svc is not None and svc.implied  # the Service is still implied, selecting it
    assert [ep.key for ep in cluster.backends(svc)] == ["kube-system/dns-x"]


def test_the_service_cidr_places_kube_dns() -> None:
    cluster = build_cluster([], [], [], implied=True, service_cidr="10.0.0.0/16")
    svc = cluster.service("kube-system/kube-dns")
    assert svc is not None and svc.cluster_ip == ipaddress.ip_address("10.0.0.10")


def test_a_controller_of_a_snapshot_resolves_to_its_pods() -> None:
    deploy = Endpoint("shop", "web", Labels({"app": "web"}), kind="Deployment", live=True)
    rs = Endpoint("shop", "web-1", Labels({"app": "web"}), kind="ReplicaSet",
                  owners=(("Deployment", "web"),), live=True)
    pods = [Endpoint("shop", f"web-1-{i}", Labels({"app": "web"}), owners=(("ReplicaSet", "web-1"),),
                     phase="Running") for i in "ab"]
    engine = Engine(build_cluster([], [deploy, rs, *pods], []))
    group = engine.resolve_group("shop/web")
    assert group.controller == deploy and [t.key for t in group.targets] == ["shop/web-1-a",
                                                                             "shop/web-1-b"]
    result = engine.check_group("shop/web", "shop/web-1-a", PortQuery(Protocol.TCP, 80))
    assert len(result.verdicts) == 2 and result.allowed


def _running(name: str, owner: tuple[str, str], **labels: str) -> Endpoint:
    return Endpoint("shop", name, Labels({"app": "web", **labels}), owners=(owner,),
                    phase="Running")


def test_a_pods_only_snapshot_resolves_the_owners_it_names() -> None:
    # `kubectl get pods -A -o json` (netpol-analyzer's pod lists are such): the pods name a
    # ReplicaSet and a DaemonSet the input does not hold; their names resolve to the pods, and
    # the ReplicaSet's pod-template-hash suffix gives the Deployment's name.
    pods = [_running("web-7d77fb55cc-bs8rc", ("ReplicaSet", "web-7d77fb55cc"),
                     **{"pod-template-hash": "7d77fb55cc"}),
            _running("web-7d77fb55cc-q2x9z", ("ReplicaSet", "web-7d77fb55cc"),
                     **{"pod-template-hash": "7d77fb55cc"}),
            _running("agent-d54st", ("DaemonSet", "agent")),
            _running("agent-js4qc", ("DaemonSet", "agent"))]
    engine = Engine(build_cluster([], pods, [], implied=False))
    web = engine.resolve_group("shop/web")
    assert web.via == "Deployment shop/web"
    assert [t.key for t in web.targets] == ["shop/web-7d77fb55cc-bs8rc", "shop/web-7d77fb55cc-q2x9z"]
    assert engine.resolve_group("shop/web-7d77fb55cc").via == "ReplicaSet shop/web-7d77fb55cc"
    agent = engine.resolve_group("shop/agent")
    assert agent.via == "DaemonSet shop/agent"
    assert [t.key for t in agent.targets] == ["shop/agent-d54st", "shop/agent-js4qc"]
    result = engine.check_group("shop/agent", "shop/web", PortQuery(Protocol.TCP, 80))
    assert len(result.verdicts) == 4 and result.allowed
    with pytest.raises(QueryError):
        engine.resolve_group("shop/nothing")  # an owner no pod names is still unknown


def test_an_owner_the_input_holds_is_not_replaced_by_a_stand_in() -> None:
    pod = _running("web-1-a", ("ReplicaSet", "web-1"), **{"pod-template-hash": "1"})
    web = Endpoint("shop", "web", Labels({"app": "web"}))  # a Pod named like the Deployment
    engine = Engine(build_cluster([], [pod, web], [], implied=False))
    assert engine.resolve_group("shop/web").controller is None  # the pod, not the Deployment
    assert engine.resolve_group("shop/web-1").via == "ReplicaSet shop/web-1"
