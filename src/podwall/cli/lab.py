"""`podwall lab …` (real pods as network namespaces) and `podwall dataplane …` (the ruleset)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from podwall.cli.common import (
    EXIT_NO,
    PORT,
    binary_stdout,
    field_validation_option,
    handles_errors,
    load,
    output_option,
)
from podwall.cli.lab_monitor import COMMANDS as MONITOR_COMMANDS
from podwall.cli.lab_monitor import logging_options
from podwall.cli.options import namespace_callback
from podwall.model import DEFAULT_POD_CIDR, PortQuery

F = TypeVar("F", bound=Callable[..., Any])

NAME = click.option("--name", default="default", show_default=True, metavar="NAME",
                    help="Which lab (several can run side by side).")


def _manifest_options(defaults: bool, required: bool = True) -> Callable[[F], F]:
    """PATH... and the options that turn manifests into a cluster (as every verb has them)."""
    def wrap(func: F) -> F:
        func = field_validation_option(func)
        func = click.option("-v", "--verbose", is_flag=True,
                            help="Also report skipped objects and other notes.")(func)
        func = click.option("--pod-cidr", default=DEFAULT_POD_CIDR if defaults else None,
                            show_default=defaults,
                            help="Where pods without status.podIP get their (deterministic) IP"
                            + ("." if defaults else " (default: as at `lab up`)."))(func)
        func = click.option("-n", "--namespace", default="default" if defaults else None,
                            show_default=defaults,
                            callback=namespace_callback,
                            help="Namespace for objects that do not name one"
                            + ("." if defaults else " (default: as at `lab up`)."))(func)
        func = click.argument("paths", nargs=-1, required=required,
                              type=click.Path(exists=True))(func)
        return func
    return wrap


@click.group()
def lab() -> None:
    """A lab of real pods on this machine: prove that the kernel does what the model says.

    Every pod (or workload) becomes a network namespace with servers on its container ports,
    routed through a "node" namespace that holds podwall's nftables ruleset. Nothing is attached
    to the machine's real interfaces and its own ruleset is never touched. Needs root
    (CAP_NET_ADMIN), or a user namespace (see docs/lab.md).

    \b
    Examples:
      sudo podwall lab up examples/three-tier/ --external 192.0.2.10
      sudo podwall lab probe --port TCP/80 --port TCP/5432
      sudo podwall lab verify
      sudo podwall lab apply examples/three-tier-v2/
      sudo podwall lab down
    """


@lab.command()
@_manifest_options(defaults=True, required=False)
@NAME
@click.option("--no-cluster-dns", is_flag=True,
              help="Do not add kube-system, a CoreDNS pod and the kube-dns Service when the "
                   "manifests have none.")
@click.option("--external", "externals", multiple=True, metavar="IP",
              help="Repeatable. A host outside the cluster, in its own namespace (not a pod's "
                   "IP).")
@logging_options
@output_option("text", "json", default="text")
@handles_errors
def up(paths: tuple[str, ...], namespace: str, pod_cidr: str, verbose: bool, name: str,
       no_cluster_dns: bool, externals: tuple[str, ...], log_group: int, log_allowed: bool,
       metrics_address: str, output: str) -> None:
    """Start a lab from manifests (or an empty one): namespaces, veths, servers, ruleset.

    Unless the manifests have their own, the lab adds the cluster DNS every cluster has:
    namespace kube-system, a CoreDNS pod (k8s-app=kube-dns) that really answers DNS, and the
    Service kube-dns at 10.96.0.10, which every pod's resolv.conf names.

    Checked before anything is created: every pod IP must be a usable unicast address (not a
    network, broadcast, multicast, loopback or unspecified one), and the ruleset must compile.
    Two `up` of one name at once: one builds, the other waits and then reports that the lab is
    already up; a failed `up` leaves nothing behind.

    \b
    Examples:
      sudo podwall lab up
      sudo podwall lab up examples/three-tier/
      sudo podwall lab up k8s/ --name demo --external 192.0.2.10 --external 198.51.100.7
      sudo podwall lab up k8s/ -o json | jq .pods
      sudo podwall lab up k8s/ --log-allowed --metrics-address 127.0.0.1:9617

    A collector reads the ruleset's NFLOG group in the node namespace: `lab logs` prints what
    it attributed, `lab metrics` (or a Prometheus scrape of --metrics-address) its counts.
    """
    from podwall.cli.lab_monitor import check_address
    from podwall.lab.lab import Lab, require_root

    require_root()
    the_lab = Lab(name)
    if paths:  # the lab adds its own cluster DNS (cluster_dns), never the model's implied one
        cluster = load(paths, namespace, pod_cidr, verbose, imply=False).cluster
    else:
        from podwall.model import build_cluster

        cluster = build_cluster([], [], [], pod_cidr)
    state = the_lab.up(cluster, list(externals), list(paths),
                       settings={"namespace": namespace, "pod_cidr": pod_cidr},
                       logging={"group": log_group, "logAllowed": log_allowed,
                                "metricsAddress": check_address(metrics_address)},
                       cluster_dns=not no_cluster_dns)
    pods, hosts = len(state["pods"]), len(state["externals"])
    if output == "json":
        click.echo(json.dumps({
            "lab": name, "action": "up", "node": the_lab.node, "sources": list(paths),
            "pods": {k: _host_json(e) for k, e in state["pods"].items()},
            "externals": {k: _host_json(e) for k, e in state["externals"].items()},
            "policies": len(cluster.policies), "audited": len(cluster.audited),
            "collector": the_lab.collector_info()}, indent=2))
        return
    click.echo(f"lab {name} is up: {pods} pod{'s' * (pods != 1)}, {hosts} outside "
               f"host{'s' * (hosts != 1)}; ruleset in namespace {the_lab.node}; metrics on "
               f"http://{the_lab.collector_info()['metricsAddress']}/metrics")


@lab.command()
@_manifest_options(defaults=False, required=False)
@click.option("-f", "--filename", "files", multiple=True, metavar="FILE|-",
              help="Repeatable. Add or change the objects of FILE one by one, as kubectl apply "
                   "(the rest of the lab stays).")
@NAME
@output_option("text", "json", default="text")
@handles_errors
def apply(paths: tuple[str, ...], files: tuple[str, ...], namespace: str | None,
          pod_cidr: str | None, verbose: bool, name: str, output: str) -> None:
    """Reconcile the running lab to new manifests (PATH...), or add objects (-f FILE).

    With -f, as `kubectl apply -f`: each object of FILE is created, configured or unchanged,
    and everything else in the lab stays; one line per connection opened or closed follows.
    With PATH..., the lab becomes exactly PATH...:

    Policies, labels and namespaces change by swapping the ruleset in one nft transaction;
    pods that are gone are removed, new ones are connected only once the new ruleset is in.
    The new ruleset is compiled and checked by the kernel (`nft -c`) before anything changes.
    Also the repair: a lab that a killed `up` or `apply` left half-built is rebuilt where it
    needs to be (listed as "repaired").

    \b
    Examples:
      sudo podwall lab apply examples/three-tier-v2/
      sudo podwall lab apply examples/three-tier-v2/ -o json
      sudo podwall lab apply -f deny-all.yaml
      cat allow.yaml | sudo podwall lab apply -f -
    """
    from podwall.analysis.wording import plural
    from podwall.lab.lab import Lab, require_root
    from podwall.manifests.defaults import check_namespace

    if files:
        if paths:
            raise click.UsageError("give either PATH... (the whole lab) or -f FILE (objects to "
                                   "add or change), not both")
        from podwall.cli.labkube import apply_files

        apply_files(name, files, output, verbose, namespace)
        return
    if not paths:
        raise click.UsageError("give PATH... (the whole lab) or -f FILE (objects to add or "
                               "change)")
    require_root()
    the_lab = Lab(name)
    settings = the_lab.settings()
    namespace = check_namespace(namespace or settings.get("namespace", "default"))
    pod_cidr = pod_cidr or settings.get("pod_cidr", DEFAULT_POD_CIDR)
    cluster = load(paths, namespace, pod_cidr, verbose, imply=False).cluster
    done = the_lab.apply(cluster, list(paths),
                         settings={"namespace": namespace, "pod_cidr": pod_cidr})
    if output == "json":
        click.echo(json.dumps({"lab": name, "action": "apply", "sources": list(paths),
                               "pods": len(cluster.endpoints), "policies": len(cluster.policies),
                               "audited": len(cluster.audited), **done}, indent=2))
        return
    changes = ", ".join(f"{len(done[k])} {k}" for k in ("added", "removed", "repaired",
                                                        "restarted") if done[k])
    click.echo(f"lab {name} applied: {plural(len(cluster.endpoints), 'pod')}, "
               f"{plural(len(cluster.policies), 'policy')}"
               + (f" enforced, {len(cluster.audited)} audited" if cluster.audited else "")
               + (f" ({changes})" if changes else ""))


PORTS = click.option("--port", "ports", type=PORT, multiple=True, metavar="PROTO/PORT",
                     help="Repeatable. Default: every port a container or policy names.")
TIMEOUT = click.option("--timeout", default=0.7, show_default=True, type=click.FloatRange(0.05, 30),
                       help="Seconds without an answer before a probe counts as dropped.")


@lab.command()
@NAME
@PORTS
@TIMEOUT
@output_option("table", "json", default="table")
@handles_errors
def probe(name: str, ports: tuple[PortQuery, ...], timeout: float, output: str) -> None:
    """Real TCP connects and UDP request/replies for every ordered pair and port.

    A timeout is "dropped" (denied); a reset or an ICMP port-unreachable is "refused": the
    network let it through and nothing listens, so it counts as allowed. -o json is the same
    contract as `podwall matrix -o json`.

    \b
    Examples:
      sudo podwall lab probe
      sudo podwall lab probe --port TCP/80 --port UDP/53 -o json
    """
    from podwall.analysis.render.matrix import write_matrix
    from podwall.lab.lab import Lab

    result = Lab(name).probe(list(ports) or None, timeout)
    for note in result.notes:
        click.echo(f"podwall: {note}", err=True)
    write_matrix(result.matrix, output, binary_stdout())


@lab.command()
@NAME
@PORTS
@TIMEOUT
@output_option("text", "json", default="text")
@handles_errors
def verify(name: str, ports: tuple[PortQuery, ...], timeout: float, output: str) -> None:
    """Kernel vs model: probe, run the engine on the lab's manifests, list every disagreement
    with both verdicts and the engine's reasons (exit 1 if any).

    With audited policies (podwall.io/enforcement: audit), probes hold the kernel to the
    enforced view (so nothing is dropped because of them), and each audit counter must have
    grown exactly where the audit view would have dropped a probe that passed (-o json:
    "audit": [{counter, pod, direction, expected, counted, ok, examples}]).

    \b
    Examples:
      sudo podwall lab verify
      sudo podwall lab verify --port TCP/5432 -o json
    """
    from podwall.analysis.wording import (
        audit_disagreement_words,
        audit_verified_words,
        verdict_lines,
    )
    from podwall.lab.lab import Lab

    result = Lab(name).verify(list(ports) or None, timeout)
    kernel = result.kernel
    port_list = ", ".join(str(p) for p in kernel.matrix.ports)
    if output == "json":
        click.echo(json.dumps({
            "lab": name,
            "probes": kernel.probes,
            "ports": [str(p) for p in kernel.matrix.ports],
            "notes": list(kernel.notes),
            "disagreements": [{
                "from": d.src, "to": d.dst, "port": str(d.port),
                "kernel": {"allowed": d.kernel_allowed, "outcome": d.outcome},
                "model": d.verdict.to_json()} for d in result.disagreements],
            "audit": [a.to_json() for a in result.audit],
        }, indent=2))
    else:
        for note in kernel.notes:
            click.echo(f"note: {note}")
        for d in result.disagreements:
            said = "allowed" if d.verdict.allowed else "denied"
            click.echo(f"DISAGREE {d.src} -> {d.dst} {d.port}: kernel {d.outcome} "
                       f"({'allowed' if d.kernel_allowed else 'denied'}), model {said}:")
            click.echo("\n".join("  " + line for line in verdict_lines(d.verdict)))
        for a in result.audit_disagreements:
            click.echo(audit_disagreement_words(a.counter, a.expected, a.counted, a.examples))
        click.echo(f"{len(result.disagreements)} disagreements in {kernel.probes} probes "
                   f"({port_list or 'no ports'})")
        if result.audit:
            click.echo(audit_verified_words(len(result.audit), len(result.audit_disagreements),
                                            sum(a.expected for a in result.audit)))
    if not result.ok:
        sys.exit(EXIT_NO)


@lab.command()
@NAME
@output_option("text", "json", default="text")
@handles_errors
def status(name: str, output: str) -> None:
    """What the lab runs: namespaces, addresses, servers, and the drop counters.

    \b
    Example:
      sudo podwall lab status --name demo
    """
    from podwall.errors import DataplaneError
    from podwall.lab.lab import Lab, require_root

    require_root()
    the_lab = Lab(name)
    state = the_lab.load_state()
    counters = the_lab.counters()
    try:
        collector: dict[str, Any] | None = the_lab.collector_info()
    except DataplaneError:
        collector = None
    if output == "json":
        click.echo(json.dumps({
            "lab": name, "node": the_lab.node, "sources": state.get("sources", []),
            "collector": collector,
            "pods": {k: _host_json(e) for k, e in state["pods"].items()},
            "externals": {k: _host_json(e) for k, e in state["externals"].items()},
            "counters": {k: {"packets": v.packets, "bytes": v.bytes}
                         for k, v in sorted(counters.items())}}, indent=2))
        return
    click.echo(f"lab {name}: node {the_lab.node}, from {' '.join(state.get('sources', []))}")
    click.echo(f"collector: NFLOG group {collector['group']}, metrics on "
               f"http://{collector['metricsAddress']}/metrics" if collector else
               "collector: not running (`lab apply` starts it again)")
    for kind in ("pods", "externals"):
        for key, entry in state[kind].items():
            ports = ", ".join(f"{p}/{n}" for p, n in entry["ports"]) or "-"
            click.echo(f"  {key:<32} {entry['ip']:<15} {entry['netns']:<20} {ports}")
    dropped = {k: v for k, v in counters.items() if v.packets}
    click.echo(f"drop counters: {len(counters)}, {len(dropped)} non-zero")
    for key, value in sorted(dropped.items()):
        click.echo(f"  {key}: {value.packets} packets")


@lab.command()
@NAME
@output_option("text", "json", default="text")
@handles_errors
def down(name: str, output: str) -> None:
    """Remove every namespace, process and file of the lab (safe to repeat, also after a crash).

    \b
    Examples:
      sudo podwall lab down --name demo
      sudo podwall lab down --name demo -o json
    """
    from podwall.analysis.wording import plural
    from podwall.lab.lab import Lab

    removed = Lab(name).down()
    if output == "json":
        click.echo(json.dumps({"lab": name, "action": "down", "removed": removed}, indent=2))
        return
    click.echo(f"lab {name} is down ({plural(len(removed), 'namespace')} removed)")


def _host_json(entry: dict[str, Any]) -> dict[str, Any]:
    """A host of the lab as `up` and `status` print it."""
    return {"netns": entry["netns"], "interface": entry["ifname"], "ip": entry["ip"],
            "ports": [f"{proto}/{port}" for proto, port in entry["ports"]], "pid": entry["pid"]}


@click.group()
def dataplane() -> None:
    """The nftables ruleset podwall enforces (routed node, verdict maps, sets).

    \b
    Example:
      podwall dataplane compile examples/three-tier/ > ruleset.nft
    """


@dataplane.command(name="compile")
@_manifest_options(defaults=True)
@click.option("--node-pods", default=None, metavar="NS/NAME,...",
              help="The pods on this node (default: every endpoint).")
@click.option("--check", is_flag=True,
              help="Also have the kernel validate it (`nft -c`, changes nothing; needs root).")
@click.option("--log-group", default=100, show_default=True, type=click.IntRange(0, 65535),
              metavar="N", help="The NFLOG group drops are logged to.")
@click.option("--log-allowed", is_flag=True,
              help="Also log the first packet of every allowed connection (as `lab up "
                   "--log-allowed`).")
@output_option("text", "json", default="text")
@handles_errors
def compile_(paths: tuple[str, ...], namespace: str, pod_cidr: str, verbose: bool,
             node_pods: str | None, check: bool, log_group: int, log_allowed: bool,
             output: str) -> None:
    """Print the nftables ruleset of a node for review (no root needed).

    The pods' node-side interfaces are named pw-p<N> (N = position among all endpoints), as in
    the lab; a summary goes to stderr.

    \b
    Examples:
      podwall dataplane compile examples/three-tier/ > ruleset.nft
      podwall dataplane compile examples/three-tier/ --node-pods shop/web,shop/api --check
      podwall dataplane compile examples/three-tier/ -o json | jq .summary
      podwall dataplane compile examples/three-tier/ --log-allowed --log-group 7

    -o json: {"table", "interfaces": {pod: ifname}, "summary": {chains, rules, sets, ...},
    "counters": [{name, pod, direction}], "checked", "ruleset": the nft text} (see
    docs/dataplane.md).
    """
    from podwall.dataplane import NftBackend, compile_ruleset
    from podwall.engine import Engine
    from podwall.errors import QueryError

    cluster = load(paths, namespace, pod_cidr, verbose, imply=False).cluster
    wanted = [p.strip() for p in node_pods.split(",") if p.strip()] if node_pods else None
    if wanted is not None:
        unknown = [key for key in wanted if cluster.endpoint(key) is None]
        if unknown:
            raise QueryError(f"--node-pods: no endpoint {', '.join(unknown)} in the input")
    interfaces = {ep.key: f"pw-p{i}" for i, ep in enumerate(cluster.endpoints)
                  if wanted is None or ep.key in wanted}
    ruleset = compile_ruleset(Engine(cluster), interfaces, log_group=log_group,
                              log_allowed=log_allowed)
    if check:
        NftBackend().check(ruleset)
    if output == "json":
        click.echo(json.dumps(_ruleset_json(ruleset, interfaces, check), indent=2))
        return
    click.echo(ruleset.text, nl=False)
    click.echo(f"# {ruleset.summary()}{'; nft -c: ok' if check else ''}", err=True)


def _ruleset_json(ruleset: Any, interfaces: dict[str, str], checked: bool) -> dict[str, Any]:
    """`dataplane compile -o json`: podwall's model of the table, and its nft text.

    Not nft's own JSON (`nft -j`): that needs the kernel to parse the text; once applied,
    `nft -j list table inet podwall` gives it.
    """
    return {
        "table": ruleset.text.split("{", 1)[0].strip(),
        "interfaces": interfaces,
        "summary": {"chains": ruleset.chains, "rules": ruleset.rules, "sets": ruleset.sets,
                    "setElements": ruleset.set_elements, "maps": ruleset.maps,
                    "mapElements": ruleset.map_elements},
        "counters": [{"name": c.name, "pod": c.pod, "direction": c.direction.word,
                      "action": c.action}
                     for c in ruleset.counters],
        "checked": checked,
        "ruleset": ruleset.text,
    }


# watching the lab (lab logs, lab metrics) lives in podwall.cli.lab_monitor
for _command in MONITOR_COMMANDS:
    lab.add_command(_command)


def _kubectl_verbs() -> None:
    """run, expose, exec, get, describe, delete, label, list: in podwall.cli.labkube."""
    from podwall.cli.labkube import COMMANDS as KUBE

    for command in KUBE:
        lab.add_command(command)


_kubectl_verbs()
COMMANDS = [lab, dataplane]
