"""A verdict that an ipBlock gives on an address podwall assigned says so (check, explain)."""

from __future__ import annotations

import ipaddress
import json

from click.testing import CliRunner

from podwall.analysis.explain import Explainer, explanation_json
from podwall.cli.main import cli
from podwall.engine import Engine
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
    PortQuery,
    Protocol,
    Rule,
    build_cluster,
)

DB = Endpoint("prod", "db", Labels({"app": "db"}), (ContainerPort(5432),),
              ipaddress.ip_address("10.244.9.9"))


def cluster(agent_ip: str | None, cidr: str = "10.0.0.0/8", except_: tuple[str, ...] = ()):
    agent = Endpoint("prod", "agent", Labels({"app": "agent"}),
                     ip=ipaddress.ip_address(agent_ip) if agent_ip else None)
    block = IPBlock(ipaddress.ip_network(cidr), tuple(ipaddress.ip_network(e) for e in except_))
    policy = NetworkPolicy("prod", "db", LabelSelector.of({"app": "db"}),
                           frozenset({Direction.INGRESS}),
                           ingress=(Rule((Peer(ip_block=block),),
                                         (PolicyPort(Protocol.TCP, 5432),)),))
    return build_cluster([], [agent, DB], [policy])


PORT = PortQuery(Protocol.TCP, 5432)


def test_an_assigned_address_inside_an_ipblock_is_flagged() -> None:
    verdict = Engine(cluster(None)).check("prod/agent", "prod/db", PORT)
    assert verdict.allowed
    (note,) = verdict.assigned
    assert note.endpoint == "prod/agent" and note.blocks == ("10.0.0.0/8",)
    assert verdict.to_json()["assignedAddresses"][0]["rules"][0]["policy"] == "prod/db"


def test_an_excepted_assigned_address_is_flagged_too() -> None:
    # denied only because the invented address falls in the except: still rests on it
    verdict = Engine(cluster(None, except_=("10.244.0.0/16",))).check("prod/agent", "prod/db",
                                                                      PORT)
    assert not verdict.allowed
    assert verdict.assigned[0].blocks == ("10.0.0.0/8 except 10.244.0.0/16",)


def test_no_note_for_a_real_ip_another_port_or_a_block_elsewhere() -> None:
    assert Engine(cluster("10.1.2.3")).check("prod/agent", "prod/db", PORT).assigned == ()
    other_port = PortQuery(Protocol.TCP, 80)
    assert Engine(cluster(None)).check("prod/agent", "prod/db", other_port).assigned == ()
    assert Engine(cluster(None, "192.0.2.0/24")).check("prod/agent", "prod/db",
                                                       PORT).assigned == ()


def test_explain_says_it_per_endpoint() -> None:
    data = explanation_json(Explainer(Engine(cluster(None))))
    agent = next(e for e in data["endpoints"] if e["endpoint"] == "prod/agent")
    assert agent["ipAssigned"] is True
    assert agent["ipInIpBlocks"][0]["ipBlock"] == "10.0.0.0/8"
    db = next(e for e in data["endpoints"] if e["endpoint"] == "prod/db")
    assert db["ipAssigned"] is False and db["ipInIpBlocks"] == []


def test_check_text_and_json(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: prod}\n"
        "spec: {containers: [{name: x, image: x}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: prod, labels: {app: db}}\n"
        "spec: {containers: [{name: x, image: x}]}\nstatus: {podIP: 10.244.9.9}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: db}}\n"
        "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]\n")
    run = CliRunner().invoke
    out = run(cli, ["check", str(tmp_path), "--from", "prod/agent", "--to", "prod/db",
                    "--port", "80"]).stdout
    assert "note: prod/agent has no status.podIP: podwall assigned it 10.244." in out
    out = run(cli, ["check", str(tmp_path), "--from", "prod/agent", "--to", "prod/db",
                    "--port", "80", "-o", "json"]).stdout
    assert json.loads(out)["assignedAddresses"][0]["endpoint"] == "prod/agent"
    out = run(cli, ["explain", str(tmp_path)]).stdout
    assert "what these rules say about it rests on it" in out
