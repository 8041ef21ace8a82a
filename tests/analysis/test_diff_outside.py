"""`diff` and the outside: a widened ipBlock is an added connection, named by its CIDRs."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from podwall.analysis.diff import diff_clusters
from podwall.cli.main import cli
from podwall.manifests import load_cluster

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "exposure"
OLD, NEW = str(FIXTURES / "db-old.yaml"), str(FIXTURES / "db-new.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_widened_ipblock_is_added_with_its_cidrs_and_fails_on_added() -> None:
    code, out, _ = run("diff", OLD, NEW, "--fail-on", "added")
    assert code == 1
    assert ("+ 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16, 192.0.2.10/32 -> prod/db TCP/5432  "
            "(allowed by prod/db ingress[0])") in out.splitlines()
    assert "1 line of connections with the outside added, 0 removed" in out


def test_narrowed_ipblock_is_removed_and_passes_fail_on_added() -> None:
    code, out, _ = run("diff", NEW, OLD, "--fail-on", "added")
    assert code == 0
    assert "- 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16, 192.0.2.10/32 -> prod/db TCP/5432" in out
    code, _, _ = run("diff", NEW, OLD, "--fail-on", "removed")
    assert code == 1


def test_same_ipblock_is_no_change() -> None:
    code, out, _ = run("diff", OLD, OLD, "--fail-on", "any")
    assert code == 0
    assert out == "no connectivity changes\n"


def test_external_answers_for_one_address() -> None:
    code, out, _ = run("diff", OLD, NEW, "--external", "203.0.113.9", "--fail-on", "added")
    assert code == 1
    assert "+ 203.0.113.9 -> prod/db TCP/5432  (allowed by prod/db ingress[0])" in out
    # the one host OLD already admitted: nothing changes for it with the outside
    code, out, _ = run("diff", OLD, NEW, "--external", "192.0.2.10", "-o", "json")
    assert json.loads(out)["outside"] == []
    code, _, err = run("diff", OLD, NEW, "--external", "10.244.1.10")
    assert code == 2 and "not outside the cluster: it is in the pod CIDR 10.244.0.0/16" in err
    # a ClusterIP is DNAT-ed to pods before policy: not outside either, and it says why
    code, _, err = run("diff", OLD, NEW, "--external", "10.96.0.10")
    assert code == 2
    assert "not outside the cluster: it is in the Service CIDR 10.96.0.0/12" in err
    assert "check --to 10.96.0.10" in err
    code, _, err = run("diff", OLD, NEW, "--external", "172.20.0.10",
                       "--service-cidr", "172.20.0.0/16")
    assert code == 2 and "Service CIDR 172.20.0.0/16 (--service-cidr)" in err
    code, _, err = run("diff", OLD, NEW, "--external", "nope")
    assert code == 2 and "not an IP address" in err


def test_a_pod_admitted_by_its_ip_is_never_shown_as_a_rule_for_pods() -> None:
    result = diff_clusters(load_cluster([OLD]).cluster, load_cluster([NEW]).cluster)
    (coredns,) = [c for c in result.changes if c.src == "kube-system/coredns"]
    assert "only by its IP 10.96.0.53, in ipBlock 0.0.0.0/0 except 10.244.0.0/16" in \
        coredns.reason
    (outside,) = result.outside
    assert outside.cidrs[0] == "0.0.0.0/5" and "192.0.2.10/32" not in outside.cidrs
    assert outside.to_json()["ports"] == ["TCP/5432"]


def test_json_and_md_carry_the_outside() -> None:
    _, out, _ = run("diff", OLD, NEW, "-o", "json")
    data = json.loads(out)
    assert data["summary"]["outsideAdded"] == 1
    assert data["outside"][0]["direction"] == "ingress"
    _, out, _ = run("diff", OLD, NEW, "-o", "md")
    assert "+ 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16, 192.0.2.10/32 -> prod/db TCP/5432" in out


def _two_pods(rule: str) -> str:
    pods = "".join(f"""\
---
apiVersion: v1
kind: Pod
metadata: {{name: {n}, namespace: x, labels: {{app: {n}}}}}
spec: {{containers: [{{name: c, image: i}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {n}-out, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: {n}}}}}
  policyTypes: [Egress]
{rule}""" for n in ("a", "b"))
    return "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n" + pods


def test_lines_that_change_alike_by_different_policies_name_each_ones_rule(
        tmp_path: Path) -> None:
    """a and b both gain the internet on TCP/443, each by its own policy: two lines, each with
    its rule (merging them named the first one's rule for both)."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(_two_pods(""))
    new.write_text(_two_pods("  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}], "
                             "ports: [{port: 443}]}]\n"))
    result = diff_clusters(load_cluster([str(old)]).cluster, load_cluster([str(new)]).cluster)
    lines = [c.line() for c in result.outside]
    assert lines == [
        "+ x/a -> 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16 TCP/443  "
        "(allowed by x/a-out egress[0])",
        "+ x/b -> 0.0.0.0/0 except 10.96.0.0/12, 10.244.0.0/16 TCP/443  "
        "(allowed by x/b-out egress[0])"]
