"""`podwall diff`: class-level comparison, reasons, collapsing, outputs, CI gate and --git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.analysis.diff import ADDED, REMOVED, Diff, diff_clusters
from podwall.analysis.render.diff import diff_md
from podwall.cli.main import cli
from podwall.engine import Engine
from podwall.manifests import load_cluster
from podwall.model import (
    Cluster,
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
from tests.golden import assert_golden
from tests.strategies import clusters

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = "tests/fixtures/diff/old", "tests/fixtures/diff/new"
V1, V2 = "examples/three-tier", "examples/three-tier-v2"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_three_tier_golden(fmt: str, ext: str) -> None:
    code, out, _ = run("diff", V1, V2, "-o", fmt)
    assert code == 0
    assert_golden(f"diff/three-tier-v2.{ext}", out)


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("md", "md")])
def test_fixture_golden(fmt: str, ext: str) -> None:
    code, out, _ = run("diff", OLD, NEW, "-o", fmt)
    assert code == 0
    assert_golden(f"diff/fixture.{ext}", out)


def test_lines_reasons_and_collapse() -> None:
    _, out, _ = run("diff", OLD, NEW, "--no-implied")
    lines = out.splitlines()
    assert lines[0].startswith("endpoint removed: staging/legacy")
    added = next(i for i, line in enumerate(lines) if line.startswith("endpoint added: "))
    assert lines[added].startswith("endpoint added: staging/batch")
    # an added endpoint's connections are listed under it, with what allows them
    assert lines[added + 1].startswith("+ prod/* -> staging/batch TCP/80,5432  (egress at the "
                                       "source not isolated; ingress at the destination not")
    assert "- staging/legacy -> prod/api TCP/80  (was allowed by prod/api-allow ingress[0]; " \
        "egress at the source not isolated)" in lines
    assert ("+ staging/worker -> prod/db TCP/5432  (allowed by prod/db-allow ingress[0])"
            in lines)
    assert ("- staging/* -> prod/api TCP/80  (no longer admitted: prod/api-allow removed)"
            in lines)


def test_reverse_names_changed_policy() -> None:
    _, out, _ = run("diff", NEW, OLD)
    assert "- staging/worker -> prod/db TCP/5432  (no longer admitted: prod/db-allow changed)" in out
    assert "+ staging/* -> prod/api TCP/80  (allowed by prod/api-allow ingress[0])" in out


def test_identical_inputs_have_no_changes() -> None:
    code, out, _ = run("diff", V1, V1, "--fail-on", "any")
    assert code == 0 and out == "no connectivity changes\n"


def test_agrees_with_engine_pair_by_pair() -> None:
    old = load_cluster([OLD]).cluster
    new = load_cluster([NEW]).cluster
    result = diff_clusters(old, new)
    common = sorted({e.key for e in old.endpoints} & {e.key for e in new.endpoints})
    old_engine, new_engine = Engine(old), Engine(new)
    expected = {"added": 0, "removed": 0}
    for port in result.ports:
        for s in common:
            for d in common:
                if s == d:
                    continue
                before = old_engine.check(s, d, port).allowed
                after = new_engine.check(s, d, port).allowed
                if after and not before:
                    expected["added"] += 1
                elif before and not after:
                    expected["removed"] += 1
    assert (result.added, result.removed) == (expected["added"], expected["removed"])
    assert sum(c.count for c in result.changes if c.change == "added") == result.added


def test_fail_on_exit_codes() -> None:
    assert run("diff", OLD, NEW)[0] == 0
    assert run("diff", OLD, NEW, "--fail-on", "added")[0] == 1
    assert run("diff", OLD, NEW, "--fail-on", "removed")[0] == 1
    assert run("diff", OLD, NEW, "--fail-on", "any")[0] == 1
    # v2 closes web to in-cluster clients: coredns -> web TCP/80 goes away.
    assert run("diff", V1, V2, "--fail-on", "removed")[0] == 1
    assert run("diff", V1, V2, "--fail-on", "added")[0] == 1


def test_port_option_restricts() -> None:
    _, out, _ = run("diff", OLD, NEW, "--port", "TCP/80", "-o", "json")
    payload = json.loads(out)
    assert payload["ports"] == ["TCP/80"]
    assert {c["change"] for c in payload["changes"]} == {"removed"}


def test_needs_two_paths() -> None:
    code, _, err = run("diff", OLD)
    assert code == 2 and "OLD and NEW" in err


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_revision_against_working_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / OLD, repo / "k8s")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                       cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "old")
    shutil.rmtree(repo / "k8s")
    shutil.copytree(ROOT / NEW, repo / "k8s")
    monkeypatch.chdir(repo)
    code, out, _ = run("diff", "--git", "HEAD", "k8s", "--fail-on", "removed")
    assert code == 1
    assert "- staging/* -> prod/api TCP/80  (no longer admitted: prod/api-allow removed)" in out
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    code, out2, _ = run("diff", "--git", "HEAD", "../k8s")
    assert code == 0 and out2 == out
    code, _, err = run("diff", "--git", "no-such-rev", "../k8s")
    assert code == 2 and "unknown revision" in err
    monkeypatch.chdir(repo)
    (repo / "extra").mkdir()
    shutil.copy(ROOT / OLD / "workloads.yaml", repo / "extra" / "w.yaml")
    code, out3, _ = run("diff", "--git", "HEAD", "extra")  # not at HEAD: everything is added
    assert code == 0 and "endpoint added: prod/api" in out3


def test_git_revision_never_follows_links_out_of_the_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A symlink at REV is not extracted: only directories and regular files are."""
    outside = tmp_path / "outside.yaml"
    shutil.copy(ROOT / OLD / "workloads.yaml", outside)
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / OLD, repo / "k8s")
    (repo / "k8s" / "linked.yaml").symlink_to(outside)
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "old"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                       cwd=repo, check=True, capture_output=True)
    (repo / "k8s" / "linked.yaml").unlink()
    monkeypatch.chdir(repo)
    code, out, err = run("diff", "--git", "HEAD", "k8s", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["changes"] == [] and json.loads(out)["endpoints"] == []


# -- semantics: the lines say exactly what changes, pair by pair ------------------------------


def expand(label: str, keys: set[str]) -> set[str]:
    """The endpoints (among `keys`) a line end names: ns/name, ns/*, ns/prefix*, ns/{a,b}."""
    ns, _, rest = label.partition("/")
    if rest.startswith("{"):
        return {f"{ns}/{name}" for name in rest[1:-1].split(",")} & keys
    if rest.endswith("*"):
        return {k for k in keys if k.startswith(f"{ns}/{rest[:-1]}")}
    return {label} & keys


def brute_force(old: Cluster, new: Cluster,
                ports: tuple[PortQuery, ...]) -> dict[tuple[str, str, PortQuery], str]:
    common = sorted({e.key for e in old.endpoints} & {e.key for e in new.endpoints})
    before, after = Engine(old), Engine(new)
    out: dict[tuple[str, str, PortQuery], str] = {}
    for port in ports:
        for s in common:
            for d in common:
                if s == d:
                    continue
                was, now = before.check(s, d, port).allowed, after.check(s, d, port).allowed
                if was != now:
                    out[(s, d, port)] = ADDED if now else REMOVED
    return out


def assert_exact(old: Cluster, new: Cluster, result: Diff) -> None:
    common = {e.key for e in old.endpoints} & {e.key for e in new.endpoints}
    expected = brute_force(old, new, result.ports)
    seen: dict[tuple[str, str, PortQuery], str] = {}
    old_engine, new_engine = Engine(old), Engine(new)
    for change in result.changes:
        srcs, dsts = expand(change.src, common), expand(change.dst, common)
        pairs = [(s, d) for s in srcs for d in dsts if s != d]
        assert len(pairs) * len(change.ports) == change.count, change
        for s, d in pairs:
            for port in change.ports:
                assert (s, d, port) not in seen, ("two lines name", s, d, port)
                seen[(s, d, port)] = change.change
                # the reason's rules are exactly what the scalar check says for this pair
                if change.change == ADDED:
                    now = new_engine.check(s, d, port)
                    assert change.rules == (*now.egress.admitted_by, *now.ingress.admitted_by)
                else:
                    was, now = old_engine.check(s, d, port), new_engine.check(s, d, port)
                    rules = tuple(r for was_side, now_side in ((was.egress, now.egress),
                                                               (was.ingress, now.ingress))
                                  if not now_side.allowed for r in was_side.admitted_by)
                    assert change.rules == rules
    assert seen == expected
    assert result.added == sum(1 for v in expected.values() if v == ADDED)
    assert result.removed == sum(1 for v in expected.values() if v == REMOVED)


def assert_endpoints_exact(old: Cluster, new: Cluster, result: Diff) -> None:
    described: dict[tuple[str, str], tuple[int, int]] = {}
    for change in result.endpoints:
        side, other = (new, old) if change.change == ADDED else (old, new)
        only = {e.key for e in side.endpoints} - {e.key for e in other.endpoints}
        named = expand(change.endpoint, only)
        assert len(named) == change.count
        for key in named:
            described[(change.change, key)] = (change.reaches, change.reached_by)
    for kind, side, other in ((REMOVED, old, new), (ADDED, new, old)):
        engine = Engine(side)
        keys = [e.key for e in side.endpoints]
        for key in sorted({e.key for e in side.endpoints} - {e.key for e in other.endpoints}):
            reaches = sum(1 for d in keys if d != key and any(
                engine.check(key, d, p).allowed for p in result.ports))
            reached_by = sum(1 for s in keys if s != key and any(
                engine.check(s, key, p).allowed for p in result.ports))
            assert described.pop((kind, key)) == (reaches, reached_by), key
    assert not described


@settings(max_examples=120, deadline=None)
@given(clusters(max_endpoints=7, max_policies=4), clusters(max_endpoints=7, max_policies=4))
def test_lines_are_exactly_the_changed_pairs(old: Cluster, new: Cluster) -> None:
    result = diff_clusters(old, new)
    assert_exact(old, new, result)
    assert_endpoints_exact(old, new, result)


@settings(max_examples=60, deadline=None)
@given(clusters(max_endpoints=7, max_policies=4), st.data())
def test_policy_edits_only(old: Cluster, data: st.DataObject) -> None:
    """Same endpoints, policies dropped: every change is a removal-or-opening of a rule."""
    keep = data.draw(st.lists(st.booleans(), min_size=len(old.policies),
                              max_size=len(old.policies)))
    new = build_cluster(old.namespaces.values(), old.endpoints,
                        [p for p, k in zip(old.policies, keep, strict=True) if k],
                        pod_cidr=old.pod_cidr)
    result = diff_clusters(old, new)
    assert not result.endpoints
    assert_exact(old, new, result)


# -- collapsing -----------------------------------------------------------------------------


def _replicas(ns: str, prefix: str, n: int, labels: dict[str, str]) -> list[Endpoint]:
    return [Endpoint(ns, f"{prefix}{i}", Labels(labels)) for i in range(n)]


def _deny_ingress(ns: str, selector: dict[str, str]) -> NetworkPolicy:
    return NetworkPolicy(ns, "deny", LabelSelector.of(selector), frozenset({Direction.INGRESS}))


def test_collapses_namespaces_globs_and_brace_lists() -> None:
    eps = [*_replicas("prod", "api-7d9f-", 3, {"app": "api"}),
           *_replicas("prod", "db-", 1, {"app": "db"}),
           *_replicas("staging", "web-", 2, {"app": "web"}),
           Endpoint("staging", "job", Labels({"app": "job"}))]
    nss = [Namespace.make("prod"), Namespace.make("staging")]
    old = build_cluster(nss, eps, [])
    new = build_cluster(nss, eps, [_deny_ingress("prod", {"app": "api"})])
    result = diff_clusters(old, new, [PortQuery(Protocol.TCP, 80)])
    lines = {(c.src, c.dst) for c in result.changes}
    # everyone -> the api replicas (`api-7d9f-*`): prod/db and the replicas among themselves
    # (a pod never counts to itself) make all of prod; and all of staging
    assert lines == {("prod/*", "prod/api-7d9f-*"), ("staging/*", "prod/api-7d9f-*")}
    assert result.removed == 3 * 2 + 3 + 3 * 3
    assert {c.reason for c in result.changes} == {
        "no longer admitted: ingress of the destination now isolated by prod/deny (added)"}
    assert_exact(old, new, result)


def test_whole_namespace_on_both_ends() -> None:
    eps = [*_replicas("a", "x", 3, {"k": "v"}), *_replicas("b", "y", 2, {"k": "w"})]
    nss = [Namespace.make("a"), Namespace.make("b")]
    old = build_cluster(nss, eps, [])
    deny = NetworkPolicy("b", "deny", LabelSelector(), frozenset({Direction.INGRESS}))
    new = build_cluster(nss, eps, [deny])
    result = diff_clusters(old, new, [PortQuery(Protocol.TCP, 80)])
    assert [(c.src, c.dst, c.count) for c in result.changes] == [
        ("a/*", "b/*", 6), ("b/*", "b/*", 2)]


def test_glob_only_when_exact_else_brace_list() -> None:
    # web-1 and web-2 change, web-10 does not (other labels): `web-*` would lie
    eps = [Endpoint("n", "web-1", Labels({"app": "web"})),
           Endpoint("n", "web-2", Labels({"app": "web"})),
           Endpoint("n", "web-10", Labels({"app": "other"})),
           Endpoint("n", "client", Labels({"app": "client"}))]
    nss = [Namespace.make("n")]
    old = build_cluster(nss, eps, [])
    new = build_cluster(nss, eps, [_deny_ingress("n", {"app": "web"})])
    result = diff_clusters(old, new, [PortQuery(Protocol.TCP, 80)])
    ends = {c.dst for c in result.changes}
    assert ends == {"n/{web-1,web-2}"}
    assert_exact(old, new, result)


def test_reason_names_the_admitting_rule_and_opened_side() -> None:
    eps = [Endpoint("n", "a", Labels({"app": "a"})), Endpoint("n", "b", Labels({"app": "b"}))]
    nss = [Namespace.make("n")]
    deny = _deny_ingress("n", {"app": "b"})
    allow = NetworkPolicy("n", "allow-a", LabelSelector.of({"app": "b"}),
                          frozenset({Direction.INGRESS}),
                          ingress=(Rule((Peer(pod_selector=LabelSelector.of({"app": "a"})),),
                                        (PolicyPort(Protocol.TCP, 80),)),))
    port = [PortQuery(Protocol.TCP, 80)]
    opened = diff_clusters(build_cluster(nss, eps, [deny]), build_cluster(nss, eps, []), port)
    assert [c.reason for c in opened.changes] == [
        "ingress of the destination no longer isolated (n/deny removed)"]
    allowed = diff_clusters(build_cluster(nss, eps, [deny]),
                            build_cluster(nss, eps, [deny, allow]), port)
    assert [(c.src, c.dst, c.reason) for c in allowed.changes] == [
        ("n/a", "n/b", "allowed by n/allow-a ingress[0]")]


def test_markdown_is_cut_to_fit_a_comment() -> None:
    eps = [Endpoint(f"ns{i}", f"pod{j}", Labels({"j": str(j)})) for i in range(6)
           for j in range(6)]
    nss = [Namespace.make(f"ns{i}") for i in range(6)]
    deny = [NetworkPolicy(f"ns{i}", "deny", LabelSelector(), frozenset({Direction.INGRESS}))
            for i in range(6)]
    result = diff_clusters(build_cluster(nss, eps, []), build_cluster(nss, eps, deny),
                           [PortQuery(Protocol.TCP, 80)])
    full = diff_md(result)
    cut = diff_md(result, budget=2000)
    assert "more lines not shown" not in full
    assert len(cut) < 2600 and "more lines not shown" in cut
    assert cut.count("```") == 2
