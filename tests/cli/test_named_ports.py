"""`--port http`: a container-port name, resolved on the destination as a policy's named port is.

examples/three-tier: shop/web names TCP/80 `http`, shop/api names TCP/8080 `http`, shop/db
names TCP/5432 `postgres`, kube-system/coredns names UDP/53 `dns`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli
from podwall.model import (
    ContainerPort,
    NamedPortQuery,
    PortQuery,
    Protocol,
    parse_port_or_name,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("http", NamedPortQuery(Protocol.TCP, "http")),
    ("udp/dns", NamedPortQuery(Protocol.UDP, "dns")),
    ("metrics-2", NamedPortQuery(Protocol.TCP, "metrics-2")),
    ("8080", PortQuery(Protocol.TCP, 8080)),
    ("UDP/53", PortQuery(Protocol.UDP, 53))])
def test_parse(text: str, expected: object) -> None:
    assert parse_port_or_name(text) == expected


@pytest.mark.parametrize("text", ["HTTP", "a--b", "-web", "web-", "sixteen-chars-xx", "tcp/",
                                  "icmp/http", "0", "70000"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid port"):
        parse_port_or_name(text)


def test_resolve_on_the_destination_ports() -> None:
    ports = (ContainerPort(8080, Protocol.TCP, "http"), ContainerPort(53, Protocol.UDP, "dns"))
    assert NamedPortQuery(Protocol.TCP, "http").resolve(ports) == PortQuery(Protocol.TCP, 8080)
    assert NamedPortQuery(Protocol.TCP, "dns").resolve(ports) is None  # dns is UDP here
    assert NamedPortQuery(Protocol.UDP, "dns").resolve(ports) == PortQuery(Protocol.UDP, 53)


def test_check_resolves_per_destination() -> None:
    code, out, _ = run("check", "examples/three-tier", "--from", "shop/web", "--to", "shop/api",
                       "--port", "http", "--expect", "allow")
    assert code == 0, out
    assert out.splitlines()[0] == "port TCP/http at shop/api is TCP/8080"
    assert "ALLOWED shop/web -> shop/api TCP/8080" in out
    # The same name is another number at another destination: web's http is TCP/80.
    code, out, _ = run("check", "examples/three-tier", "--from", "shop/api", "--to", "shop/web",
                       "--port", "http", "-o", "json")
    payload = json.loads(out)
    assert payload["namedPort"] == {"name": "TCP/http", "resolved": "TCP/80"}
    assert payload["port"] == "TCP/80"


def test_check_denied_by_name() -> None:
    code, out, _ = run("check", "examples/three-tier", "--from", "shop/web", "--to", "shop/db",
                       "--port", "postgres", "--expect", "deny")
    assert code == 0, out
    assert "shop/web -> shop/db TCP/5432" in out and out.splitlines()[1].startswith("DENIED")


def test_check_says_when_the_destination_has_no_such_port() -> None:
    code, out, err = run("check", "examples/three-tier", "--from", "shop/api", "--to", "shop/db",
                         "--port", "http")
    assert code == 2 and out == ""
    assert ("shop/db has no TCP container port named 'http' (its named ports: TCP/5432 "
            "(postgres))") in err
    code, _, err = run("check", "examples/three-tier", "--from", "shop/web", "--to",
                       "192.0.2.7", "--port", "http")
    assert code == 2 and "192.0.2.7 is outside the cluster: give a number" in err


POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: x, labels: {{app: {app}}}}}
spec:
  containers:
    - name: c
      image: i
      ports: [{{name: http, containerPort: {port}}}]
status: {{podIP: {ip}}}
---
"""
ONLY_80 = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-80, namespace: x}
spec:
  podSelector: {matchLabels: {app: srv}}
  ingress: [{ports: [{port: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: x, labels: {app: client}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.9}
"""


def two_https(root: Path, port_of_b: int = 8080) -> Path:
    """x/a names TCP/80 `http`, x/b names TCP/<port_of_b> `http`; only TCP/80 is admitted."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "all.yaml").write_text(
        POD.format(name="a", app="srv", port=80, ip="10.0.0.1")
        + POD.format(name="b", app="srv", port=port_of_b, ip="10.0.0.2") + ONLY_80)
    return root


def test_matrix_resolves_a_name_at_each_destination(tmp_path: Path) -> None:
    path = str(two_https(tmp_path))
    code, out, err = run("matrix", path, "--no-implied", "--port", "http", "-o", "json")
    assert code == 0, err
    model = json.loads(out)
    assert model["endpoints"] == ["x/a", "x/b", "x/client"]
    assert model["ports"] == ["TCP/http"]
    # client -> a: a's http is TCP/80, admitted; client -> b: b's http is TCP/8080, not admitted
    assert model["allowed"]["TCP/http"][2] == [True, False, True]
    assert model["resolved"] == {"TCP/http": ["TCP/80", "TCP/8080", None]}
    code, out, _ = run("matrix", path, "--no-implied", "--port", "http", "-o", "json", "--from", "app=srv",
                       "--to", "app=srv")
    model = json.loads(out)  # a view keeps what the name is at the endpoints it keeps
    assert model["endpoints"] == ["x/a", "x/b"]
    assert model["resolved"] == {"TCP/http": ["TCP/80", "TCP/8080"]}
    code, out, _ = run("matrix", path, "--no-implied", "--port", "http", "-o", "csv")
    assert "TCP/http,x/client,x/a,true" in out and "TCP/http,x/client,x/b,false" in out
    code, out, _ = run("matrix", path, "--no-implied", "--port", "http")
    assert out.startswith("TCP/http: ")


@pytest.mark.parametrize("verb", [["matrix"], ["graph"], ["report", "-o", "json"]])
def test_whole_cluster_verbs_keep_the_name(verb: list[str]) -> None:
    code, out, err = run(verb[0], "examples/three-tier", *verb[1:], "--port", "http")
    assert code == 0, err
    model = json.loads(out) if verb[0] == "report" else None
    shown = json.dumps(model["graph"]["ports"]) if model is not None else out
    assert "TCP/http" in shown and "TCP/8080" not in shown and "TCP/5432" not in shown


def test_graph_draws_only_the_destination_whose_name_is_admitted(tmp_path: Path) -> None:
    code, out, err = run("graph", str(two_https(tmp_path)), "--port", "http", "-o", "json")
    assert code == 0, err
    model = json.loads(out)
    members = {node["id"]: node["members"] for node in model["nodes"]}
    into = [members.get(e["to"]) for e in model["edges"]]
    assert ["x/a"] in into, model["edges"]  # a's http is TCP/80: admitted, a box of its own
    assert not any("x/b" in (m or []) for m in into), model["edges"]


def test_diff_resolves_the_name_on_each_side(tmp_path: Path) -> None:
    old, new = two_https(tmp_path / "old"), two_https(tmp_path / "new", port_of_b=80)
    code, out, err = run("diff", str(old), str(new), "--no-implied", "--port", "http", "-o", "json")
    assert code == 0, err
    model = json.loads(out)
    assert model["ports"] == ["TCP/http"]
    added = [(c["from"], c["to"]) for c in model["changes"] if c["change"] == "added"]
    assert added == [("x/*", "x/b")], model["changes"]  # b's http is TCP/80 in NEW only
    # by number nothing changed: TCP/80 was admitted to b before, TCP/8080 never
    code, out, _ = run("diff", str(old), str(new), "--no-implied", "--port", "80", "--port",
                       "8080", "-o", "json")
    assert json.loads(out)["changes"] == []


def test_diff_says_when_the_destination_drops_the_name(tmp_path: Path) -> None:
    old = two_https(tmp_path / "old", port_of_b=80)
    new = two_https(tmp_path / "new", port_of_b=80)
    text = (new / "all.yaml").read_text()
    at = text.index("name: b,")
    (new / "all.yaml").write_text(text[:at] + text[at:].replace("name: http", "name: web", 1))
    code, out, err = run("diff", str(old), str(new), "--no-implied", "--port", "http")
    assert code == 0, err
    assert out.splitlines()[0] == ("- x/* -> x/b TCP/http  (no longer admitted; the destination "
                                   "has no container port named TCP/http in NEW)")
    code, out, _ = run("diff", str(new), str(old), "--no-implied", "--port", "http")
    assert out.splitlines()[0] == ("+ x/* -> x/b TCP/http  (allowed by x/only-80 ingress[0]; "
                                   "the destination has no container port named TCP/http in OLD)")


def test_diff_takes_a_name() -> None:
    code, out, err = run("diff", "examples/three-tier", "examples/three-tier-v2", "--port",
                         "postgres", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["ports"] == ["TCP/postgres"]


def test_unknown_name_is_a_clear_error() -> None:
    code, _, err = run("matrix", "examples/three-tier", "--port", "grpc")
    assert code == 2
    assert "no container port is named 'grpc' (TCP) in the input" in err


def test_names_sort_after_the_numbers_of_their_protocol() -> None:
    from podwall.analysis.wording import port_set_words

    http, dns = NamedPortQuery(Protocol.TCP, "http"), NamedPortQuery(Protocol.UDP, "dns")
    mixed = [http, PortQuery(Protocol.UDP, 53), PortQuery(Protocol.TCP, 81), dns,
             PortQuery(Protocol.TCP, 80)]
    assert sorted(mixed) == [PortQuery(Protocol.TCP, 80), PortQuery(Protocol.TCP, 81), http,
                             PortQuery(Protocol.UDP, 53), dns]
    assert port_set_words(mixed) == "TCP/80-81,http · UDP/53,dns"
    assert port_set_words([http]) == "TCP/http"
