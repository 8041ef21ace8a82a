"""`podwall lab run|expose|exec|get|describe|delete|label|list`: the tutorials' kubectl workflow.

Registered on the `lab` group of podwall.cli.lab. Every verb that changes the lab prints what
it changed as kubectl does (`pod/nginx created`) and then one line per connection it opened
(`+`) or closed (`-`), with the rule that says so (podwall's diff of the two snapshots).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import click

from podwall.cli.common import handles_errors, load, output_option
from podwall.cli.options import namespace_callback

NAME = click.option("--name", default="default", show_default=True, metavar="NAME",
                    help="Which lab (several can run side by side).")
NAMESPACE = click.option("-n", "--namespace", default="default", show_default=True,
                         callback=namespace_callback, help="The object's namespace.")
CHANGE_OUTPUT = output_option("text", "json", default="text")


def _change(name: str, output: str, mutate: Callable[[Any], Any],
            changes: Callable[[], list[Any]]) -> None:
    """Apply `mutate` to the lab's snapshot, then print the changes and the connectivity diff."""
    from podwall.analysis.diff import diff_clusters
    from podwall.analysis.render.diff import DETAIL_LIMIT, diff_text
    from podwall.lab.lab import Lab, require_root

    require_root()
    old, new = Lab(name).update(mutate)
    diff = diff_clusters(old, new, detail_limit=DETAIL_LIMIT)
    done = changes()
    if output == "json":
        click.echo(json.dumps({"lab": name, "changes": [c.to_json() for c in done],
                               "connectivity": diff.to_json()}, indent=2))
        return
    for change in done:
        click.echo(change.line)
    if old != new:
        click.echo(diff_text(diff), nl=False)


@click.command()
@click.argument("pod")
@NAMESPACE
@click.option("--labels", default=None, metavar="K=V,...",
              help="The pod's labels (default: run=POD, as kubectl run).")
@click.option("--port", "ports", multiple=True, metavar="PORT[/PROTO]",
              help="Repeatable. A container port with a server on it: TCP answers HTTP, UDP "
                   "echoes.")
@click.option("--image-like", default=None, metavar="IMAGE",
              help="Ports of a well-known image when no --port is given (nginx: 80/TCP, "
                   "redis: 6379/TCP, coredns: 53/UDP+TCP, busybox: none, ...).")
@NAME
@CHANGE_OUTPUT
@handles_errors
def run(pod: str, namespace: str, labels: str | None, ports: tuple[str, ...],
        image_like: str | None, name: str, output: str) -> None:
    """Start a pod in the lab: a namespace with an IP, servers on its ports, a DNS name.

    Reconciled into the ruleset atomically, like `lab apply`. A namespace that does not exist
    yet is created (label it with `lab label namespace`).

    \b
    Examples:
      sudo podwall lab run nginx --labels app=nginx --port 80
      sudo podwall lab run web -n shop --image-like nginx
      sudo podwall lab run client --labels app=frontend
    """
    from podwall.lab import kube

    chosen = [kube.parse_port(p) for p in ports]
    parsed = kube.parse_labels(labels) if labels is not None else None
    _change(name, output,
            lambda c: kube.run_pod(c, namespace, pod, parsed, chosen, image_like),
            lambda: [kube.Change("Pod", namespace, pod, "created")])


@click.command()
@click.argument("pod")
@NAMESPACE
@click.option("--port", "port", default=None, metavar="PORT[/PROTO]",
              help="The Service's port (default: the pod's first container port).")
@click.option("--target-port", default=None, metavar="PORT|NAME",
              help="The pod's port (default: --port); a name resolves on each pod.")
@click.option("--service-name", default=None, metavar="SVC",
              help="The Service's name (default: the pod's).")
@NAME
@CHANGE_OUTPUT
@handles_errors
def expose(pod: str, namespace: str, port: str | None, target_port: str | None,
           service_name: str | None, name: str, output: str) -> None:
    """A ClusterIP Service in front of a pod (selecting the pod's labels), as `kubectl expose`.

    It works as in a cluster: DNAT in the node before policy, so policies judge the pod behind
    it, and `wget SVC` resolves through the lab's DNS.

    \b
    Examples:
      sudo podwall lab expose nginx --port 80
      sudo podwall lab expose db -n shop --port 5432 --service-name postgres
    """
    from podwall.lab import kube

    number, protocol = kube.parse_port(port) if port is not None else (None, None)
    target: int | str | None = target_port
    if target_port is not None and target_port.isdigit():
        target = int(target_port)
    exposed: list[Any] = []

    def mutate(cluster: Any) -> Any:
        new, service = kube.expose(cluster, namespace, pod, number, service_name, target,
                                   protocol)
        exposed.append(service)
        return new

    _change(name, output, mutate,
            lambda: [kube.Change("Service", namespace, s.name, "exposed") for s in exposed])


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("pod")
@NAMESPACE
@NAME
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@handles_errors
def exec_(pod: str, namespace: str, name: str, command: tuple[str, ...]) -> None:
    """Run a command in a pod's network namespace, with the lab's DNS in its resolv.conf.

    The command's exit code is this verb's: `wget` succeeds when the policies allow it and
    times out when they do not.

    \b
    Examples:
      sudo podwall lab exec client -- wget -qO- -T 2 nginx
      sudo podwall lab exec client -n shop -- busybox nslookup nginx.default
      sudo podwall lab exec client -- sh
    """
    from podwall.lab import kube
    from podwall.lab import topology as topo
    from podwall.lab.lab import Lab, require_root

    require_root()
    lab = Lab(name)
    state = lab.load_state()
    kube.find_pod(lab.cluster(), namespace, pod)
    entry = state["pods"].get(f"{namespace}/{pod}")
    if entry is None:
        raise kube.not_found("pod", pod)
    argv = list(command[1:] if command and command[0] == "--" else command)
    if not argv:
        raise click.UsageError("give the command after --: lab exec POD -- CMD...")
    proc = subprocess.run([topo.tool("ip"), "netns", "exec", topo.ip_arg(entry["netns"]), *argv],
                          check=False, env={**os.environ, "PODWALL_LAB_POD": f"{namespace}/{pod}"})
    sys.exit(proc.returncode)


exec_.name = "exec"

KINDS = "networkpolicies|pods|services"


@click.command()
@click.argument("kind", metavar=KINDS)
@click.argument("names", nargs=-1)
@click.option("-n", "--namespace", default=None, callback=namespace_callback,
              help="Only this namespace (default: default).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace.")
@click.option("--show-labels", is_flag=True, help="A LABELS column (pods).")
@NAME
@output_option("table", "wide", "json", "yaml", default="table")
@handles_errors
def get(kind: str, names: tuple[str, ...], namespace: str | None, all_namespaces: bool,
        show_labels: bool, name: str, output: str) -> None:
    """List the lab's objects with kubectl's columns (short names: netpol, po, svc).

    \b
    Examples:
      sudo podwall lab get pods -o wide
      sudo podwall lab get netpol -A
      sudo podwall lab get svc nginx -o yaml
    """
    from podwall.lab import kube, objects, views
    from podwall.lab import topology as topo
    from podwall.lab.lab import Lab, require_root

    require_root()
    resource = kube.resource(kind)
    if resource == "namespace":
        raise click.UsageError(f"lab get lists {KINDS}")
    lab = Lab(name)
    state = lab.load_state()
    cluster = lab.cluster()
    created = lab.created()
    servers = topo.lab_processes(name)
    running = {key for key, e in state["pods"].items()
               if e.get("connected") and (e.get("pid") in servers or not e.get("pid"))}
    scope = None if all_namespaces else {namespace or "default"}
    if output in ("json", "yaml"):
        items = views.manifests(resource, cluster, scope, names, created, running)
        missing = [n for n in names if not any(i["metadata"]["name"] == n for i in items)]
        if missing:
            raise kube.not_found(resource, missing[0])
        data = items[0] if len(names) == 1 else objects.as_list(items)
        if output == "json":
            click.echo(json.dumps(data, indent=4))
        else:
            import yaml

            click.echo(yaml.safe_dump(data, sort_keys=False), nl=False)
        return
    rows = views.rows(resource, cluster, scope, names, created, running, output == "wide",
                      show_labels, lab.node)
    if names and (not rows or len(rows) - 1 < len(names)):
        shown = {row[1 if scope is None else 0] for row in rows[1:]}
        raise kube.not_found(resource, next(n for n in names if n not in shown))
    if not rows:
        where = "" if scope is None else f" in {namespace or 'default'} namespace"
        click.echo(f"No resources found{where}.", err=True)
        return
    click.echo(views.table(rows), nl=False)


@click.command()
@click.argument("kind", metavar="networkpolicy")
@click.argument("policy")
@NAMESPACE
@NAME
@handles_errors
def describe(kind: str, policy: str, namespace: str, name: str) -> None:
    """kubectl's description of a NetworkPolicy, plus what it selects and admits in the lab.

    \b
    Example:
      sudo podwall lab describe networkpolicy access-nginx
    """
    from podwall.lab import kube, views
    from podwall.lab.lab import Lab, require_root

    require_root()
    if kube.resource(kind) != "networkpolicy":
        raise click.UsageError("lab describe describes networkpolicies")
    lab = Lab(name)
    cluster = lab.cluster()
    found = kube.policy(cluster, namespace, policy)
    click.echo(views.describe_policy(found, cluster,
                                     lab.created().get(f"NetworkPolicy/{found.key}")), nl=False)


@click.command()
@click.argument("kind", metavar="networkpolicy|pod|service|namespace")
@click.argument("names", nargs=-1, required=True)
@NAMESPACE
@NAME
@CHANGE_OUTPUT
@handles_errors
def delete(kind: str, names: tuple[str, ...], namespace: str, name: str, output: str) -> None:
    """Delete objects from the lab (a namespace takes everything in it along).

    \b
    Examples:
      sudo podwall lab delete networkpolicy default-deny
      sudo podwall lab delete pod client -n other
      sudo podwall lab delete svc nginx
    """
    from podwall.lab import kube

    resource = kube.resource(kind)
    done: list[Any] = []

    def mutate(cluster: Any) -> Any:
        done.clear()
        for target in names:
            cluster, change = kube.delete(cluster, resource, namespace, target)
            done.append(change)
        return cluster

    _change(name, output, mutate, lambda: done)


@click.command()
@click.argument("kind", metavar="pod|namespace")
@click.argument("target")
@click.argument("edits", nargs=-1, required=True, metavar="KEY=VALUE|KEY-...")
@NAMESPACE
@click.option("--overwrite", is_flag=True, help="Change a label that already has a value.")
@NAME
@CHANGE_OUTPUT
@handles_errors
def label(kind: str, target: str, edits: tuple[str, ...], namespace: str, overwrite: bool,
          name: str, output: str) -> None:
    """Set (k=v) or remove (k-) labels of a pod or namespace; the ruleset follows at once.

    \b
    Examples:
      sudo podwall lab label pod client access=true
      sudo podwall lab label pod client access-
      sudo podwall lab label namespace other team=frontend
    """
    from podwall.lab import kube

    resource = kube.resource(kind)
    done: list[Any] = []

    def mutate(cluster: Any) -> Any:
        done.clear()
        cluster, change = kube.label(cluster, resource, namespace, target, edits, overwrite)
        done.append(change)
        return cluster

    _change(name, output, mutate, lambda: done)


def apply_files(name: str, files: tuple[str, ...], output: str, verbose: bool,
                namespace: str | None = None) -> None:
    """`lab apply -f FILE|-`: each object created, configured or left unchanged, as kubectl."""
    from podwall.lab import kube
    from podwall.lab.lab import Lab, require_root

    require_root()
    settings = Lab(name).settings()
    loaded = load(files, namespace or settings.get("namespace", "default"),
                  settings.get("pod_cidr", "10.244.0.0/16"), verbose, imply=False).cluster
    done: list[Any] = []

    def mutate(cluster: Any) -> Any:
        new, changes = kube.apply_objects(cluster, loaded)
        done[:] = changes
        return new

    _change(name, output, mutate, lambda: done)


@click.command(name="list")
@output_option("table", "json", default="table")
@handles_errors
def list_(output: str) -> None:
    """The labs on this machine (for this state root), with what each runs.

    \b
    Example:
      sudo podwall lab list
    """
    from podwall.lab.inventory import labs

    found = labs()
    if output == "json":
        click.echo(json.dumps({"labs": found}, indent=2))
        return
    if not found:
        click.echo("No labs found.", err=True)
        return
    from podwall.lab import views

    click.echo(views.table([["NAME", "STATUS", "PODS", "SERVICES", "POLICIES", "NODE"]] + [
        [lab["name"], lab["status"], str(lab["pods"]), str(lab["services"]),
         str(lab["policies"]), lab["node"]] for lab in found]), nl=False)


COMMANDS = [run, expose, exec_, get, describe, delete, label, list_]
