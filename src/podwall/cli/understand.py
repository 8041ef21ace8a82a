"""The main job: validate, check, matrix, explain — no cluster needed."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from podwall.cli.common import (
    EXIT_NO,
    PORT_OR_NAME,
    binary_stdout,
    chosen_ports,
    full_option,
    handles_errors,
    input_options,
    load,
    output_option,
    summary,
    view_options,
)
from podwall.model import NamedPortQuery, PortQuery

if TYPE_CHECKING:
    from podwall.analysis.filters import View


@click.command()
@input_options
@click.option("-A", "--all-namespaces", "all_namespaces", is_flag=True,
              help="Report problems in every namespace (the default).")
@output_option("text", "json", default="text")
@handles_errors
def validate(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
             all_namespaces: bool, output: str) -> None:
    """Validate manifests the way the Kubernetes API server would.

    Every problem is reported at once as FILE:LINE: Kind ns/name: field.path: message.
    Exit 0 when valid (warnings allowed), 1 on any error. With -n NS, only problems of objects
    in NS (and those of no object, such as YAML syntax) are printed; the verdict and the exit
    code still judge the whole input.

    \b
    Examples:
      podwall validate k8s/
      kubectl get netpol,pods,ns -A -o yaml | podwall validate -
    """
    from podwall.analysis.filters import View
    from podwall.analysis.wording import plural
    from podwall.cli.common import load_with_progress, print_diagnostics
    from podwall.errors import has_errors

    result = load_with_progress(paths, namespace, pod_cidr)
    view = View(namespace=None if all_namespaces else namespace)
    diagnostics = [d for d in result.diagnostics
                   if d.obj is None or view.shows_object(d.obj, result.cluster)]
    if output == "json":
        shown = [d for d in diagnostics if verbose or d.severity.name != "INFO"]
        click.echo(json.dumps({
            "valid": not has_errors(result.diagnostics),
            "documents": result.documents,
            "namespaces": len(result.cluster.namespaces),
            "endpoints": len(result.cluster.endpoints),
            "policies": len(result.cluster.policies),
            "diagnostics": [d.to_json() for d in shown],
        }, indent=2))
    else:
        print_diagnostics(diagnostics, verbose=verbose)
        c = result.cluster
        verdict = "invalid" if has_errors(result.diagnostics) else "valid"
        click.echo(f"{verdict}: {summary(result.diagnostics, result.documents)}; "
                   f"{plural(len(c.namespaces), 'namespace')}, "
                   f"{plural(len(c.endpoints), 'endpoint')}, "
                   f"{plural(len(c.policies), 'policy')}", err=verdict == "invalid")
    sys.exit(EXIT_NO if has_errors(result.diagnostics) else 0)


@click.command()
@input_options
@click.option("--from", "src", required=True, metavar="EP",
              help="Source: ns/name of a pod or workload, or an IP address.")
@click.option("--to", "dst", required=True, metavar="EP",
              help="Destination: ns/name of a pod or workload, or an IP address.")
@click.option("--port", "port", type=PORT_OR_NAME, required=True,
              help="TCP/80, udp/53, 80 (= TCP/80), or a container-port name (http, udp/dns), "
                   "resolved on the destination as a policy's named port is.")
@click.option("--expect", type=click.Choice(["allow", "deny"]),
              help="Exit 1 when the verdict differs (a CI gate).")
@output_option("text", "json", default="text")
@handles_errors
def check(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool, src: str,
          dst: str, port: PortQuery | NamedPortQuery, expect: str | None, output: str) -> None:
    """Can SRC open a connection to DST on PORT, and which policy rule says so?

    Allowed iff egress at the source and ingress at the destination both allow it.

    \b
    Examples:
      podwall check k8s/ --from prod/web --to prod/db --port TCP/5432
      podwall check k8s/ --from prod/api --to 10.0.0.5 --port 443 --expect deny
      podwall check k8s/ --from prod/web --to prod/api --port http
    """
    from podwall.analysis.wording import named_port_words, verdict_lines
    from podwall.engine import Engine

    result = load(paths, namespace, pod_cidr, verbose)
    engine = Engine(result.cluster)
    named: NamedPortQuery | None = None
    if isinstance(port, NamedPortQuery):
        named, port = port, _resolve_named(engine, dst, port)
    verdict = engine.check(src, dst, port)
    if output == "json":
        payload = verdict.to_json()
        if named is not None:
            payload["namedPort"] = {"name": str(named), "resolved": str(port)}
        if expect:
            payload["expected"] = expect
        click.echo(json.dumps(payload, indent=2))
    else:
        if named is not None:
            click.echo(named_port_words(str(named), verdict.dst, str(port)))
        click.echo("\n".join(verdict_lines(verdict)))
    if expect is not None and (expect == "allow") != verdict.allowed:
        if output == "text":
            click.echo(f"expected {expect}, got {'allow' if verdict.allowed else 'deny'}",
                       err=True)
        sys.exit(EXIT_NO)


def _resolve_named(engine: Any, dst: str, named: NamedPortQuery) -> PortQuery:
    """The number `named` has at the destination, or a QueryError that says why there is none."""
    from podwall.errors import QueryError
    from podwall.model import Endpoint

    target = engine.resolve(dst)
    if not isinstance(target, Endpoint):
        raise QueryError(f"--port {named}: a port name resolves on the destination pod's "
                         f"containers, and {dst} is outside the cluster: give a number")
    number = named.resolve(target.ports)
    if number is None:
        names = ", ".join(str(cp) for cp in target.ports if cp.name) or "none"
        raise QueryError(f"--port {named}: {target.key} has no {named.protocol} container "
                         f"port named {named.name!r} (its named ports: {names}), so nothing "
                         "can connect to it by that name")
    return number


@click.command()
@input_options
@view_options
@full_option
@click.option("--port", "ports", type=PORT_OR_NAME, multiple=True,
              help="Repeatable. Default: every port any container or policy names. A name "
                   "(http) is resolved at each destination: the number its containers call "
                   "http (not allowed where it has none).")
@click.option("--external", "externals", multiple=True, metavar="IP",
              help="Repeatable. Add a host outside the cluster (source and destination).")
@click.option("--outside", "outside", is_flag=True,
              help="Add one host per block of the outside that every policy treats alike "
                   "(see podwall exposure); the output says which addresses each stands for.")
@output_option("table", "json", "csv", "md", default="table")
@handles_errors
def matrix(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
           view: View, ports: tuple[PortQuery | NamedPortQuery, ...], externals: tuple[str, ...],
           outside: bool, output: str) -> None:
    """Print the whole truth table: who may connect to whom, per port.

    Rows are sources, columns destinations; a pod may always reach itself. Beyond 50 endpoints
    the table shows namespace x namespace (none, some or all pairs allowed) unless --full;
    -n, --focus, --from and --to narrow what is shown (never what is evaluated).
    -o json is {"endpoints": [...], "ports": [...], "allowed": {"TCP/80": [[...]]}},
    allowed[port][i][j] being the verdict for endpoints[i] -> endpoints[j]. A named port
    (--port http) is one column resolved at each destination (its own number; not allowed where
    it has none); -o json then adds "resolved": {"TCP/http": ["TCP/8080", null, ...]}.

    \b
    Examples:
      podwall matrix examples/three-tier/
      podwall matrix k8s/ -n shop --to app=db
      podwall matrix k8s/ --focus shop/web --full
      podwall matrix k8s/ --port TCP/80 --port UDP/53 --external 192.0.2.10 -o json
      podwall matrix k8s/ --port http -o csv
      podwall matrix k8s/ --outside --to app=web
    """
    from podwall.analysis.filters import MatrixView
    from podwall.analysis.render.matrix import write_matrix
    from podwall.engine import Engine, ExternalHost

    result = load(paths, namespace, pod_cidr, verbose)
    view.check(result.cluster.endpoints)
    blocks: list[tuple[str, str]] = []
    if outside:
        from podwall.engine.outside import partition

        blocks = [(str(b.representative), str(b.addresses))
                  for b in partition(result.cluster).blocks]
        externals = (*externals, *(address for address, _ in blocks))
    m = Engine(result.cluster).matrix(chosen_ports(result.cluster, ports), externals=externals)
    if not m.ports:
        click.echo("podwall: no ports to show: nothing names a port; pass --port", err=True)
    import ipaddress

    hosts = [ExternalHost(ipaddress.ip_address(name))
             for name in m.endpoints[len(result.cluster.endpoints):]]
    write_matrix(m, output, binary_stdout(),
                 MatrixView(m, (*result.cluster.endpoints, *hosts), view), blocks)


@click.command()
@input_options
@view_options
@full_option
@output_option("text", "json", default="text")
@handles_errors
def explain(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
            view: View, output: str) -> None:
    """Every policy and every endpoint in plain words.

    Per policy: what it selects, which directions it isolates, what each rule admits.
    Per endpoint: which policies isolate it, what may reach it and what it may reach.
    Beyond 50 endpoints in view the text is a summary (per class of endpoints that every policy
    treats alike when they are few, else per namespace) that says how to drill down;
    -o json is always complete.

    \b
    Examples:
      podwall explain examples/three-tier/
      podwall explain k8s/ -n prod
      podwall explain k8s/ --focus prod/db
      podwall explain k8s/ --to app=db --from '!trusted'
      podwall explain k8s/ -o json | jq '.endpoints[] | select(.endpoint=="prod/db")'
    """
    from podwall.analysis.explain import Explainer, write_json, write_text
    from podwall.engine import Engine

    result = load(paths, namespace, pod_cidr, verbose)
    explainer = Explainer(Engine(result.cluster), view)
    (write_json if output == "json" else write_text)(explainer, binary_stdout())


COMMANDS = [validate, check, matrix, explain]
