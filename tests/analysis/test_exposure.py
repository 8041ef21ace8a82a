"""`podwall exposure`: what each endpoint accepts from and may open to the outside."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from podwall.analysis.exposure import exposure, group_label
from podwall.analysis.filters import View, parse_selector
from podwall.cli.main import cli
from podwall.manifests import load_cluster
from podwall.model import Direction, PortQuery, Protocol

ROOT = Path(__file__).resolve().parents[2]
BACKUP = str(ROOT / "tests" / "fixtures" / "exposure" / "backup.yaml")


def lines(direction: Direction, view: View | None = None) -> list[str]:
    result = exposure(load_cluster([BACKUP]).cluster, view)
    return [o.line() for o in result.of(direction)]


def test_ingress_from_the_internet_with_its_except_and_named_port() -> None:
    got = lines(Direction.INGRESS)
    assert ("0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16, 203.0.113.0/24 -> prod/web TCP/80  "
            "(prod/web ingress[0])") in got
    # db is isolated for ingress and admits nothing from outside: no line
    assert not any("prod/db" in line for line in got)
    # dev/open is not isolated: everything outside, every port
    assert "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0 -> dev/open every port  " \
           "(not isolated for ingress)" in got


def test_egress_to_one_host_only() -> None:
    got = lines(Direction.EGRESS)
    assert "prod/db -> 192.0.2.10/32 TCP/5432  (prod/db egress[0])" in got
    assert not any(line.startswith("prod/web") for line in got)  # isolated, no egress rule


def test_views_pick_the_pod_end() -> None:
    assert lines(Direction.INGRESS, View(namespace="dev")) == [
        "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0 -> dev/open every port  "
        "(not isolated for ingress)"]
    assert lines(Direction.EGRESS, View(focus="prod/db")) == [
        "prod/db -> 192.0.2.10/32 TCP/5432  (prod/db egress[0])"]
    # outside addresses have no labels: --from SEL hides ingress, --to SEL hides egress
    assert lines(Direction.INGRESS, View(sources=parse_selector("app=db"))) == []
    assert lines(Direction.EGRESS, View(destinations=parse_selector("app"))) == []
    assert lines(Direction.EGRESS, View(sources=parse_selector("app=db"))) == [
        "prod/db -> 192.0.2.10/32 TCP/5432  (prod/db egress[0])"]


def test_port_filter_and_summary_counts() -> None:
    cluster = load_cluster([BACKUP]).cluster
    only = exposure(cluster, ports=[PortQuery(Protocol.TCP, 443)])
    assert [o.label for o in only.of(Direction.INGRESS)] == ["dev/open"]
    full = exposure(cluster)
    assert full.accepting == {"dev/open", "prod/web"}
    assert full.opening == {"dev/open", "prod/db"}


def test_group_labels() -> None:
    everyone = ["a", "api-1", "api-2", "b", "c"]
    assert group_label("ns", ["a"], everyone) == "ns/a"
    assert group_label("ns", everyone, everyone) == "ns/*"
    assert group_label("ns", ["api-1", "api-2"], everyone) == "ns/api-*"
    assert group_label("ns", ["a", "b"], everyone) == "ns/{a,b}"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_cli_text_json_md() -> None:
    code, out = run("exposure", BACKUP, "--no-implied")
    assert code == 0
    assert "3 blocks that every policy treats alike" in out
    assert "prod/db -> 192.0.2.10/32 TCP/5432" in out
    code, out = run("exposure", BACKUP, "-o", "json", "--no-implied")
    data = json.loads(out)
    assert data["outside"]["podCidr"] == "10.244.0.0/16"
    assert [b["addresses"] for b in data["outside"]["blocks"]][1] == "192.0.2.10/32"
    egress = data["egress"]
    db = next(e for e in egress if e["endpoints"] == ["prod/db"])
    assert db["cidrs"] == ["192.0.2.10/32"] and db["ports"] == ["TCP/5432"]
    assert db["rules"] == [{"policy": "prod/db", "direction": "egress", "rule": 0}]
    assert data["summary"] == {"endpoints": 3, "acceptFromOutside": 2, "openToOutside": 2,
                               "closed": 0}
    code, out = run("exposure", BACKUP, "-o", "md", "-n", "prod", "--no-implied")
    assert "| `prod/db` | `192.0.2.10/32` | TCP/5432 | prod/db egress[0] |" in out
    assert "dev/open" not in out


def test_the_service_cidr_is_not_outside_in_every_output() -> None:
    code, out = run("exposure", BACKUP, "--no-implied")
    assert code == 0
    assert out.startswith("Outside the cluster: every address except the pod CIDR 10.244.0.0/16 "
                          "(--pod-cidr), the Service CIDR 10.96.0.0/12 (--service-cidr) and "
                          "the pods' and Services' IPs; 3 blocks")
    code, out = run("exposure", BACKUP, "--no-implied", "--service-cidr", "172.20.0.0/16")
    assert "the Service CIDR 172.20.0.0/16 (--service-cidr)" in out
    assert "0.0.0.0/0 except 10.244.0.0/16, 172.20.0.0/16; ::/0 -> dev/open every port" in out
    code, out = run("exposure", BACKUP, "-o", "json", "--no-implied")
    data = json.loads(out)["outside"]
    assert data["serviceCidr"] == "10.96.0.0/12"
    assert data["serviceIpsOutsideServiceCidr"] == []
    assert not any("10.96.0.0/12" in c for b in data["blocks"] for c in b["cidrs"])
    # matrix --outside never picks a ClusterIP as an outside host
    code, out = run("matrix", BACKUP, "--outside", "--no-implied", "-o", "json")
    hosts = json.loads(out)["endpoints"][3:]
    assert hosts and not any(h.startswith(("10.96.", "10.244.")) for h in hosts)


def test_cli_bad_focus_is_an_error() -> None:
    result = CliRunner().invoke(cli, ["exposure", BACKUP, "--focus", "prod/nope"])
    assert result.exit_code == 2
    assert "no endpoint 'prod/nope'" in result.stderr


def test_big_views_summarise_per_namespace(tmp_path: Path) -> None:
    docs = [f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{i % 2}}}\n"
            "spec: {containers: [{name: x, image: x}]}\n" for i in range(60)]
    (tmp_path / "pods.yaml").write_text("---\n".join(docs))
    code, out = run("exposure", str(tmp_path))
    assert code == 0
    assert ("ns0: 30 endpoints accept connections from outside (in all: from 0.0.0.0/0 except "
            "10.96.0.0/12, 10.244.0.0/16; ::/0 on every port)") in out
    assert "Drill down" in out
    _, out = run("exposure", str(tmp_path), "--full")
    assert "ns0/* every port" in out and "Drill down" not in out


def test_matrix_outside_adds_one_host_per_block() -> None:
    code, out = run("matrix", BACKUP, "--outside", "--port", "TCP/5432", "-o", "json")
    assert code == 0
    data = json.loads(out)
    outside = data["outside"]
    assert outside["192.0.2.10"] == "192.0.2.10/32"
    db, host = data["endpoints"].index("prod/db"), data["endpoints"].index("192.0.2.10")
    assert data["allowed"]["TCP/5432"][db][host] is True  # the backup host
    other = next(k for k, v in outside.items() if v.startswith("0.0.0.0/0"))
    assert data["allowed"]["TCP/5432"][db][data["endpoints"].index(other)] is False
    _, table = run("matrix", BACKUP, "--outside", "--port", "TCP/5432")
    assert "192.0.2.10 stands for every address in 192.0.2.10/32" in table
    _, plain = run("matrix", BACKUP, "--port", "TCP/5432", "-o", "json")
    assert "outside" not in json.loads(plain)


def test_an_opening_a_cluster_policy_decides_names_its_rule() -> None:
    """With cluster policies a line says what check says: the Admin Accept opens the shop's
    egress to one network although a NetworkPolicy isolates it."""
    from pathlib import Path

    from podwall.analysis.exposure import exposure as exposure_of
    from podwall.manifests import load_cluster
    from podwall.model import Direction, PortQuery

    root = Path(__file__).resolve().parents[2]
    base = "".join(p.read_text() + "\n---\n"
                   for p in sorted((root / "examples/cluster-tiers").glob("*.yaml")))
    extra = """apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: partner-api}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {team: shop}}}
  egress:
  - {name: partner, action: Accept, to: [{networks: ["0.0.0.0/0"]}],
     protocols: [{tcp: {destinationPort: {number: 443}}}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
"""
    cluster = load_cluster(["-"], stdin_text=base + extra, implied=False).cluster
    result = exposure_of(cluster, ports=[PortQuery.parse("TCP/443")])
    (line,) = [o for o in result.of(Direction.EGRESS) if o.namespace == "shop"]
    assert "0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16" in str(line.addresses)
    assert line.line().endswith("(allowed — Accept in admin/partner-api egress[0] (partner) at "
                                "priority 1 (Admin tier))")
    assert line.to_json()["clusterRules"][0]["policy"] == "admin/partner-api"
