"""Comparing and judging inputs: `diff` (what changes between two inputs) and `lint`."""

from __future__ import annotations

import io
import ipaddress
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from podwall.cli.common import (
    EXIT_NO,
    PORT_OR_NAME,
    audit_option,
    chosen_ports,
    fail,
    full_option,
    handles_errors,
    input_options,
    load,
    output_option,
    print_audit_note,
    view_options,
)
from podwall.model import NamedPortQuery, PortQuery

if TYPE_CHECKING:
    from podwall.analysis.filters import View


def _git(args: list[str], cwd: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        fail("--git needs the git command, which is not installed")


def _extract(rev: str, paths: tuple[str, ...], into: str) -> list[str]:
    """PATH... as they were at REV, extracted under `into` (read-only git: archive, cat-file)."""
    probe = _git(["rev-parse", "--show-toplevel"], os.getcwd())
    if probe.returncode != 0:
        fail("--git: the current directory is not inside a git repository")
    top = os.path.realpath(probe.stdout.decode().strip())
    if _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top).returncode != 0:
        fail(f"--git: unknown revision {rev!r}")
    relative: list[str] = []
    for p in paths:
        rel = os.path.relpath(os.path.realpath(p), top)
        if rel.startswith(".."):
            fail(f"--git: {p} is outside the repository {top}")
        rel = "." if rel == "." else rel.replace(os.sep, "/")
        spec = f"{rev}:{'' if rel == '.' else rel}"
        if _git(["cat-file", "-e", spec], top).returncode == 0:
            relative.append(rel)  # a path that REV does not have is an empty old side
    if not relative:
        return []
    archive = _git(["archive", "--format=tar", rev, "--", *relative], top)
    if archive.returncode != 0:
        fail(f"--git: git archive failed: {archive.stderr.decode().strip()}")
    _extract_regular_files(archive.stdout, Path(into))
    return [str(Path(into) / rel) for rel in relative]


def _extract_regular_files(tar_bytes: bytes, into: Path) -> None:
    """Extract the directories and regular files of a tar archive, nothing else.

    Links and devices are skipped and every name must stay below `into`: what tarfile's
    "data" filter does, which Debian 12's Python 3.11.2 does not have yet (3.11.4 added it).
    """
    root = into.resolve()
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar:
            target = (root / member.name).resolve()
            if not target.is_relative_to(root):
                continue
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                source = tar.extractfile(member)
                if source is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(source.read())


def _empty_result() -> Any:
    from podwall.manifests import LoadResult
    from podwall.model import build_cluster

    return LoadResult(build_cluster([], [], []), (), 0)


@click.command("diff")
@input_options
@view_options
@full_option
@click.option("--git", "rev", metavar="REV",
              help="Compare PATH... at git revision REV with PATH... in the working tree.")
@click.option("--cluster", "live", is_flag=True,
              help="Compare the live cluster with the cluster after `kubectl apply -f PATH...`: "
                   "what applying PATH... would change.")
@click.option("--port", "ports", type=PORT_OR_NAME, multiple=True,
              help="Repeatable. Default: every port either input names. A name (http) is "
                   "resolved at each destination, in OLD and in NEW on its own containers.")
@click.option("--external", "externals", multiple=True, metavar="IP",
              help="Repeatable. Judge connections with the outside for this address only "
                   "(default: every outside address, as blocks of CIDRs).")
@click.option("--fail-on", type=click.Choice(["added", "removed", "any"]),
              help="Exit 1 when connections (or endpoints) of that kind change (a CI gate).")
@audit_option
@output_option("text", "json", "md", default="text")
@handles_errors
def diff(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
         view: View, rev: str | None, live: bool, ports: tuple[PortQuery | NamedPortQuery, ...],
         externals: tuple[str, ...], fail_on: str | None, audit: bool,
         output: str) -> None:
    """What connections change between OLD and NEW, and which rules make them change.

    PATHS are OLD NEW (files or directories), or with --git REV: PATH... compared between
    revision REV and the working tree, or with --cluster: the live cluster (kubeconfig, as
    kubectl) compared with what it would be after `kubectl apply -f PATH...`.
    Lines: `+` a connection that NEW allows and OLD did not, `-` one that NEW no longer
    allows, each with the rules behind it. Ends are collapsed when
    exact: `ns/*` (the whole namespace), `ns/api-7d9f-*` (names with that prefix), `ns/{a,b}`.
    Endpoints only one side has are summarised first. Connections with addresses outside the
    cluster name the addresses (`+ 0.0.0.0/0 except 10.0.0.0/8 -> prod/db TCP/5432`): a widened
    ipBlock is an added connection (--fail-on added fails on it); --external IP asks about one
    address. Beyond 200 lines, text shows connections per namespace pair (--full: every line);
    -n, --focus, --from, --to narrow what is shown.
    Policies annotated podwall.io/enforcement: audit are not enforced on either side (one that
    becomes enforced shows what it closes); --audit compares the audit views (both sides with
    them enforced), and a note on stderr says whether that differs from the enforced diff.

    \b
    Examples:
      podwall diff examples/three-tier examples/three-tier-v2
      podwall diff --git origin/main k8s/ -o md --fail-on removed
      podwall diff old/ new/ -n prod --to app=db
      podwall diff --cluster --context prod k8s/ --fail-on removed
      podwall diff old/ new/ --audit       # as if podwall.io/enforcement: audit were enforced
      podwall diff old/ new/ --external 203.0.113.9 --fail-on added
    """
    from podwall.analysis.audit import view_of
    from podwall.analysis.diff import diff_clusters
    from podwall.analysis.render.diff import DETAIL_LIMIT, diff_json, diff_md, diff_text

    if (rev is not None or live) and not paths:
        raise click.UsageError(f"diff {'--git REV' if rev else '--cluster'} takes PATH...")
    if live:
        if rev is not None:
            raise click.UsageError("diff takes --git or --cluster, not both")
        from podwall.cluster import applied

        old = load((), namespace, pod_cidr, verbose)
        new = applied(old, load(paths, namespace, pod_cidr, verbose))
    elif rev is not None:
        with tempfile.TemporaryDirectory(prefix="podwall-diff-") as tmp:
            old_paths = _extract(rev, paths, tmp)
            old = (load(tuple(old_paths), namespace, pod_cidr, verbose) if old_paths
                   else _empty_result())
        new = load(paths, namespace, pod_cidr, verbose)
    else:
        if len(paths) != 2:
            raise click.UsageError("diff takes OLD and NEW (two paths), or --git REV PATH...")
        old = load(paths[:1], namespace, pod_cidr, verbose)
        new = load(paths[1:], namespace, pod_cidr, verbose)
    both = _Both(old.cluster.endpoints + new.cluster.endpoints)
    addresses = []
    for text in externals:
        try:
            addresses.append(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise click.BadParameter(f"{text!r} is not an IP address",
                                     param_hint="--external") from None
    limit = None if output == "json" or view.full else DETAIL_LIMIT
    result = diff_clusters(view_of(old.cluster, audit), view_of(new.cluster, audit),
                           chosen_ports(both, ports), view, detail_limit=limit,
                           externals=addresses)
    if audit or old.cluster.audited or new.cluster.audited:
        print_audit_note(_audit_diff_note(old.cluster, new.cluster, audit, result,
                                          chosen_ports(both, ports), view, limit))
    if output == "text":
        text = diff_text(result, view.full, view.flags())
    else:
        text = diff_json(result) if output == "json" else diff_md(result)
    click.echo(text, nl=False)
    if result.offline and output != "json":
        from podwall.analysis.wording import diff_offline_words

        click.echo("podwall: " + diff_offline_words([f"{r} in {which.upper()}"
                                                     for which, r in result.offline]), err=True)
    if fail_on is not None and result.has(fail_on):
        sys.exit(EXIT_NO)


def _audit_diff_note(old: Any, new: Any, audit: bool, result: Any, ports: Any, view: View,
                     limit: int | None) -> str:
    """Whether the diff shown would read otherwise in the other view (the other diff is
    computed only when either side has audited policies)."""
    from podwall.analysis.audit import diffs_differ, view_of
    from podwall.analysis.diff import diff_clusters
    from podwall.analysis.wording import audit_diff_words

    keys = sorted({p.key for p in (*old.audited, *new.audited)})
    if not keys:
        return audit_diff_words(keys, audit, False)
    other = diff_clusters(view_of(old, not audit), view_of(new, not audit), ports, view,
                          detail_limit=limit)
    return audit_diff_words(keys, audit, diffs_differ(result, other))


class _Both:
    """Both inputs' endpoints, where a port name of `diff --port` is looked up."""

    def __init__(self, endpoints: Any) -> None:
        self.endpoints = endpoints


def _read_config(path: str | None) -> Any:
    from podwall.analysis.lint import LintConfig
    from podwall.manifests import read_yaml_file

    if path is None:
        return LintConfig()
    data = read_yaml_file(path)  # an InputError says file:line and why (handles_errors)
    try:
        return LintConfig.from_data(data)
    except ValueError as exc:
        fail(f"--config {path}: {exc}")


@click.command("lint")
@input_options
@view_options
@click.option("--config", "config_path", metavar="FILE",
              help="YAML: `disable: [PW009]`, `ignore: [{check: PW004, object: "
                   "\"NetworkPolicy shop/x\"}]`.")
@click.option("--fail-on", type=click.Choice(["warning", "error", "never"]), default="error",
              show_default=True,
              help="Exit 1 when a finding of this severity (or worse) remains; never: always 0.")
@output_option("text", "json", "sarif", default="text")
@handles_errors
def lint(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
         view: View, config_path: str | None, fail_on: str, output: str) -> None:
    """Find the classic NetworkPolicy mistakes: forgotten DNS, AND vs OR peers, typos in labels,
    missing default-deny, and more (checks PW001-PW013, see docs/lint.md).

    Each finding: FILE:LINE: severity ID object: message, and a fix. Silence a check with
    --config FILE or the policy annotation podwall.io/lint-ignore: "PW004,PW010".
    Exit 1 when an error is found (tune with --fail-on), 0 otherwise.

    \b
    Examples:
      podwall lint examples/dns-forgotten/
      podwall lint k8s/ -o sarif > podwall.sarif
      podwall lint k8s/ --config .podwall-lint.yaml --fail-on warning
      podwall lint k8s/ -o json --fail-on never | jq .summary
    """
    from podwall.analysis.lint import fails
    from podwall.analysis.lint import lint as run_lint
    from podwall.analysis.render.lint import lint_json, lint_text
    from podwall.analysis.render.sarif import lint_sarif

    config = _read_config(config_path)
    result = load(paths, namespace, pod_cidr, verbose)
    view = view.resolved(result.cluster)
    view.check(result.cluster.endpoints)
    findings = [f for f in run_lint(result.cluster, config)
                if view.shows_object(f.object, result.cluster)]
    render = {"text": lint_text, "json": lint_json, "sarif": lint_sarif}[output]
    click.echo(render(findings), nl=False)
    if fail_on != "never" and fails(findings, fail_on):
        sys.exit(EXIT_NO)


COMMANDS = [diff, lint]
