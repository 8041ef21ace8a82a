"""`podwall lab …` (real pods as network namespaces) and `podwall dataplane …` (the ruleset)."""

from __future__ import annotations

import json
import sys

import click

from podwall.cli.common import EXIT_NO, PORT, handles_errors, input_options, load, output_option
from podwall.model import DEFAULT_POD_CIDR, PortQuery

NAME = click.option("--name", default="default", show_default=True,
                    help="Which lab (several can run side by side).")


@click.group()
def lab() -> None:
    """A lab of real pods on this machine: prove that the kernel does what the model says.

    Every pod (or workload) becomes a network namespace with servers on its container ports,
    routed through a "node" namespace that holds podwall's nftables ruleset. Nothing is attached
    to the machine's real interfaces. Needs root (CAP_NET_ADMIN).

    \b
    Examples:
      sudo podwall lab up examples/three-tier/ --external 192.0.2.10
      sudo podwall lab probe --port TCP/80 --port TCP/5432
      sudo podwall lab verify
      sudo podwall lab apply examples/three-tier-v2/
      sudo podwall lab down
    """


@lab.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@NAME
@click.option("--external", "externals", multiple=True, metavar="IP",
              help="Repeatable. A host outside the cluster, in its own namespace.")
@click.option("--pod-cidr", default=DEFAULT_POD_CIDR, show_default=True)
@handles_errors
def up(paths: tuple[str, ...], name: str, externals: tuple[str, ...], pod_cidr: str) -> None:
    """Start a lab from manifests: namespaces, veths, servers, ruleset.

    \b
    Examples:
      sudo podwall lab up examples/three-tier/
      sudo podwall lab up k8s/ --name demo --external 192.0.2.10
    """
    from podwall.lab.lab import Lab

    state = Lab(name).up(list(paths), list(externals), pod_cidr)
    click.echo(f"lab {name} is up: {len(state['pods'])} pods, {len(state['externals'])} "
               f"outside hosts; ruleset in namespace pw-{name}-node")


@lab.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@NAME
@handles_errors
def apply(paths: tuple[str, ...], name: str) -> None:
    """Reconcile the running lab to new manifests; the ruleset swaps atomically.

    \b
    Example:
      sudo podwall lab apply examples/three-tier-v2/
    """
    from podwall.lab.lab import Lab

    state = Lab(name).apply(list(paths))
    click.echo(f"lab {name} applied: {len(state['pods'])} pods")


@lab.command()
@NAME
@click.option("--port", "ports", type=PORT, multiple=True,
              help="Repeatable. Default: every port a container or policy names.")
@click.option("--timeout", default=0.7, show_default=True, help="Seconds before 'dropped'.")
@output_option("table", "json", default="table")
@handles_errors
def probe(name: str, ports: tuple[PortQuery, ...], timeout: float, output: str) -> None:
    """Real TCP connects and UDP request/replies for every ordered pair and port.

    A timeout is "dropped" (denied); a reset or ICMP port-unreachable is "refused", which the
    network let through (allowed). -o json is the same contract as `podwall matrix -o json`.

    \b
    Example:
      sudo podwall lab probe --port TCP/80 --port UDP/53 -o json
    """
    from podwall.analysis.render.matrix import RENDERERS
    from podwall.lab.lab import Lab

    matrix, notes = Lab(name).probe(list(ports) or None, timeout)
    for note in notes:
        click.echo(note, err=True)
    click.echo(RENDERERS[output](matrix), nl=False)


@lab.command()
@NAME
@click.option("--port", "ports", type=PORT, multiple=True,
              help="Repeatable. Default: every port a container or policy names.")
@output_option("text", "json", default="text")
@handles_errors
def verify(name: str, ports: tuple[PortQuery, ...], output: str) -> None:
    """Kernel vs model: probe, run the engine, list every disagreement (exit 1 if any).

    \b
    Example:
      sudo podwall lab verify
    """
    from podwall.analysis.wording import verdict_lines
    from podwall.lab.lab import Lab

    the_lab = Lab(name)
    kernel, notes = the_lab.probe(list(ports) or None)
    engine, model = the_lab.model(kernel.ports)
    disagreements = []
    for port in kernel.ports:
        k, m = kernel.dense(port), model.dense(port)
        for i, src in enumerate(kernel.endpoints):
            for j, dst in enumerate(kernel.endpoints):
                if bool(k[i, j]) != bool(m[i, j]):
                    disagreements.append((src, dst, port, bool(k[i, j]),
                                          engine.check(src, dst, port)))
    pairs = len(kernel.endpoints) * (len(kernel.endpoints) - 1) * len(kernel.ports)
    if output == "json":
        click.echo(json.dumps({
            "pairsProbed": pairs, "ports": [str(p) for p in kernel.ports], "notes": notes,
            "disagreements": [{"from": s, "to": d, "port": str(p), "kernel": kv,
                               "model": v.to_json()} for s, d, p, kv, v in disagreements]},
            indent=2))
    else:
        for note in notes:
            click.echo(note)
        for src, dst, port, kernel_allowed, verdict in disagreements:
            click.echo(f"DISAGREE {src} -> {dst} {port}: kernel "
                       f"{'allowed' if kernel_allowed else 'dropped'}, model says:")
            click.echo("\n".join("  " + line for line in verdict_lines(verdict)))
        click.echo(f"{len(disagreements)} disagreements in {pairs} probes "
                   f"({', '.join(str(p) for p in kernel.ports)})")
    if disagreements:
        sys.exit(EXIT_NO)


@lab.command()
@NAME
@handles_errors
def down(name: str) -> None:
    """Remove every namespace, process and file of the lab (safe to repeat, also after a crash)."""
    from podwall.lab.lab import Lab

    removed = Lab(name).down()
    click.echo(f"lab {name} is down ({len(removed)} namespaces removed)")


@click.group()
def dataplane() -> None:
    """The nftables ruleset podwall enforces (routed node, verdict maps, sets)."""


@dataplane.command()
@input_options
@click.option("--node-pods", default=None, metavar="NS/NAME,...",
              help="The pods on this node (default: every endpoint).")
@handles_errors
def compile(paths: tuple[str, ...], namespace: str, pod_cidr: str, verbose: bool,
            node_pods: str | None) -> None:
    """Print the nftables ruleset for review (no root needed).

    Interfaces are named p<N> as in the lab; the summary goes to stderr.

    \b
    Example:
      podwall dataplane compile examples/three-tier/ > ruleset.nft
    """
    from podwall.dataplane import compile_ruleset
    from podwall.engine import Engine

    result = load(paths, namespace, pod_cidr, verbose)
    wanted = set(node_pods.split(",")) if node_pods else None
    interfaces = {ep.key: f"p{i}" for i, ep in enumerate(result.cluster.endpoints)
                  if wanted is None or ep.key in wanted}
    ruleset = compile_ruleset(Engine(result.cluster), interfaces)
    click.echo(ruleset.text, nl=False)
    click.echo(f"# {ruleset.summary()}", err=True)


COMMANDS = [lab, dataplane]
