"""`podwall exposure`: what each pod accepts from and may open to the world outside the cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from podwall.cli.common import (
    PORT,
    full_option,
    handles_errors,
    input_options,
    load,
    output_option,
    view_options,
)
from podwall.model import PortQuery

if TYPE_CHECKING:
    from podwall.analysis.filters import View


@click.command("exposure")
@input_options
@view_options
@full_option
@click.option("--port", "ports", type=PORT, multiple=True,
              help="Repeatable. Only these ports (default: every port, in ranges that every "
                   "policy treats alike).")
@output_option("text", "json", "md", default="text")
@handles_errors
def exposure(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
             view: View, ports: tuple[PortQuery, ...], output: str) -> None:
    """What each endpoint accepts from, and may open to, addresses outside the cluster.

    The outside (every address but --pod-cidr and the pods' IPs) is cut into blocks that every
    policy's ipBlocks treat alike, and ports into ranges that every policy treats alike; each
    line is one group of endpoints of a namespace with identical answers:
    `ADDRESSES -> ns/name PORTS (rules)` for ingress, `ns/name -> ADDRESSES PORTS` for egress.
    -n and --focus pick the pods; --to SEL shows ingress of pods matching SEL, --from SEL egress
    (outside addresses have no labels). Beyond 50 endpoints the text summarises per namespace
    (--full: every line); -o json is always complete.

    \b
    Examples:
      podwall exposure examples/backup-ipblock/
      podwall exposure k8s/ -n shop
      podwall exposure k8s/ --focus prod/db -o json
      podwall exposure k8s/ --to app=web --port TCP/443
    """
    from podwall.analysis.exposure import exposure as compute
    from podwall.analysis.render.exposure import exposure_json, exposure_md, exposure_text

    result = load(paths, namespace, pod_cidr, verbose)
    found = compute(result.cluster, view, list(ports) or None)
    if output == "json":
        click.echo(exposure_json(found), nl=False)
    elif output == "md":
        click.echo(exposure_md(found, view.full, view.flags()), nl=False)
    else:
        click.echo(exposure_text(found, view.full, view.flags()), nl=False)


COMMANDS = [exposure]
