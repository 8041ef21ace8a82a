"""The shared view options on every verb: -n (kubectl's two meanings), -A, --focus, --from, --to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from podwall.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
THREE_TIER = str(ROOT / "examples" / "three-tier")
ISOLATION = str(ROOT / "examples" / "namespace-isolation")


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _matrix_endpoints(*args: str) -> list[str]:
    code, out, _ = run("matrix", THREE_TIER, "-o", "json", *args)
    assert code == 0
    endpoints: list[str] = json.loads(out)["endpoints"]
    return endpoints


def test_namespace_given_filters_what_is_shown_and_absent_shows_all() -> None:
    everything = ["kube-system/coredns", "shop/api", "shop/db", "shop/web"]
    assert _matrix_endpoints() == everything
    # -n kube-system: pairs with an end in kube-system, so every endpoint is in some pair
    _, out, _ = run("matrix", THREE_TIER, "-n", "kube-system", "-o", "csv")
    rows = out.splitlines()[1:]
    assert rows and all("kube-system/" in r for r in rows)
    assert len(rows) == 5 * (2 * 4 - 1)  # 5 ports x pairs with coredns at one end
    # -A shows everything again, even with -n
    _, out_all, _ = run("matrix", THREE_TIER, "-n", "kube-system", "-A", "-o", "csv")
    assert len(out_all.splitlines()) == 1 + 5 * 16


def test_namespace_still_names_objects_without_one() -> None:
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\n  labels: {app: x}\n"
           "spec:\n  containers: [{name: c, image: i, ports: [{containerPort: 80}]}]\n")
    code, out, _ = run("explain", "-", "-n", "team", "-o", "json", input=pod)
    assert code == 0
    assert [e["endpoint"] for e in json.loads(out)["endpoints"]] == ["team/lone"]
    code, out, _ = run("explain", "-", "-o", "json", input=pod)
    assert [e["endpoint"] for e in json.loads(out)["endpoints"]] == ["default/lone",
                                                                     "kube-system/coredns"]


def test_focus_from_to_on_matrix_and_explain() -> None:
    code, out, _ = run("matrix", THREE_TIER, "--focus", "shop/web", "-o", "csv",
                       "--port", "TCP/8080")
    assert code == 0
    assert all("shop/web" in line for line in out.splitlines()[1:])
    code, out, _ = run("matrix", THREE_TIER, "--from", "app=web", "--to", "app in (api,db)",
                       "-o", "csv", "--port", "TCP/8080")
    assert out.splitlines()[1:] == ["TCP/8080,shop/web,shop/api,true",
                                    "TCP/8080,shop/web,shop/db,false"]
    code, out, _ = run("explain", THREE_TIER, "--focus", "shop/db")
    assert code == 0 and "Endpoints (1)" in out and "\nshop/db  (" in out
    assert "\nshop/db-allow-api  [" in out and "shop/web-to-api" not in out  # policies of db


def test_bad_selector_and_unknown_focus_are_usage_errors() -> None:
    code, _, err = run("explain", THREE_TIER, "--to", "app in (web")
    assert code == 2 and "unbalanced '('" in err
    for verb in ("matrix", "explain", "lint", "graph"):
        code, _, err = run(verb, THREE_TIER, "--focus", "shop/nope")
        assert code == 2 and "no endpoint 'shop/nope'" in err and "Traceback" not in err, verb
    code, _, err = run("diff", THREE_TIER, THREE_TIER, "--focus", "shop/nope")
    assert code == 2 and "no endpoint 'shop/nope'" in err


@pytest.mark.parametrize("verb", ["matrix", "explain", "diff", "lint", "graph", "report"])
def test_every_understanding_verb_takes_the_view_options(verb: str) -> None:
    code, out, _ = run(verb, "--help")
    assert code == 0
    for option in ("--namespace", "--all-namespaces", "--focus", "--from", "--to"):
        assert option in out, (verb, option)


def test_lint_and_validate_show_only_the_namespace_given() -> None:
    _, out, _ = run("lint", ISOLATION, "-o", "json")
    assert {f["object"] for f in json.loads(out)["findings"]} >= {"Namespace team-a",
                                                                 "Namespace team-b"}
    _, out_a, _ = run("lint", ISOLATION, "-n", "team-a", "-o", "json")
    assert {f["object"] for f in json.loads(out_a)["findings"]} == {"Namespace team-a"}
    _, out_f, _ = run("lint", ISOLATION, "--focus", "team-b/api", "-o", "json")
    assert {f["object"] for f in json.loads(out_f)["findings"]} == {"Namespace team-b"}
    bad = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, "
           "namespace: one}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n")
    code, out, err = run("validate", "-", "-n", "two", input=bad)
    assert code == 1 and "Sideways" not in err  # judged, not shown
    code, out, err = run("validate", "-", "-n", "one", input=bad)
    assert code == 1 and "Sideways" in err


def test_graph_namespace_draws_only_that_namespace() -> None:
    code, out, _ = run("graph", THREE_TIER, "-n", "kube-system", "--to", "k8s-app=kube-dns",
                       "--from", "k8s-app=kube-dns")
    assert code == 0 and "coredns" in out and "shop" not in out
