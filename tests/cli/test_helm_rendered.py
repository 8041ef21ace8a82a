"""A rendered Helm release end to end (tests/fixtures/helm: real `helmfile template` output of
bitnami postgresql, keycloak and redis charts, with `# Source:` comments, `---` separators,
templated labels, `namespace: null`, a selector label `null` and `egress:` left empty)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from podwall.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
CHART = str(ROOT / "tests" / "fixtures" / "helm" / "mijnbureau-demo.yaml")
DB, KC, CLI_JOB = ("default/keycloak-cluster-rw", "default/keycloak-keycloak",
                   "default/keycloak-keycloak-keycloak-config-cli")
MINIO, CONSOLE, REDIS = ("default/nextcloud-minio", "default/nextcloud-minio-console",
                         "default/nextcloud-redis-master")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_validate_reads_every_document_as_the_api_server_would() -> None:
    code, out, err = run("validate", CHART, "-v")
    assert code == 0, err
    assert out.startswith("valid: 0 errors, 0 warnings in 29 documents; 1 namespace, "
                          "6 endpoints, 8 policies, 9 Services")
    # the kinds podwall does not use are listed, never errors
    assert "PodDisruptionBudget keycloak-cluster-rw: skipped" in err
    assert "Ingress keycloak-keycloak: skipped" in err


def test_namespace_null_and_an_empty_egress_read_as_the_api_server_stores_them() -> None:
    data = json.loads(run("explain", CHART, "-o", "json", "--no-implied")[1])
    policies = {p["policy"]: p for p in data["policies"]}
    # `namespace: null`: the namespace it is applied to (default here)
    assert policies["default/keycloak-keycloak-cli"]["selects"] == [CLI_JOB]
    # `egress:` with no value under policyTypes [Ingress, Egress]: no egress rule, deny all
    redis = policies["default/nextcloud-redis"]
    assert redis["isolates"] == ["egress", "ingress"]
    assert not [r for r in redis["rules"] if r["direction"] == "egress"]
    _, out, _ = run("explain", CHART, "--no-implied")
    assert "egress: no rules, so it admits nothing (egress deny)" in out
    # `kubernetes.io/metadata.name: null` is "", which names no namespace
    assert ('ingress[1] admits from all pods in no namespace (kubernetes.io/metadata.name="": '
            "a namespace name is never empty) or pods with") in out


def test_check_and_matrix_answer_through_the_charts_services() -> None:
    code, out, _ = run("check", CHART, "--from", KC, "--to", "svc/default/keycloak-cluster-rw",
                       "--port", "5432")
    assert code == 0
    assert out.splitlines()[:2] == [
        "svc/default/keycloak-cluster-rw (10.101.17.135, assigned) TCP/5432 → 1 pod on "
        "TCP/tcp-postgresql: default/keycloak-cluster-rw",
        f"ALLOWED {KC} -> {DB} TCP/5432"]
    assert f"ingress at {DB}: allowed by {DB} ingress[1]" in out
    data = json.loads(run("matrix", CHART, "-o", "json", "--port", "TCP/5432",
                          "--no-implied")[1])
    assert data["endpoints"] == [DB, KC, CLI_JOB, MINIO, CONSOLE, REDIS]
    # postgres admits keycloak (name=keycloak) and the config job (same label); keycloak's own
    # ingress has no 5432; minio and redis are isolated for ingress and admit other ports
    assert data["allowed"]["TCP/5432"] == [
        [True, False, False, False, False, False], [True, True, True, False, False, False],
        [True, False, True, False, False, False], [False, False, False, True, False, False],
        [False, False, False, False, True, False], [False, False, False, False, False, True]]
    # a Deployment behind its Service, by the named targetPort `api`
    code, out, _ = run("check", CHART, "--from", CONSOLE, "--to", "svc/default/nextcloud-minio",
                       "--port", "9000")
    assert out.splitlines()[:2] == [
        "svc/default/nextcloud-minio (10.96.75.178, assigned) TCP/9000 → 1 pod on TCP/api: "
        f"{MINIO}", f"ALLOWED {CONSOLE} -> {MINIO} TCP/9000"]


def test_an_empty_egress_denies_everything_and_lint_says_dns_fails() -> None:
    """redis renders `egress:` with no value under policyTypes [Ingress, Egress]: no egress
    rule, so the redis pod may open nothing, not even DNS."""
    code, out, _ = run("check", CHART, "--from", REDIS, "--to", "8.8.8.8", "--port", "443")
    assert code == 0 and out.startswith(f"DENIED  {REDIS} -> 8.8.8.8 TCP/443")
    assert "isolated by default/nextcloud-redis; no rule admits 8.8.8.8" in out
    code, out, _ = run("lint", CHART)
    assert code == 1
    assert (f"error PW001 NetworkPolicy default/nextcloud-redis: egress of {REDIS} is isolated "
            "and no rule admits DNS (UDP/53 or TCP/53) to kube-system/coredns (implied): name "
            "resolution fails") in out


def test_exposure_names_each_groups_own_rules() -> None:
    """Two endpoints that may open everything to the outside by two different policies are two
    lines, each naming its own rule (one line named only the first one's)."""
    code, out, _ = run("exposure", CHART)
    assert code == 0
    assert (f"  {KC} -> 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0 every port  "
            f"({KC} egress[0])") in out
    assert (f"  {CLI_JOB} -> 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0 every port  "
            "(default/keycloak-keycloak-cli egress[0])") in out
    assert (f"  {DB} -> 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0 TCP/53, UDP/53  "
            f"({DB} egress[0])") in out
    assert ("0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16; ::/0 -> kube-system/coredns "
            "(implied) every port") in out


def test_lint_says_an_unset_template_value_is_not_a_typo() -> None:
    code, out, _ = run("lint", CHART, "--no-implied")
    assert code == 1  # redis's DNS (PW001) is an error
    assert ("namespaceSelector {kubernetes.io/metadata.name=} selects nothing (no namespace in "
            "the input has those labels): kubernetes.io/metadata.name has an empty value (a "
            "template value left unset renders `null`, which the API server reads as \"\")"
            ) in out
    assert "fix: set the value (e.g. in the chart's values), or remove the selector" in out
    # a selector of pods the excerpt does not hold is still "a typo?"
    assert ("podSelector {nextcloud-redis-client=true} selects nothing in namespace default "
            "(a typo in a label?)") in out


def test_explain_marks_the_implied_kube_dns_in_its_lists() -> None:
    _, out, _ = run("explain", CHART)
    assert f"  reaches on UDP/53: {CLI_JOB}, kube-system/coredns (implied)" in out


def test_a_chart_directory_is_still_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "np.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        "  name: {{ include \"demo.fullname\" . }}\n")
    code, _, err = run("lint", str(tmp_path))
    assert code == 1 and err.count("\n") == 2, err  # the one error and the summary
    assert f"helm template RELEASE {tmp_path} | podwall lint -" in err
