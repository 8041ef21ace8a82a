"""Pictures: `graph` (DOT, Mermaid or SVG) and `report` (one offline HTML page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from podwall.cli.common import (
    PORT_OR_NAME,
    audit_option,
    chosen_ports,
    fail,
    handles_errors,
    input_options,
    load,
    print_audit_note,
    view_options,
)
from podwall.model import NamedPortQuery, PortQuery

if TYPE_CHECKING:
    from podwall.analysis.filters import View


def _write(out: str, text: str) -> None:
    if out == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")


@click.command()
@input_options
@view_options
@click.option("-o", "--output", "output", type=click.Choice(["dot", "mermaid", "svg", "json"]),
              default="dot", show_default=True,
              help="dot (Graphviz text), mermaid (for Markdown), svg (runs Graphviz `dot`), "
                   "json (the picture's model: namespaces, nodes, hubs, edges; docs/graph.md).")
@click.option("--port", "ports", type=PORT_OR_NAME, multiple=True,
              help="Repeatable. Default: every port any container or policy names. A name "
                   "(http) is resolved at each destination: the number its containers call "
                   "http (not allowed where it has none).")
@click.option("--namespaces", "by_namespace", is_flag=True,
              help="One box per namespace, one arrow per namespace pair (ports, endpoint "
                   "pairs): the report's overview, readable at any size.")
@click.option("--out", "out", default="-", metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Write to FILE instead of standard output.")
@audit_option
@handles_errors
def graph(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
          view: View, output: str, ports: tuple[PortQuery | NamedPortQuery, ...],
          by_namespace: bool, out: str, audit: bool) -> None:
    """Draw who may connect to whom: boxes grouped by namespace, arrows labelled with ports.

    Endpoints that connect alike are drawn as one box (`web ×3`). Arrows between endpoints that
    no policy isolates are left out (the boxes say `ingress open` / `egress open`); an arrow
    to or from a namespace's `all endpoints` box stands for every endpoint in it; a small oval
    joins many arrows that share their ports. See docs/graph.md.

    \b
    Examples:
      podwall graph examples/three-tier/ -o svg --out shop.svg
      podwall graph k8s/ -o mermaid --port TCP/443 > connectivity.md
      podwall graph k8s/ --focus prod/api -o svg --out api.svg
      podwall graph k8s/ -o json | jq '.edges[] | select(.to == "n3")'
      podwall graph k8s/ --namespaces -o svg --out namespaces.svg
      podwall graph k8s/ --audit -o svg --out audit.svg   # podwall.io/enforcement: audit too
    """
    from podwall.analysis.audit import audit_note, view_of
    from podwall.analysis.graph import build_graph
    from podwall.analysis.render.dot import graph_dot
    from podwall.analysis.render.mermaid import graph_mermaid
    from podwall.analysis.render.svg import dot_to_svg
    from podwall.engine import Engine, default_ports

    if by_namespace and view.focus is not None:
        raise click.UsageError("--namespaces and --focus draw different pictures: pick one")
    result = load(paths, namespace, pod_cidr, verbose)
    view = view.resolved(result.cluster)
    view.check(result.cluster.endpoints)
    shown = Engine(view.restrict(view_of(result.cluster, audit)))
    print_audit_note(audit_note(result.cluster, audit, chosen_ports(result.cluster, ports)
                                or default_ports(shown.cluster)))
    if by_namespace:
        _write(out, _namespaces_picture(shown, chosen_ports(result.cluster, ports), output))
        return
    # a controller's pods: drawn around the first one's box (pods of one template share it)
    focus = min(view.focus_keys) if view.focus is not None else None
    picture = build_graph(shown, chosen_ports(result.cluster, ports), focus=focus)
    if not picture.ports:
        click.echo("podwall: no ports to show: nothing names a port; pass --port", err=True)
    if output == "json":
        text = json.dumps(picture.to_json(), indent=2) + "\n"
    elif output == "mermaid":
        text = graph_mermaid(picture)
    elif output == "svg":
        text = dot_to_svg(graph_dot(picture))
    else:
        text = graph_dot(picture)
    _write(out, text)


def _namespaces_picture(engine: Any, ports: list[PortQuery | NamedPortQuery] | None,
                        output: str) -> str:
    from podwall.analysis.graph import boxes, class_layout
    from podwall.analysis.overview import build_overview
    from podwall.analysis.render.dot import overview_dot
    from podwall.analysis.render.mermaid import overview_mermaid
    from podwall.analysis.render.svg import dot_to_svg

    matrix = engine.matrix(ports)
    overview = build_overview(matrix, boxes(engine, matrix, class_layout(engine, matrix)))
    if output == "json":
        return json.dumps(overview.to_json(), indent=2) + "\n"
    if output == "mermaid":
        return overview_mermaid(overview)
    return dot_to_svg(overview_dot(overview)) if output == "svg" else overview_dot(overview)


REPORT_FORMATS = ("html", "json")


@click.command()
@input_options
@view_options
@click.option("-o", "--output", "output", default="html", show_default=True, metavar="html|json",
              help="html: the page; json: the report's model (counts, overview, picture, lint, "
                   "policies, the page's data).")
@click.option("--out", "out", default=None, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write it (- for standard output). Default: report.html for html, "
                   "standard output for json.")
@click.option("--port", "ports", type=PORT_OR_NAME, multiple=True,
              help="Repeatable. Default: every port any container or policy names. A name "
                   "(http) is resolved at each destination: the number its containers call "
                   "http (not allowed where it has none).")
@click.option("--title", help="Title of the page. Default: podwall report: PATH...")
@audit_option
@click.option("--services", "services", is_flag=True,
              help="Add a Services section: per Service port, who may reach every pod behind "
                   "it after the DNAT, and who only some.")
@handles_errors
def report(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
           view: View, output: str, out: str | None, ports: tuple[PortQuery | NamedPortQuery, ...],
           title: str | None, audit: bool, services: bool) -> None:
    """Write ONE self-contained HTML page to review policies offline.

    It opens on the connectivity picture, fitted to the window: the whole cluster when it is
    small, else one box per namespace (click a namespace to open its boxes, click a box: what
    it reaches and what reaches it, per port, and the rule or the isolating policies that decide
    it). Then the matrix per port grouped by namespace, lint findings (errors first), and every
    policy in plain words. No network access: the page loads nothing and a
    Content-Security-Policy forbids it. Needs Graphviz `dot`. See docs/report.md.

    \b
    Examples:
      podwall report examples/three-tier/ --out shop.html
      kubectl get netpol,pods,ns -A -o yaml | podwall report - --out cluster.html
      podwall report k8s/ -o json | jq .overview.arrows
      podwall report k8s/ --audit --out audit.html   # podwall.io/enforcement: audit enforced
      podwall report k8s/ --services --out shop.html
    """
    from podwall.analysis.audit import audit_note, view_of
    from podwall.analysis.report import build_report, lint_function, lint_rows
    from podwall.analysis.wording import audit_title_words, plural
    from podwall.engine import Engine, default_ports

    if output not in REPORT_FORMATS:
        # `-o FILE` was the way to name the page before -o meant the format everywhere.
        if out is not None:
            raise click.BadParameter(f"{output!r} is not a format (html, json)",
                                     param_hint="'-o'")
        click.echo(f"podwall: warning: -o {output}: -o is the output format (html|json) now; "
                   f"write --out {output} (taken as the file this time)", err=True)
        output, out = "html", output
    target = out if out is not None else ("report.html" if output == "html" else "-")
    result = load(paths, namespace, pod_cidr, verbose)
    lint = lint_function()
    view = view.resolved(result.cluster)
    view.check(result.cluster.endpoints)
    findings = (tuple(row for row in lint_rows(_call_lint(lint, result))
                      if view.shows_object(row.object, result.cluster))
                if lint is not None else None)
    page_title = title or "podwall report: " + " ".join(paths)
    if audit:
        page_title += " " + audit_title_words()
    chosen = chosen_ports(result.cluster, ports)
    built = build_report(Engine(view.restrict(view_of(result.cluster, audit))),
                         ports=chosen, title=page_title, lint=findings, services=services)
    print_audit_note(audit_note(result.cluster, audit,
                                chosen or default_ports(view_of(result.cluster, audit))))
    if output == "json":
        _write(target, json.dumps(built.to_json(), indent=2) + "\n")
        return
    from podwall.analysis.render.html import report_html
    from podwall.analysis.render.views import draw_views

    page = report_html(built, draw_views(built))
    _write(target, page)
    if target != "-":
        size = len(page.encode())
        c, n = built.counts, plural
        click.echo(f"wrote {target} ({size / 1024:.0f} KiB): {n(c['endpoints'], 'endpoint')} "
                   f"in {n(c['namespaces'], 'namespace')} as {n(c['boxes'], 'box')}, "
                   f"{n(c['policies'], 'policy')}, {n(c['ports'], 'port')}", err=True)


def _call_lint(lint: Any, result: Any) -> Any:
    """The lint module's entry point takes the load result (cluster, diagnostics, documents)."""
    return lint(result)


COMMANDS = [graph, report]
