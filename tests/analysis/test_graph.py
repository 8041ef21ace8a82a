"""`graph`: the picture says exactly what the matrix says, in fewer arrows.

The central property: expanding the picture back into endpoint pairs (arrows, namespace arrows,
hubs, `all reach each other`, and the pairs left out between egress-open and ingress-open boxes)
gives exactly the allowed pairs of the engine's matrix, on every port, for random clusters.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis import wording
from podwall.analysis.graph import OUTSIDE, ConnectivityGraph, build_graph, class_stem
from podwall.analysis.render.dot import graph_dot
from podwall.analysis.render.mermaid import graph_mermaid
from podwall.analysis.render.svg import dot_to_svg, inline_svg
from podwall.engine import Engine
from podwall.errors import PodwallError, QueryError
from podwall.model import (
    Cluster,
    ContainerPort,
    Direction,
    Endpoint,
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
from tests.strategies import clusters, port_queries

TCP = Protocol.TCP
NAME = "kubernetes.io/metadata.name"


def _ep(ns: str, name: str, labels: dict[str, str], *ports: ContainerPort,
        kind: str = "Deployment") -> Endpoint:
    return Endpoint(ns, name, Labels(labels), tuple(sorted(ports)), kind=kind)


def _pol(ns: str, name: str, selector: dict[str, str], types: tuple[Direction, ...],
         ingress: tuple[Rule, ...] = (), egress: tuple[Rule, ...] = ()) -> NetworkPolicy:
    return NetworkPolicy(ns, name, LabelSelector.of(selector), frozenset(types), ingress, egress)


def _pods(**labels: str) -> Peer:
    return Peer(pod_selector=LabelSelector.of(labels))


def three_tier() -> Cluster:
    """examples/three-tier, built in code (the same objects the loader makes of it)."""
    both = (Direction.INGRESS, Direction.EGRESS)
    http = PolicyPort(TCP, "http")
    endpoints = [
        _ep("shop", "web", {"app": "web", "tier": "frontend"}, ContainerPort(80, TCP, "http")),
        _ep("shop", "api", {"app": "api", "tier": "backend"}, ContainerPort(8080, TCP, "http")),
        _ep("shop", "db", {"app": "db", "tier": "data"}, ContainerPort(5432, TCP, "postgres"),
            kind="StatefulSet"),
        _ep("kube-system", "coredns", {"k8s-app": "kube-dns"},
            ContainerPort(53, Protocol.UDP, "dns"), ContainerPort(53, TCP, "dns-tcp")),
    ]
    dns_peer = Peer(pod_selector=LabelSelector.of({"k8s-app": "kube-dns"}),
                    namespace_selector=LabelSelector.of({NAME: "kube-system"}))
    policies = [
        _pol("shop", "default-deny", {}, both),
        _pol("shop", "allow-dns", {}, (Direction.EGRESS,), egress=(
            Rule((dns_peer,), (PolicyPort(Protocol.UDP, 53), PolicyPort(TCP, 53))),)),
        _pol("shop", "web-from-anywhere", {"app": "web"}, (Direction.INGRESS,),
             ingress=(Rule((), (http,)),)),
        _pol("shop", "web-to-api", {"app": "web"}, (Direction.EGRESS,),
             egress=(Rule((_pods(app="api"),), (http,)),)),
        _pol("shop", "api-allow", {"app": "api"}, both,
             ingress=(Rule((_pods(app="web"),), (http,)),),
             egress=(Rule((_pods(app="db"),), (PolicyPort(TCP, 5432),)),)),
        _pol("shop", "db-allow-api", {"app": "db"}, (Direction.INGRESS,),
             ingress=(Rule((_pods(app="api"),), (PolicyPort(TCP, 5432),)),)),
    ]
    namespaces = [Namespace.make("shop", {"team": "shop", "env": "prod"}),
                  Namespace.make("kube-system")]
    return build_cluster(namespaces, endpoints, policies)


def replicas() -> Cluster:
    """Two namespaces of replicated workloads: boxes of several endpoints, hubs, namespace arrows."""
    eps: list[Endpoint] = []
    for ns in ("a", "b"):
        for app, n in (("web", 3), ("api", 2), ("worker", 2), ("batch", 2)):
            tier = "worker" if app in ("worker", "batch") else app
            for i in range(n):
                eps.append(_ep(ns, f"{app}-7d9f8c6b5-x2k4{'bcdfg'[i]}",
                               {"app": app, "tier": tier, "pod-template-hash": "7d9f8c6b5"},
                               ContainerPort(8080, TCP, "http"), kind="Pod"))
    pols: list[NetworkPolicy] = []
    for ns in ("a", "b"):
        pols.append(_pol(ns, "deny", {}, (Direction.INGRESS,)))
        pols.append(_pol(ns, "api-from-workers", {"tier": "api"}, (Direction.INGRESS,), ingress=(
            Rule((Peer(pod_selector=LabelSelector.of({"tier": "worker"}),
                       namespace_selector=LabelSelector()),), (PolicyPort(TCP, 8080),)),)))
    return build_cluster([], eps, pols)


# -- expanding a picture back into endpoint pairs -------------------------------------------------


def expand(graph: ConnectivityGraph, cluster: Cluster) -> dict[PortQuery, set[tuple[str, str]]]:
    """Every endpoint pair the picture says may connect, per port (s != d)."""
    members = {nid: set(node.members) for nid, node in graph.nodes.items()}
    for ns in graph.namespaces:
        members[ns.id] = {m for nid in ns.nodes for m in graph.nodes[nid].members}
    into: dict[str, set[str]] = defaultdict(set)  # hub -> sources
    out_of: dict[str, set[str]] = defaultdict(set)  # hub -> destinations
    pairs: dict[PortQuery, set[tuple[str, str]]] = defaultdict(set)

    def add(srcs: set[str], dsts: set[str], ports: tuple[PortQuery, ...]) -> None:
        for port in ports:
            pairs[port].update((s, d) for s in srcs for d in dsts if s != d)

    for edge in graph.edges:
        if OUTSIDE in (edge.src, edge.dst):
            continue  # not a pair of endpoints (test_outside_arrows_say_what_exposure_says)
        if edge.dst in graph.hubs:
            into[edge.dst] |= members[edge.src]
        elif edge.src in graph.hubs:
            out_of[edge.src] |= members[edge.dst]
        else:
            add(members[edge.src], members[edge.dst], edge.ports)
    for hub_id, hub in graph.hubs.items():
        add(into[hub_id], out_of[hub_id], hub.ports)
    for ns in graph.namespaces:
        add(members[ns.id], members[ns.id], ns.internal)
    if graph.omits_open_pairs:
        opened_out = {m for n in graph.nodes.values() if n.open_out for m in n.members}
        opened_in = {m for n in graph.nodes.values() if n.open_in for m in n.members}
        add(opened_out, opened_in, graph.ports)
    return pairs


def allowed_pairs(engine: Engine, ports: list[PortQuery]) -> dict[PortQuery, set[tuple[str, str]]]:
    matrix = engine.matrix(ports)
    names = matrix.endpoints
    out: dict[PortQuery, set[tuple[str, str]]] = defaultdict(set)
    for port in ports:
        dense = matrix.dense(port)
        for i, s in enumerate(names):
            for j, d in enumerate(names):
                if i != j and dense[i, j]:
                    out[port].add((s, d))
    return out


@settings(max_examples=150, deadline=None)
@given(clusters(max_endpoints=8, max_policies=5),
       st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_picture_says_exactly_what_the_matrix_says(cluster: Cluster,
                                                   ports: list[PortQuery]) -> None:
    engine = Engine(cluster)
    graph = build_graph(engine, ports)
    expected = allowed_pairs(engine, ports)
    drawn = expand(graph, cluster)
    for port in ports:
        assert drawn[port] == expected[port], port


@settings(max_examples=100, deadline=None)
@given(clusters(max_endpoints=8, max_policies=5),
       st.lists(port_queries, min_size=1, max_size=3, unique=True))
def test_outside_arrows_say_what_check_says(cluster: Cluster, ports: list[PortQuery]) -> None:
    """Per box isolated in a direction, per port: one arrow with the outside, naming exactly
    the blocks whose representative check allows (none when it allows none)."""
    from podwall.engine import ExternalHost
    from podwall.engine.outside import partition

    engine = Engine(cluster)
    graph = build_graph(engine, ports)
    outside = partition(cluster)
    drawn: dict[tuple[str, str, PortQuery], list[str]] = defaultdict(list)
    for e in graph.edges:
        if OUTSIDE in (e.src, e.dst):
            direction = "in" if e.src == OUTSIDE else "out"
            node = graph.nodes[e.dst if direction == "in" else e.src]
            for member in node.members:
                for port in e.ports:
                    drawn[(direction, member, port)].append(e.addresses)
    for node in graph.nodes.values():
        for member in node.members:
            for port in ports:
                for direction, open_ in (("in", node.open_in), ("out", node.open_out)):
                    allowed = [b.index for b in outside.blocks if (
                        engine.check(ExternalHost(b.representative), member, port)
                        if direction == "in" else
                        engine.check(member, ExternalHost(b.representative), port)).allowed]
                    expected = ([str(outside.union(allowed))] if allowed and not open_ else [])
                    assert drawn[(direction, member, port)] == expected, (direction, member, port)


@settings(max_examples=80, deadline=None)
@given(clusters(max_endpoints=8, max_policies=5),
       st.lists(port_queries, min_size=1, max_size=3, unique=True), st.data())
def test_focus_draws_every_connection_of_the_endpoint(cluster: Cluster, ports: list[PortQuery],
                                                      data: st.DataObject) -> None:
    if not cluster.endpoints:
        return
    engine = Engine(cluster)
    focus = data.draw(st.sampled_from([e.key for e in cluster.endpoints]))
    graph = build_graph(engine, ports, focus=focus)
    box = next(n for n in graph.nodes.values() if focus in n.members)
    assert box.focus
    expected = allowed_pairs(engine, ports)
    drawn = expand(graph, cluster)
    for port in ports:
        mine = {(s, d) for s, d in expected[port] if s in box.members or d in box.members}
        assert {(s, d) for s, d in drawn[port]
                if s in box.members or d in box.members} == mine, port


@pytest.mark.parametrize("make", [three_tier, replicas])
def test_fixed_clusters_expand_to_the_matrix(make: object) -> None:
    cluster = make()  # type: ignore[operator]
    engine = Engine(cluster)
    ports = [PortQuery(TCP, 53), PortQuery(TCP, 80), PortQuery(TCP, 5432), PortQuery(TCP, 8080),
             PortQuery(Protocol.UDP, 53)]
    drawn, expected = expand(build_graph(engine, ports), cluster), allowed_pairs(engine, ports)
    assert {p: drawn[p] for p in ports} == {p: expected[p] for p in ports}


def test_three_tier_is_four_boxes_and_four_arrows() -> None:
    graph = build_graph(Engine(three_tier()))
    names = {n.id: n.name for n in graph.nodes.values()}
    assert sorted(names.values()) == ["kube-system/coredns", "shop/api", "shop/db", "shop/web"]
    arrows = {(names.get(e.src, e.src), names.get(e.dst, e.dst), graph.port_words(e.ports))
              for e in graph.edges}
    shop = next(ns.id for ns in graph.namespaces if ns.name == "shop")
    assert arrows == {
        ("shop/web", "shop/api", "TCP/8080"),
        ("shop/api", "shop/db", "TCP/5432"),
        (shop, "kube-system/coredns", "TCP/53 · UDP/53"),  # every shop endpoint resolves names
        ("kube-system/coredns", "shop/web", "TCP/80"),  # web admits anyone on http
        (OUTSIDE, "shop/web", "TCP/80"),  # ... and the outside too, drawn from its own node
    }
    (outside,) = [e for e in graph.edges if OUTSIDE in (e.src, e.dst)]
    assert graph.edge_words(outside) == "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0: TCP/80"
    coredns = next(n for n in graph.nodes.values() if n.name == "kube-system/coredns")
    assert coredns.open_in and coredns.open_out
    assert graph.node_markers(coredns) == [wording.OPEN_IN, wording.OPEN_OUT]
    assert not graph.hubs


def test_focus_shows_the_neighbourhood_only() -> None:
    cluster = three_tier()
    graph = build_graph(Engine(cluster), focus="shop/db")
    names = {n.id: n.name for n in graph.nodes.values()}
    assert set(names.values()) == {"shop/db", "shop/api", "kube-system/coredns"}  # not web
    assert [n.name for n in graph.nodes.values() if n.focus] == ["shop/db"]
    assert {(names[e.src], names[e.dst], graph.port_words(e.ports)) for e in graph.edges} == {
        ("shop/api", "shop/db", "TCP/5432"), ("shop/db", "kube-system/coredns", "TCP/53 · UDP/53")}
    assert "Only shop/db" in " ".join(graph.legend())


def test_focus_must_name_an_endpoint() -> None:
    engine = Engine(three_tier())
    with pytest.raises(QueryError, match="not an endpoint"):
        build_graph(engine, focus="192.0.2.1")
    with pytest.raises(QueryError, match="no endpoint 'shop/nope'"):
        build_graph(engine, focus="shop/nope")


def test_replicas_become_boxes_with_hubs_and_labels() -> None:
    graph = build_graph(Engine(replicas()))
    labels = sorted(n.name for n in graph.nodes.values())
    # web and api each connect in their own way; worker and batch alike, so one box named by
    # the label they share that the rest of the namespace does not.
    assert labels == ["a/api ×2", "a/tier=worker ×4", "a/web ×3",
                      "b/api ×2", "b/tier=worker ×4", "b/web ×3"]
    worker = {n.id for n in graph.nodes.values() if "tier=worker" in n.label}
    api = {n.id for n in graph.nodes.values() if n.label.startswith("api")}
    assert len(graph.hubs) == 1  # 2 worker boxes x 2 api boxes = 4 arrows -> 2 + 2 via a hub
    (hub,) = graph.hubs.values()
    assert {e.src for e in graph.edges if e.dst == hub.id} == worker
    assert {e.dst for e in graph.edges if e.src == hub.id} == api
    assert graph.port_words(hub.ports) == "TCP/8080"


def test_unpoliced_cluster_is_markers_and_no_arrows() -> None:
    eps = [_ep("x", f"p{i}", {"app": f"p{i}"}, ContainerPort(80, TCP)) for i in range(30)]
    eps += [_ep("y", f"q{i}", {"app": f"q{i}"}, ContainerPort(80, TCP)) for i in range(3)]
    pols = [_pol("y", "deny-q0", {"app": "q0"}, (Direction.INGRESS,))]
    graph = build_graph(Engine(build_cluster([], eps, pols)))
    assert graph.edges == ()
    # x: thirty endpoints that connect alike are one box, open both ways.
    (box,) = [n for n in graph.nodes.values() if n.namespace == "x"]
    assert box.label == "p0, p1 +28 ×30"
    assert graph.node_markers(box) == [wording.OPEN_IN, wording.OPEN_OUT]
    # y: q1 and q2 are one box; with q0 (isolated, no rule) the namespace shares egress only,
    # so the namespace says it once and the boxes do not repeat it.
    ns = next(n for n in graph.namespaces if n.name == "y")
    assert ns.open_out and not ns.open_in
    assert sorted(graph.node_markers(graph.nodes[n]) for n in ns.nodes) == [[], [wording.OPEN_IN]]


def test_class_stem_names_workloads() -> None:
    def eps(*names: str) -> list[Endpoint]:
        return [_ep("ns", n, {"app": "x"}) for n in names]

    assert class_stem(eps("api-7d9f8c6b5-x2k4p", "api-7d9f8c6b5-zz9bq")) == "api"
    assert class_stem(eps("api-7d9f8c6b5-x2k4p")) == "api"
    assert class_stem(eps("db-0", "db-1")) == "db"
    assert class_stem(eps("db-0")) == "db-0"
    assert class_stem(eps("web-blue", "web-green")) == "web-*"
    assert class_stem(eps("alpha", "beta")) == "app=x"


def test_port_sets_are_compacted() -> None:
    ports = [PortQuery(TCP, p) for p in (53, 80, 8000, 8001, 8002, 9090)] + [
        PortQuery(Protocol.UDP, 53)]
    assert wording.port_set_words(ports) == "TCP/53,80,8000-8002,9090 · UDP/53"
    assert wording.port_set_words(ports, ports) == wording.EVERY_PORT
    assert wording.port_set_words(ports[:1], ports[:1]) == "TCP/53"


def test_too_many_classes_asks_for_focus(monkeypatch: pytest.MonkeyPatch) -> None:
    import podwall.analysis.graph as graph_module

    monkeypatch.setattr(graph_module, "MAX_CLASSES", 2)
    engine = Engine(three_tier())
    with pytest.raises(PodwallError, match="--focus"):
        build_graph(engine)
    assert build_graph(engine, focus="shop/api").nodes  # a neighbourhood is still drawn


# -- renderers ------------------------------------------------------------------------------------


def test_dot_names_every_element_for_the_report() -> None:
    graph = build_graph(Engine(replicas()))
    text = graph_dot(graph)
    for nid in graph.nodes:
        assert f'{nid} [id="{nid}"' in text
    for hub in graph.hubs:
        assert f'{hub} [id="{hub}"' in text
    assert text.count(" -> ") == len(graph.edges)
    assert "label=<<table" in text and "label=<<table" not in graph_dot(graph, legend=False)


def test_mermaid_escapes_what_it_would_parse() -> None:
    eps = [_ep("x", "a", {"app": 'we"ird<tag>#1'}), _ep("x", "b", {"app": 'we"ird<tag>#1'})]
    text = graph_mermaid(build_graph(Engine(build_cluster([], eps, [])), [PortQuery(TCP, 80)]))
    assert "#quot;" in text and "#lt;" in text and "#35;" in text
    assert '"' not in text.replace('["', "").replace('"]', "")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_svg_is_drawn_by_graphviz_with_our_ids() -> None:
    graph = build_graph(Engine(three_tier()))
    svg = dot_to_svg(graph_dot(graph))
    assert svg.lstrip().startswith("<?xml")
    for nid in graph.nodes:
        assert f'id="{nid}"' in svg
    inline = inline_svg(svg)
    assert inline.startswith("<svg") and "<!--" not in inline and "DOCTYPE" not in inline


def test_svg_without_graphviz_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PodwallError, match="apt-get install graphviz"):
        dot_to_svg("digraph { a -> b }")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_dot_rejects_broken_input_with_its_own_words() -> None:
    with pytest.raises(PodwallError, match="Graphviz `dot` failed"):
        dot_to_svg("digraph { a -> }")


def test_dot_is_deterministic() -> None:
    assert graph_dot(build_graph(Engine(replicas()))) == graph_dot(build_graph(Engine(replicas())))


def test_ip_of_endpoints_does_not_change_the_picture() -> None:
    cluster = three_tier()
    moved = build_cluster(
        cluster.namespaces.values(),
        [Endpoint(e.namespace, e.name, e.labels, e.ports, ipaddress.ip_address(f"10.9.0.{i + 1}"),
                  e.kind) for i, e in enumerate(cluster.endpoints)],
        cluster.policies)
    strip = re.compile(r'tooltip="[^"]*"')
    assert strip.sub("", graph_dot(build_graph(Engine(moved)))) == strip.sub(
        "", graph_dot(build_graph(Engine(cluster))))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_every_example_lays_out(examples_graphs: dict[str, ConnectivityGraph]) -> None:
    for name, graph in examples_graphs.items():
        done = subprocess.run(["dot", "-Tsvg"], input=graph_dot(graph).encode(),
                              capture_output=True, check=False)
        assert done.returncode == 0, (name, done.stderr.decode())
        assert not done.stderr, (name, done.stderr.decode())


@pytest.fixture(scope="module")
def examples_graphs() -> dict[str, ConnectivityGraph]:
    return {"three-tier": build_graph(Engine(three_tier())),
            "replicas": build_graph(Engine(replicas())),
            "replicas-focus": build_graph(Engine(replicas()), focus="a/web-7d9f8c6b5-x2k4b")}


def test_a_pod_admitted_only_by_its_ip_is_an_arrow_apart() -> None:
    """An internet-facing rule (ipBlock) is drawn from the outside node; a pod whose IP happens
    to lie in it gets a marked arrow, never a plain one as if the rule were for pods."""
    import ipaddress

    from podwall.model import IPBlock

    db = Endpoint("prod", "db", Labels({"app": "db"}), (ContainerPort(5432),),
                  ipaddress.ip_address("10.244.1.10"))
    api = Endpoint("prod", "api", Labels({"app": "api"}), ip=ipaddress.ip_address("10.244.1.11"))
    dns = Endpoint("kube-system", "coredns", Labels({"k8s-app": "kube-dns"}),
                   ip=ipaddress.ip_address("10.96.0.53"))
    internet = IPBlock(ipaddress.ip_network("0.0.0.0/0"), (ipaddress.ip_network("10.244.0.0/16"),))
    policy = NetworkPolicy("prod", "db", LabelSelector.of({"app": "db"}),
                           frozenset({Direction.INGRESS}), ingress=(Rule(
                               (Peer(ip_block=internet),
                                Peer(pod_selector=LabelSelector.of({"app": "api"}))),
                               (PolicyPort(TCP, 5432),)),))
    graph = build_graph(Engine(build_cluster([], [db, api, dns], [policy])), [PortQuery(TCP, 5432)])
    names = {n.id: n.name for n in graph.nodes.values()}
    arrows = {(names.get(e.src, e.src), names.get(e.dst, e.dst), e.by_ip, e.addresses)
              for e in graph.edges}
    assert arrows == {("kube-system/coredns", "prod/db", True, ""),
                      ("prod/api", "prod/db", False, ""),
                      (OUTSIDE, "prod/db", False, "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16")}
    assert wording.BY_IP_LEGEND in graph.legend()
    # without the pod IP in the block, no such arrow and no such legend line
    moved = replace(dns, ip=ipaddress.ip_address("10.244.9.9"))
    graph = build_graph(Engine(build_cluster([], [db, api, moved], [policy])),
                        [PortQuery(TCP, 5432)])
    assert not any(e.by_ip for e in graph.edges)
    assert wording.BY_IP_LEGEND not in graph.legend()
