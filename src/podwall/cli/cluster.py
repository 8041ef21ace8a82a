"""`snapshot`: write what podwall reads from the live cluster as one List (for CI, bug reports,
and `diff`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from podwall.cli.common import fail, handles_errors
from podwall.cli.live import cluster_options, read_live


@click.command()
@cluster_options
@click.option("-o", "--output", "out", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write: FILE.json (JSON), FILE.yaml or FILE.yml (YAML), - for "
                   "standard output (JSON).")
@handles_errors
def snapshot(out: str) -> None:
    """Read the live cluster (the current kubeconfig context) and write it as one List.

    Everything podwall evaluates is in it: namespaces, pods, workload controllers, services and
    NetworkPolicies of every namespace, as the API server returned them. Every verb reads the
    file as it reads the cluster, with the same answers: keep it for CI, attach it to a bug
    report, or `diff` it against tomorrow's.

    \b
    Examples:
      podwall snapshot -o cluster.json
      podwall snapshot --context prod -o prod.yaml
      podwall snapshot -o before.json && podwall diff before.json k8s/
    """
    from podwall.cluster import to_list

    read = read_live()
    listing = to_list(read)
    if out.endswith((".yaml", ".yml")):
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(listing, Dumper=dumper, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(listing, indent=1, ensure_ascii=False) + "\n"
    if out == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{len(read.objects)} objects from cluster {read.target.context} "
               f"({read.target.server}) written to {'standard output' if out == '-' else out}",
               err=True)


COMMANDS = [snapshot]
