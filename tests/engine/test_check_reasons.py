"""`check` must say why: isolation, the admitting rule, or the isolating policies."""

from __future__ import annotations

import ipaddress

import pytest

from podwall.engine import Engine
from podwall.errors import QueryError
from podwall.model import (
    ContainerPort,
    Direction,
    Endpoint,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    PortQuery,
    Protocol,
    Rule,
    build_cluster,
)

TCP5432 = PortQuery(Protocol.TCP, 5432)


def ep(ns: str, name: str, ip: str | None = None, **labels: str) -> Endpoint:
    return Endpoint(ns, name, Labels(labels or {"app": name}),
                    (ContainerPort(5432, Protocol.TCP, "postgres"),),
                    ipaddress.ip_address(ip) if ip else None)


def policy(name: str, selector: LabelSelector, *, ingress: tuple[Rule, ...] = (),
           egress: tuple[Rule, ...] = (), types: tuple[Direction, ...] = (Direction.INGRESS,),
           ns: str = "prod") -> NetworkPolicy:
    return NetworkPolicy(ns, name, selector, frozenset(types), ingress, egress)


@pytest.fixture
def engine() -> Engine:
    eps = [ep("prod", "web"), ep("prod", "api"), ep("prod", "db", "10.244.9.9"),
           ep("staging", "web")]
    pols = [
        policy("default-deny", LabelSelector()),
        policy("db-allow-api", LabelSelector.of({"app": "db"}), ingress=(
            Rule((Peer(pod_selector=LabelSelector.of({"app": "api"})),),
                 (PolicyPort(Protocol.TCP, "postgres"),)),)),
        policy("db-backup", LabelSelector.of({"app": "db"}), types=(Direction.EGRESS,), egress=(
            Rule((Peer(ip_block=IPBlock(ipaddress.ip_network("192.0.2.0/24"))),),
                 (PolicyPort(Protocol.TCP, 22),)),)),
    ]
    nss = [Namespace.make("prod", {"env": "prod"}), Namespace.make("staging")]
    return Engine(build_cluster(nss, eps, pols))


def test_denied_names_the_isolating_policies(engine: Engine) -> None:
    v = engine.check("prod/web", "prod/db", TCP5432)
    assert not v.allowed
    assert v.egress.allowed and not v.egress.isolated
    assert v.ingress.isolated_by == ("prod/db-allow-api", "prod/default-deny")
    assert v.ingress.admitted_by == ()


def test_allowed_names_the_admitting_rule(engine: Engine) -> None:
    v = engine.check("prod/api", "prod/db", TCP5432)
    assert v.allowed
    assert [str(r) for r in v.ingress.admitted_by] == ["prod/db-allow-api ingress[0]"]


def test_named_port_resolves_only_to_the_named_number(engine: Engine) -> None:
    assert not engine.check("prod/api", "prod/db", PortQuery(Protocol.TCP, 5433)).allowed
    assert not engine.check("prod/api", "prod/db", PortQuery(Protocol.UDP, 5432)).allowed


def test_external_hosts_match_only_ip_blocks(engine: Engine) -> None:
    v = engine.check("prod/db", "192.0.2.10", PortQuery(Protocol.TCP, 22))
    assert v.allowed
    assert not v.ingress.applies
    assert [str(r) for r in v.egress.admitted_by] == ["prod/db-backup egress[0]"]
    assert not engine.check("prod/db", "198.51.100.1", PortQuery(Protocol.TCP, 22)).allowed
    # Traffic from outside: only ingress at the pod decides.
    assert not engine.check("192.0.2.10", "prod/db", TCP5432).allowed


def test_an_ip_of_a_pod_is_that_pod(engine: Engine) -> None:
    v = engine.check("prod/api", "10.244.9.9", TCP5432)
    assert v.dst == "prod/db" and v.allowed


def test_policies_of_other_namespaces_do_not_isolate(engine: Engine) -> None:
    v = engine.check("prod/web", "staging/web", TCP5432)
    assert v.allowed and not v.ingress.isolated


def test_unknown_endpoint_is_a_query_error_with_hints(engine: Engine) -> None:
    with pytest.raises(QueryError, match="prod/api"):
        engine.check("prod/nope", "prod/db", TCP5432)
    with pytest.raises(QueryError, match="neither"):
        engine.check("garbage", "prod/db", TCP5432)
