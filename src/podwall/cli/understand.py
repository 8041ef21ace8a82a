"""The main job: validate, check, matrix, explain — no cluster needed."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from podwall.cli.common import (
    EXIT_NO,
    PORT_OR_NAME,
    audit_option,
    binary_stdout,
    chosen_ports,
    full_option,
    handles_errors,
    input_options,
    load,
    output_option,
    print_audit_note,
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

    result = load_with_progress(paths, namespace, pod_cidr, imply=False)
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
            "policies": len(result.cluster.all_policies),
            "audited": len(result.cluster.audited),
            "clusterPolicies": len(result.cluster.cluster_policies),
            "services": len(result.cluster.services),
            "diagnostics": [d.to_json() for d in shown],
        }, indent=2))
    else:
        print_diagnostics(diagnostics, verbose=verbose)
        c = result.cluster
        verdict = "invalid" if has_errors(result.diagnostics) else "valid"
        click.echo(f"{verdict}: {summary(result.diagnostics, result.documents)}; "
                   f"{plural(len(c.namespaces), 'namespace')}, "
                   f"{plural(len(c.endpoints), 'endpoint')}, "
                   f"{plural(len(c.all_policies), 'policy')}"
                   + (f" ({len(c.audited)} audited)" if c.audited else "")
                   + (f", {plural(len(c.cluster_policies), 'cluster policy', 'cluster policies')}"
                      if c.cluster_policies else "")
                   + (f", {plural(len(c.services), 'Service')}" if c.services else ""),
                   err=verdict == "invalid")
    sys.exit(EXIT_NO if has_errors(result.diagnostics) else 0)


@click.command()
@input_options
@click.option("--from", "src", required=True, metavar="EP",
              help="Source: ns/name of a pod or workload (in a snapshot, a controller's name "
                   "stands for its pods), or an IP address.")
@click.option("--to", "dst", required=True, metavar="EP",
              help="Destination: ns/name of a pod or workload, svc/NS/NAME (or svc/NAME with "
                   "-n) for the pods behind a Service on its targetPort, or an IP address "
                   "(a pod's, a Service's cluster IP, or a host outside).")
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
    Policies annotated podwall.io/enforcement: audit are not enforced: when they would change
    the verdict (or take part in it), an AUDIT line gives the verdict with them enforced;
    -o json adds "auditChange" (none, denies, allows), "auditedPolicies" and "audit". --expect
    judges the enforced verdict.
    Policies act after a Service's DNAT: --to svc/NS/NAME (or its cluster IP) is answered for
    each pod behind it on the port's targetPort, and is allowed only when every pod is.

    \b
    Examples:
      podwall check k8s/ --from prod/web --to prod/db --port TCP/5432
      podwall check k8s/ --from prod/web --to svc/kube-system/kube-dns --port UDP/53
      podwall check k8s/ --from prod/web --to 10.96.0.10 --port UDP/53
      podwall check k8s/ --from prod/api --to 10.0.0.5 --port 443 --expect deny
      podwall check k8s/ --from prod/web --to prod/api --port http
    """
    from podwall.analysis.wording import (
        audit_verdict_lines,
        named_port_words,
        unassigned_cluster_ip_words,
        verdict_lines,
    )
    from podwall.engine import Engine, ExternalHost

    result = load(paths, namespace, pod_cidr, verbose)
    engine = Engine(result.cluster)
    source, target = engine.resolve_group(src, namespace), engine.resolve_group(dst, namespace)
    if source.grouped or target.grouped:
        _check_group(engine, source, target, port, expect, output)
        return
    named: NamedPortQuery | None = None
    if isinstance(port, NamedPortQuery):
        named, port = port, _resolve_named(engine, dst, port)
    verdict = engine.check(src, dst, port)
    audited = None
    if result.cluster.audited:
        from podwall.analysis.audit import audit_check

        audited = audit_check(engine, Engine(result.cluster.audit_view()), src, dst, port)
    implied = [t.key for t in (*source.targets, *target.targets)
               if getattr(t, "implied", False)]
    svc_cidr = result.cluster.service_cidr
    unassigned = [t.ip for t in (*source.targets, *target.targets)
                  if isinstance(t, ExternalHost) and t.ip.version == svc_cidr.version
                  and t.ip in svc_cidr]  # a ClusterIP no Service of the input has
    if output == "json":
        payload = verdict.to_json()
        if unassigned:
            payload["unassignedClusterIps"] = [str(a) for a in unassigned]
        if audited is not None:
            payload.update(audited.to_json())
        if named is not None:
            payload["namedPort"] = {"name": str(named), "resolved": str(port)}
        if implied:
            payload["implied"] = implied
        if expect:
            payload["expected"] = expect
        click.echo(json.dumps(payload, indent=2))
    else:
        if named is not None:
            click.echo(named_port_words(str(named), verdict.dst, str(port)))
        click.echo("\n".join(verdict_lines(verdict, implied)))
        for address in unassigned:
            click.echo("  " + unassigned_cluster_ip_words(str(address), str(svc_cidr)))
        if audited is not None and (audited.change != "none" or audited.involved):
            click.echo("\n".join(audit_verdict_lines(audited.audit, audited.change.value,
                                                     audited.involved)))
    _expected(expect, verdict.allowed, verdict.decided, output)


def _check_group(engine: Any, source: Any, target: Any, port: PortQuery | NamedPortQuery,
                 expect: str | None, output: str) -> None:
    """`check` where a side is a Service or a snapshot's controller: one verdict per pod."""
    from podwall.analysis.wording import group_verdict_lines
    from podwall.errors import QueryError

    if isinstance(port, NamedPortQuery):
        raise QueryError(f"--port {port}: give a number when a side is a Service or a "
                         f"controller ({target.via or source.via}); a name resolves on one pod")
    verdict = engine.check_group(source, target, port)
    if output == "json":
        deciding = verdict.deciding
        payload: dict[str, Any] = {"from": source.name, "to": target.name, "port": str(port),
                                   "allowed": verdict.allowed,
                                   "someAllowed": verdict.some_allowed}
        if deciding is not None:
            payload.update({k: v for k, v in deciding.to_json().items()
                            if k in ("sameEndpoint", "egress", "ingress")})
        for key, side in (("fromPods", source), ("toPods", target)):
            if side.grouped:
                payload[key] = [t.key for t in side.targets]
        if source.controller is not None:
            payload["fromController"] = {"kind": source.controller.kind,
                                         "name": source.controller.key}
        if target.controller is not None:
            payload["toController"] = {"kind": target.controller.kind,
                                       "name": target.controller.key}
        if target.service is not None:
            svc = target.service
            payload["service"] = {
                "name": svc.key, "clusterIP": None if svc.cluster_ip is None else str(svc.cluster_ip),
                "clusterIPAssigned": svc.cluster_ip_assigned, "headless": svc.headless,
                "implied": svc.implied,
                "port": str(verdict.service_port) if verdict.service_port else str(port),
                "targetPort": (None if verdict.service_port is None
                               else verdict.service_port.target_port),
                "pods": [t.key for t in target.targets],
                "unserved": [{"pod": u.pod, "reason": u.reason} for u in verdict.unserved]}
        payload["verdicts"] = [v.to_json() for v in verdict.verdicts]
        if expect:
            payload["expected"] = expect
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo("\n".join(group_verdict_lines(verdict)))
    _expected(expect, verdict.allowed, verdict.decided, output)


def _expected(expect: str | None, allowed: bool, decided: bool, output: str) -> None:
    """--expect: exit 1 when the verdict is not the one expected (or cannot be decided)."""
    if expect is not None and ((expect == "allow") != allowed or not decided):
        if output == "text":
            got = ("a verdict that cannot be decided offline" if not decided
                   else "allow" if allowed else "deny")
            click.echo(f"expected {expect}, got {got}", err=True)
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
@audit_option
@click.option("--services", "services", is_flag=True,
              help="Also show each Service port as a destination, after its DNAT: allowed "
                   "when the source may reach every pod behind it on its targetPort (table "
                   "and json).")
@click.option("--outside", "outside", is_flag=True,
              help="Add one host per block of the outside that every policy treats alike "
                   "(see podwall exposure); the output says which addresses each stands for.")
@output_option("table", "json", "csv", "md", default="table")
@handles_errors
def matrix(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
           view: View, ports: tuple[PortQuery | NamedPortQuery, ...], externals: tuple[str, ...],
           audit: bool, services: bool, outside: bool, output: str) -> None:
    """Print the whole truth table: who may connect to whom, per port.

    Rows are sources, columns destinations; a pod may always reach itself. Beyond 50 endpoints
    the table shows namespace x namespace (none, some or all pairs allowed) unless --full;
    -n, --focus, --from and --to narrow what is shown (never what is evaluated).
    -o json is {"endpoints": [...], "ports": [...], "allowed": {"TCP/80": [[...]]}},
    allowed[port][i][j] being the verdict for endpoints[i] -> endpoints[j]; "implied" lists
    the endpoints podwall implied (kube-dns), when any are shown. --services adds
    each Service port as a destination after its DNAT (allowed: to every pod behind it on its
    targetPort; -o json adds "services": [{"service", "port", "allowed": [...], ...}]). A named port
    (--port http) is one column resolved at each destination (its own number; not allowed where
    it has none); -o json then adds "resolved": {"TCP/http": ["TCP/8080", null, ...]}.

    \b
    Examples:
      podwall matrix examples/three-tier/
      podwall matrix k8s/ -n shop --to app=db
      podwall matrix k8s/ --focus shop/web --full
      podwall matrix k8s/ --port TCP/80 --port UDP/53 --external 192.0.2.10 -o json
      podwall matrix k8s/ --port http -o csv
      podwall matrix k8s/ --audit          # as if podwall.io/enforcement: audit were enforced
      podwall matrix k8s/ --services --port TCP/80 --port UDP/53
      podwall matrix k8s/ --outside --to app=web
    """
    from podwall.analysis.audit import audit_note, view_of
    from podwall.analysis.filters import MatrixView
    from podwall.analysis.render.matrix import write_matrix
    from podwall.engine import Engine, ExternalHost
    from podwall.errors import QueryError

    if services and output in ("csv", "md"):
        raise QueryError("--services: only with -o table or -o json")
    result = load(paths, namespace, pod_cidr, verbose)
    view = view.resolved(result.cluster)
    view.check(result.cluster.endpoints)
    blocks: list[tuple[str, str]] = []
    if outside:
        from podwall.engine.outside import partition

        blocks = [(str(b.representative), str(b.addresses))
                  for b in partition(view_of(result.cluster, audit)).blocks]
        externals = (*externals, *(address for address, _ in blocks))
    engine = Engine(view_of(result.cluster, audit))
    chosen = chosen_ports(result.cluster, ports)
    m = engine.matrix(chosen, externals=externals)
    import ipaddress

    hosts = [ExternalHost(ipaddress.ip_address(name))
             for name in m.endpoints[len(result.cluster.endpoints):]]
    print_audit_note(audit_note(result.cluster, audit, m.ports, hosts))
    if not m.ports:
        click.echo("podwall: no ports to show: nothing names a port; pass --port", err=True)
    mv = MatrixView(m, (*result.cluster.endpoints, *hosts), view)
    # -o json names the implied components among its endpoints (`"implied": [...]`)
    shown = mv.in_view.tolist() if view.active else range(len(m.endpoints))
    implied = [m.endpoints[i] for i in shown if i in mv.implied]
    extra = (b',"implied":' + json.dumps(implied).encode()) if implied else b""
    extra += offline_matrix_note(engine, result.cluster.endpoints, hosts, m.ports, output)
    if not services:
        write_matrix(m, output, binary_stdout(), mv, extra, blocks)
        return
    from podwall.analysis.render.services import services_json, write_service_table
    from podwall.engine import service_columns

    columns = service_columns(engine, chosen)
    if output == "json":
        write_matrix(m, output, binary_stdout(), mv, extra + services_json(columns, mv), blocks)
        return
    out = binary_stdout()
    write_matrix(m, output, out, mv, b"", blocks)
    write_service_table(columns, mv, out)
    out.flush()



def offline_matrix_note(engine: Any, endpoints: Sequence[Any], hosts: Sequence[Any],
                        ports: Sequence[Any], output: str) -> bytes:
    """Rules whose nodes/domainNames peers cannot be decided offline, and the cells they may
    change: on stderr for the text formats, as `"cannotDecideOffline"` in -o json."""
    from podwall.analysis.wording import offline_note_words
    from podwall.engine.offline import offline_rules, undecided_cells

    rules = offline_rules(engine.cluster)
    if not rules:
        return b""
    numbered = [p for p in ports if isinstance(p, PortQuery)]
    cells = undecided_cells(engine.evaluator, endpoints, hosts, numbered)
    if output == "json":
        return (b',"cannotDecideOffline":' + json.dumps(
            {"rules": [r.to_json() for r in rules],
             "cells": [c.to_json() for c in cells]}).encode())
    click.echo("podwall: " + offline_note_words(
        [str(r) for r in rules], [f"{c.src} -> {c.dst} {c.port}" for c in cells[:3]],
        len(cells), bool(hosts)), err=True)
    return b""

@click.command()
@input_options
@view_options
@full_option
@audit_option
@output_option("text", "json", default="text")
@handles_errors
def explain(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
            view: View, audit: bool, output: str) -> None:
    """Every policy and every endpoint in plain words.

    Per policy: what it selects, which directions it isolates, what each rule admits.
    Per endpoint: which policies isolate it, what may reach it and what it may reach.
    Beyond 50 endpoints in view the text is a summary (per class of endpoints that every policy
    treats alike when they are few, else per namespace) that says how to drill down;
    -o json is always complete. Policies annotated podwall.io/enforcement: audit are
    explained and marked (json: "enforcement"); they isolate nothing in what the endpoints
    show, unless --audit shows the view with them enforced.

    \b
    Examples:
      podwall explain examples/three-tier/
      podwall explain k8s/ -n prod
      podwall explain k8s/ --focus prod/db
      podwall explain k8s/ --focus svc/prod/db      # the Service's ports and the pods behind it
      podwall explain k8s/ --to app=db --from '!trusted'
      podwall explain k8s/ -o json | jq '.endpoints[] | select(.endpoint=="prod/db")'
      podwall explain k8s/ --audit --focus prod/db
    """
    from podwall.analysis.audit import audit_note, view_of
    from podwall.analysis.explain import Explainer, write_json, write_text
    from podwall.engine import Engine
    from podwall.engine.groups import service_name

    result = load(paths, namespace, pod_cidr, verbose)
    engine = Engine(view_of(result.cluster, audit))
    explainer = Explainer(engine, view)
    print_audit_note(audit_note(result.cluster, audit, explainer.matrix.ports))
    service = service_name(view.focus, namespace) if view.focus is not None else None
    if service is None:
        (write_json if output == "json" else write_text)(explainer, binary_stdout())
        return
    from podwall.analysis.services import service_summaries

    summaries = [s for s in service_summaries(engine) if s.service == service]
    out = binary_stdout()
    if output == "json":
        write_json(explainer, out, b', "service": ' + json.dumps(
            [s.to_json() for s in summaries]).encode())
        return
    for s in summaries:
        out.write(f"{s.heading}\n  every pod, from: {s.every_words}\n"
                  f"  only some, from: {s.some_words}\n".encode())
    out.write(b"\n")
    write_text(explainer, out)


COMMANDS = [validate, check, matrix, explain]
