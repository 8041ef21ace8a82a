"""`check` through Services and a snapshot's controllers; implied kube-dns; --no-implied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = str(ROOT / "tests" / "fixtures" / "snapshot" / "get-all.json")

APP = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-only, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}]
"""


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def app(tmp_path: Path) -> str:
    (tmp_path / "app.yaml").write_text(APP)
    return str(tmp_path)


@pytest.mark.parametrize("to", ["svc/kube-system/kube-dns", "service/kube-system/kube-dns",
                                "10.96.0.10"])
def test_dns_through_the_implied_kube_dns_is_allowed(app: str, to: str) -> None:
    code, out, err = run("check", app, "--from", "shop/web", "--to", to, "--port", "UDP/53",
                         "--expect", "allow")
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == ("svc/kube-system/kube-dns (implied; 10.96.0.10) UDP/53 → 1 pod on "
                        "UDP/53: kube-system/coredns (implied)")
    assert lines[1] == "ALLOWED shop/web -> kube-system/coredns (implied) UDP/53"
    assert "allowed by shop/dns-only egress[0]" in lines[2]


def test_without_implied_components_there_is_no_kube_dns(app: str) -> None:
    code, _, err = run("check", app, "--no-implied", "--from", "shop/web", "--to",
                       "svc/kube-system/kube-dns", "--port", "UDP/53")
    assert code == 2 and "no Service 'kube-system/kube-dns'" in err
    # the address is then a host outside the cluster, and the DNS policy does not admit it
    code, out, _ = run("check", app, "--no-implied", "--from", "shop/web", "--to", "10.96.0.10",
                       "--port", "UDP/53")
    assert code == 0 and out.startswith("DENIED  shop/web -> 10.96.0.10 UDP/53")


def test_the_service_cidr_moves_kube_dns(app: str) -> None:
    code, out, err = run("check", app, "--service-cidr", "10.0.0.0/16", "--from", "shop/web",
                         "--to", "10.0.0.10", "--port", "UDP/53")
    assert code == 0 and "(implied; 10.0.0.10)" in out, err
    code, _, err = run("check", app, "--service-cidr", "nope", "--from", "shop/web", "--to",
                       "10.0.0.10", "--port", "UDP/53")
    assert code == 2 and "is not a CIDR" in err


def test_a_port_the_service_does_not_expose_is_an_error(app: str) -> None:
    code, _, err = run("check", app, "--from", "shop/web", "--to", "svc/kube-system/kube-dns",
                       "--port", "UDP/54")
    assert code == 2 and "does not expose UDP/54 (its ports: UDP/53, TCP/53)" in err


def test_json_keeps_the_keys_and_adds_the_service(app: str) -> None:
    code, out, _ = run("check", app, "--from", "shop/web", "--to", "svc/kube-system/kube-dns",
                       "--port", "UDP/53", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert {"from", "to", "port", "allowed", "sameEndpoint", "egress", "ingress"} <= data.keys()
    assert data["allowed"] is True and data["to"] == "svc/kube-system/kube-dns"
    assert data["service"]["clusterIP"] == "10.96.0.10" and data["service"]["implied"] is True
    assert data["service"]["targetPort"] == 53 and data["toPods"] == ["kube-system/coredns"]
    assert [v["to"] for v in data["verdicts"]] == ["kube-system/coredns"]


def test_a_plain_check_is_unchanged(app: str) -> None:
    code, out, _ = run("check", app, "--from", "shop/web", "--to", "shop/web", "--port", "80",
                       "-o", "json")
    assert code == 0 and "service" not in json.loads(out) and "verdicts" not in json.loads(out)


def test_a_snapshot_controller_resolves_and_alike_verdicts_collapse() -> None:
    code, out, _ = run("check", SNAPSHOT, "--from", "shop/web", "--to", "svc/shop/api",
                       "--port", "80", "--expect", "allow")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == ("shop/web (Deployment) → 2 pods: shop/web-7d9f8b6c5d-q9m4z, "
                        "shop/web-7d9f8b6c5d-x7k2p")
    assert lines[1].startswith("svc/shop/api (10.96.44.7) TCP/80 → 2 pods on TCP/http: ")
    # 2 x 2 pairs, all alike: one verdict
    assert sum(1 for line in lines if line.startswith(("ALLOWED", "DENIED"))) == 1
    assert lines[2].endswith("TCP/9090")
    code, out, _ = run("check", SNAPSHOT, "--from", "shop/api", "--to", "shop/web", "--port",
                       "8080", "--expect", "allow")
    assert code == 1 and "DENIED" in out


def test_lint_calls_no_kube_dns_selector_a_typo(app: str) -> None:
    for extra in ((), ("--no-implied",)):
        code, out, _ = run("lint", app, *extra)
        assert "typo" not in out and "PW001" not in out, out
    # a real typo is still one
    typo = Path(app) / "app.yaml"
    typo.write_text(APP.replace("k8s-app: kube-dns", "k8s-app: kube-dsn"))
    code, out, _ = run("lint", app)
    assert code == 1 and "PW004" in out and "typo" in out and "PW001" in out


def test_implied_components_are_marked_in_matrix_and_explain(app: str) -> None:
    code, out, _ = run("matrix", app, "--port", "UDP/53")
    assert code == 0 and "kube-system/coredns (implied)" in out
    code, out, _ = run("explain", app)
    assert "kube-system/coredns  (Deployment, implied," in out
    code, out, _ = run("explain", app, "-o", "json")
    coredns = [e for e in json.loads(out)["endpoints"] if e["endpoint"] == "kube-system/coredns"]
    assert coredns[0]["implied"] is True
    code, out, _ = run("matrix", app, "--port", "UDP/53", "--no-implied")
    assert "coredns" not in out
    # the DNS policy now reads as allowed to the implied CoreDNS
    code, out, _ = run("matrix", app, "--port", "UDP/53", "-o", "json")
    model = json.loads(out)
    web, dns = model["endpoints"].index("shop/web"), model["endpoints"].index("kube-system/coredns")
    assert model["allowed"]["UDP/53"][web][dns] is True
    assert model["implied"] == ["kube-system/coredns"]
    code, out, _ = run("matrix", app, "--port", "UDP/53", "-o", "json", "--no-implied")
    assert "implied" not in json.loads(out)


def test_validate_counts_only_the_input(app: str) -> None:
    code, out, _ = run("validate", app)
    assert code == 0 and "1 namespace, 1 endpoint, 1 policy" in out  # no implied kube-dns


def test_matrix_services_are_destinations_after_dnat() -> None:
    code, out, _ = run("matrix", SNAPSHOT, "--services", "--port", "UDP/53", "--port", "TCP/80")
    assert code == 0
    section = out[out.index("Services, after DNAT"):].splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in section if line.startswith("  shop/")}
    # web may reach every api pod on its named targetPort; an api pod only itself (some)
    assert rows["shop/web-7d9f8b6c5d-q9m4z"] == ["✓", "✓"]
    assert rows["shop/api-5f7c9d6b4-a1b2c"] == ["✓", "▒"]
    assert "  2 svc/shop/api TCP/80 (10.96.44.7) → 2 pods on TCP/http" in section
    code, out, _ = run("matrix", SNAPSHOT, "--services", "--port", "TCP/80", "-o", "json")
    model = json.loads(out)
    api = only_one([s for s in model["services"] if s["service"] == "shop/api"])
    web = model["endpoints"].index("shop/web-7d9f8b6c5d-q9m4z")
    a1 = model["endpoints"].index("shop/api-5f7c9d6b4-a1b2c")
    assert api["allowed"][web] and not api["allowed"][a1] and api["someAllowed"][a1]
    assert api["podPorts"] == ["TCP/9090", "TCP/9090"]
    # without --services nothing changes
    code, out, _ = run("matrix", SNAPSHOT, "--port", "TCP/80", "-o", "json")
    assert "services" not in json.loads(out)
    code, _, err = run("matrix", SNAPSHOT, "--services", "-o", "csv")
    assert code == 2 and "only with -o table or -o json" in err


def only_one(items: list[dict[str, object]]) -> dict[str, object]:
    assert len(items) == 1
    return items[0]


def test_report_services_section(tmp_path: Path) -> None:
    code, out, _ = run("report", SNAPSHOT, "--services", "-o", "json", "--out", "-")
    assert code == 0
    services = {(s["service"], s["port"]): s for s in json.loads(out)["services"]}
    api = services[("shop/api", "TCP/80")]
    assert api["allowedFrom"] == ["shop/web-7d9f8b6c5d-q9m4z", "shop/web-7d9f8b6c5d-x7k2p"]
    assert api["someAllowedFrom"] == ["shop/api-5f7c9d6b4-a1b2c", "shop/api-5f7c9d6b4-pend1"]
    assert services[("default/kubernetes", "TCP/443")]["pods"] == []
    code, out, _ = run("report", SNAPSHOT, "-o", "json", "--out", "-")
    assert "services" not in json.loads(out)
    page = tmp_path / "r.html"
    code, _, _ = run("report", SNAPSHOT, "--services", "--out", str(page))
    html = page.read_text()
    assert code == 0 and 'id="services"' in html and 'href="#services"' in html
    assert "svc/shop/api TCP/80 (10.96.44.7) → 2 pods on TCP/http" in html


def test_focus_on_a_snapshot_controller_shows_its_pods() -> None:
    code, out, _ = run("explain", SNAPSHOT, "--focus", "shop/web", "-o", "json")
    assert code == 0
    assert [e["endpoint"] for e in json.loads(out)["endpoints"]] == [
        "shop/web-7d9f8b6c5d-q9m4z", "shop/web-7d9f8b6c5d-x7k2p"]
    code, out, _ = run("matrix", SNAPSHOT, "--focus", "shop/web-7d9f8b6c5d", "--port", "TCP/9090")
    rows = [line.split()[1] for line in out.splitlines() if line.startswith("  ") and "✓" in line]
    assert rows == ["shop/web-7d9f8b6c5d-q9m4z", "shop/web-7d9f8b6c5d-x7k2p"]
    code, _, err = run("matrix", SNAPSHOT, "--focus", "shop/migrate")
    assert code == 2 and "shop/migrate (Job) has no running pod" in err
    code, _, err = run("matrix", SNAPSHOT, "--focus", "shop/nope")
    assert code == 2 and "no endpoint 'shop/nope'" in err


def test_explain_focus_on_a_service() -> None:
    code, out, _ = run("explain", SNAPSHOT, "--focus", "svc/shop/api")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "svc/shop/api TCP/80 (10.96.44.7) → 2 pods on TCP/http"
    assert lines[1] == "  every pod, from: shop/web-7d9f8b6c5d-q9m4z, shop/web-7d9f8b6c5d-x7k2p"
    code, out, _ = run("explain", SNAPSHOT, "--focus", "svc/shop/api", "-o", "json")
    data = json.loads(out)
    assert [s["port"] for s in data["service"]] == ["TCP/80"]
    assert [e["endpoint"] for e in data["endpoints"]] == ["shop/api-5f7c9d6b4-a1b2c",
                                                         "shop/api-5f7c9d6b4-pend1"]
    code, _, err = run("explain", SNAPSHOT, "--focus", "svc/shop/nope")
    assert code == 2 and "no Service 'shop/nope'" in err
    code, _, err = run("explain", SNAPSHOT, "--focus", "svc/default/kubernetes")
    assert code == 2 and "selects no pod" in err


def test_a_service_named_in_the_namespace_of_n() -> None:
    code, out, _ = run("check", SNAPSHOT, "-n", "shop", "--from", "shop/web", "--to", "svc/api",
                       "--port", "80")
    assert code == 0 and out.startswith("shop/web (Deployment)")
    assert "svc/shop/api (10.96.44.7) TCP/80" in out
    code, _, err = run("check", SNAPSHOT, "--from", "shop/web", "--to", "svc/api", "--port", "80")
    assert code == 2 and "no Service 'default/api'" in err


def test_a_plain_check_of_the_implied_coredns_says_so(app: str) -> None:
    code, out, _ = run("check", app, "--from", "shop/web", "--to", "kube-system/coredns",
                       "--port", "UDP/53")
    assert code == 0
    assert out.splitlines()[0] == "ALLOWED shop/web -> kube-system/coredns (implied) UDP/53"
    _, out, _ = run("check", app, "--from", "shop/web", "--to", "kube-system/coredns",
                       "--port", "UDP/53", "-o", "json")
    assert json.loads(out)["implied"] == ["kube-system/coredns"]


def test_validate_counts_services() -> None:
    code, out, _ = run("validate", SNAPSHOT)
    assert code == 0 and out.endswith("6 endpoints, 4 policies, 3 Services\n")
    code, out, _ = run("validate", SNAPSHOT, "-o", "json")
    assert json.loads(out)["services"] == 3  # kubernetes, kube-dns, api; not the ExternalName


def test_an_address_of_the_service_cidr_that_no_service_has_is_flagged() -> None:
    """Policy never sees a ClusterIP: an unused one is not "outside the cluster", and check
    says its verdict judges it so only for want of a Service (issue 9)."""
    backup = str(ROOT / "examples" / "backup-ipblock")
    code, out, _ = run("check", backup, "--from", "data/db", "--to", "10.96.5.5",
                       "--port", "TCP/22")
    assert code == 0
    assert ("  note: 10.96.5.5 is in the Service CIDR 10.96.0.0/12 (--service-cidr) but no "
            "Service of the input has it") in out
    data = json.loads(run("check", backup, "--from", "data/db", "--to", "10.96.5.5",
                          "--port", "TCP/22", "-o", "json")[1])
    assert data["unassignedClusterIps"] == ["10.96.5.5"]
    # an address outside both CIDRs is outside the cluster: no note
    _, out, _ = run("check", backup, "--from", "data/db", "--to", "8.8.8.8", "--port", "TCP/22")
    assert "note:" not in out
    _, out, _ = run("check", backup, "--from", "data/db", "--to", "10.96.5.5", "--port",
                    "TCP/22", "--service-cidr", "172.20.0.0/16")
    assert "note:" not in out
