"""Every verb on inputs we did not write (tests/fixtures/wild: np-guard/netpol-analyzer's test
inputs and bad-path inputs, kubernetes-network-policy-recipes' policies): no traceback ever,
errors with file, line and field path, and nothing that a real input shows to be false."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
GOOD = sorted(str(p) for p in WILD.iterdir() if (p / "expected_connlist.txt").exists()
              and p.name != "anp_test_10")
BAD = sorted(str(p) for p in (WILD / "bad").glob("*.yaml"))
ANP_ONLY = str(WILD / "anp_banp_test_multiple_warnings")  # cluster policies, no NetworkPolicy

VERBS = [
    ["validate"], ["lint"], ["lint", "-o", "sarif"], ["matrix"], ["matrix", "-o", "json"],
    ["matrix", "--outside"], ["explain"], ["explain", "-o", "json"], ["exposure"],
    ["exposure", "-o", "json"], ["graph", "-o", "json"], ["graph", "-o", "dot"],
    ["report", "-o", "json"], ["dataplane", "compile"],
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"podwall {' '.join(args)} raised {result.exception!r}") \
            from result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("path", GOOD)
@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_every_verb_runs_on_real_inputs(verb: list[str], path: str) -> None:
    code, out, err = run(*verb, path)
    assert code in (0, 1), err  # lint may exit 1 on findings; nothing else may fail
    assert "Traceback" not in out + err
    if "json" in verb:
        json.loads(out)


@pytest.mark.parametrize("path", BAD)
@pytest.mark.parametrize("verb", [["validate"], ["matrix"], ["lint"], ["exposure"]], ids=" ".join)
def test_bad_inputs_are_errors_with_field_paths_or_valid(verb: list[str], path: str) -> None:
    code, out, err = run(*verb, path)
    assert "Traceback" not in out + err
    if path.endswith("anp_bad_path_test_1.yaml"):
        # Two AdminNetworkPolicies at one priority: netpol-analyzer calls it an error; the API
        # does not validate it (apis/v1alpha1 AdminNetworkPolicySpec.Priority: "The behavior is
        # undefined if two ANP objects have same priority."), so the API server stores both
        # and podwall reads them (lint's PW017 names the tie when both apply to some endpoint;
        # here none exists).
        assert code == 0, err
        return
    assert code == 1, out + err
    first = err.splitlines()[0]
    assert first.startswith(path + ":"), first
    assert "spec." in first, first


def test_bad_path_field_paths_are_the_api_servers() -> None:
    _, _, err = run("validate", str(WILD / "bad" / "anp_bad_path_test_4.yaml"))
    assert "anp_bad_path_test_4.yaml:7: AdminNetworkPolicy ingress-tcp: spec.subject: " \
        "Required value" in err
    _, _, err = run("validate", str(WILD / "bad" / "anp_bad_path_test_7.yaml"))
    assert "spec.egress[0].to[0] in body should have at most 1 properties" in err
    _, _, err = run("validate", str(WILD / "bad" / "bad_netpols_subdir1_netpols.yaml"))
    assert 'spec.ingress[2].from[0].ipBlock.cidr: Invalid value: "A"' in err


def test_without_networkpolicies_explain_does_not_call_everything_open() -> None:
    # With only cluster policies, the Baseline denies slytherin -> gryffindor: "every endpoint
    # may reach every other on every port" was false there.
    code, out, _ = run("explain", ANP_ONLY, "--no-implied")
    assert code == 0
    assert "every endpoint may reach every other" not in out
    assert "the cluster policies below decide" in out
    _, out, _ = run("explain", str(WILD / "recipes" / "07-web-allow-all-ns-monitoring.yaml"))
    assert "every endpoint may reach every other" not in out  # it has a NetworkPolicy


def test_without_networkpolicies_the_report_does_not_call_everything_open(
        tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    code, _, err = run("report", ANP_ONLY, "--no-implied", "-o", "html", "--out", str(page))
    assert code == 0, err
    html = page.read_text()
    assert "every endpoint may reach every other" not in html
    assert "No NetworkPolicies: cluster-admin policies" in html


def test_diff_sees_an_admin_deny_widened_from_one_host_to_a_network(tmp_path: Path) -> None:
    # Before the outside was cut at cluster policies' networks, this diff said "No
    # connectivity changes" and passed --fail-on removed.
    old = WILD / "anp_and_banp_using_networks_and_nodes_test"
    new = tmp_path / "new"
    shutil.copytree(old, new)
    policies = new / "policies.yaml"
    policies.write_bytes(policies.read_bytes().replace(b"104.154.164.160/32",
                                                       b"104.154.164.0/24"))
    code, out, _ = run("diff", str(old), str(new), "--no-implied", "--fail-on", "removed")
    assert code == 1, out
    assert ("- ns1/pod1 -> 104.154.164.0/24 except 104.154.164.160/32, 104.154.164.170/32 "
            "every port") in out
