#!/usr/bin/env python3
"""Data plane benchmarks (root): ruleset compile + atomic apply, sizes, and per-packet cost.

    sudo python benchmarks/bench_dataplane.py [--pods 10000] [--local 1000] [--seconds 5]
        [--repeat 3] [--side-by-side 20]

1. A node with --local pods among --pods cluster pods (and pods/5 policies, from generate.py):
   compile time, `nft -f` apply time (create, then replace), chains/rules/sets/elements.
2. Two pods of that node whose traffic the policies allow on some TCP port, in network namespaces
   routed through a node namespace: TCP throughput (iperf3) and new-connection rate, with no
   ruleset, with a conntrack-only ruleset (what any stateful firewall pays: every connection
   gets a conntrack entry), and with the whole node ruleset loaded (their chains are the real
   ones). The connection rate twice: --clients connecting in parallel to as many servers (the
   node's capacity: the rate), and one client alone (each connect waits for the one before, so
   this is per-connection latency). The three setups take turns, round after round, each round
   starting with the next one (drift on a shared machine hits them alike), and the node
   namespace's conntrack table is emptied before every run (`conntrack -F` there, if installed:
   otherwise a run inherits its predecessor's TIME_WAIT entries); each figure is the median of
   --repeat rounds, and the connection rate's ratio is also given round by round.
3. --nflog: a fourth setup, the node ruleset compiled with --log-allowed (the first packet of
   every connection goes to NFLOG, as `lab up --log-allowed` does) with podwall's NFLOG reader
   consuming the group in the node namespace: the connection rates again (the kernel's cost of
   logging a packet is the difference in per-connection time), and the reader's CPU time per
   event and events lost.
4. --side-by-side ROUNDS (after the rounds above; 0: not at all): the connection-rate ratio
   "node ruleset / conntrack only", measured in pairs. Taking turns (2.) leaves the two setups
   at different moments of a shared machine, and their rates move by ±15% from round to round:
   11 rounds cannot tell 90% from 95%. Here two node namespaces stand side by side, each with
   its own pod pair (the same addresses: the namespaces are separate), one setup loaded in
   each; both loads (--clients connect loops and as many servers per side) run at the same
   time, counting from the same moment to the same end, so both setups see the same machine;
   the setups swap sides every round (a side's own advantage cancels). Each round gives one
   ratio; the figure is their median, with mean, sd and every round. A control, conntrack only
   on both sides (ROUNDS/4 rounds, at least 4), shows the method's own bias and noise.
Everything is named pw-bench-* and removed at the end, also on failure. Needs iperf3 (Debian:
apt-get install iperf3).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from bench_engine import ensure_input  # noqa: E402

from podwall.dataplane import NftBackend, Ruleset, compile_ruleset  # noqa: E402
from podwall.engine import Engine  # noqa: E402
from podwall.manifests import load_cluster  # noqa: E402
from podwall.model import Endpoint, PortQuery, Protocol  # noqa: E402

NODE, A, B = "pw-bench-node", "pw-bench-a", "pw-bench-b"
# The second side of --side-by-side: (node, client pod, server pod) namespaces for each side.
NODE2, A2, B2 = "pw-bench-node2", "pw-bench-a2", "pw-bench-b2"
SIDES = ((NODE, A, B), (NODE2, A2, B2))


def sh(*args: str, check: bool = True, input_text: str | None = None) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=check,
                          input=input_text).stdout


def topology(ifa: str, ifb: str, ip_a: str, ip_b: str, side: tuple[str, str, str] = SIDES[0]
             ) -> None:
    """A node namespace routing between two pod namespaces; `side` names them (node, a, b)."""
    node, pod_a, pod_b = side
    sh("ip", "netns", "add", node)
    sh("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    for ns, ifname, ip in ((pod_a, ifa, ip_a), (pod_b, ifb, ip_b)):
        sh("ip", "netns", "add", ns)
        # Thousands of short connections a second leave the client's ports in TIME_WAIT: let
        # connect() reuse them, over the whole range, or the rate measures port exhaustion.
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1",
           "net.ipv4.ip_local_port_range=1024 65535")
        sh("ip", "-n", node, "link", "add", ifname, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", f"{ip}/32", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
        sh("ip", "-n", ns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
        sh("ip", "-n", node, "addr", "add", "169.254.1.1/32", "dev", ifname)
        sh("ip", "-n", node, "link", "set", ifname, "up")
        sh("ip", "-n", node, "route", "add", f"{ip}/32", "dev", ifname)


def teardown() -> None:
    for ns in (A, B, NODE, A2, B2, NODE2):
        for pid in sh("ip", "netns", "pids", ns, check=False).split():
            subprocess.run(["kill", "-9", pid], check=False)
        sh("ip", "netns", "del", ns, check=False)


def throughput(ip_b: str, port: int, seconds: int) -> float:
    server = subprocess.Popen(["ip", "netns", "exec", B, "iperf3", "-s", "-1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        out = sh("ip", "netns", "exec", A, "iperf3", "-c", ip_b, "-p", str(port), "-t",
                 str(seconds), "-J")
        return float(json.loads(out)["end"]["sum_received"]["bits_per_second"]) / 1e9
    finally:
        server.kill()
        server.wait()


CONNECT_LOOP = """
import socket, sys, time
ip, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
if len(sys.argv) > 4:  # a wall-clock time to start at, shared by the loops of both sides
    time.sleep(max(0.0, float(sys.argv[4]) - time.time()))
n, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.create_connection((ip, port), timeout=1); s.close(); n += 1
print(n / seconds)
"""

ACCEPT_LOOP = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # parallel servers share the port
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
"""


def connection_rate(ip_b: str, port: int, seconds: int, clients: int = 1) -> float:
    """New TCP connections per second: `clients` connect/close loops against as many servers."""
    return connection_rates([SIDES[0]], ip_b, port, seconds, clients)[0]


def connection_rates(sides: Sequence[tuple[str, str, str]], ip_b: str, port: int, seconds: int,
                     clients: int, start_in: float | None = None) -> list[float]:
    """connection_rate on several sides at once, one figure per side.

    Every side's servers are up before any client starts. With `start_in`, every loop waits
    for the same moment, that many seconds after they are launched, before it counts: starting
    16 interpreters on 2 cores takes a good part of a second, and without the common start the
    loops launched first would count alone for a while, and the last ones alone at the end.
    """
    servers = [subprocess.Popen(["ip", "netns", "exec", b, sys.executable, "-c", ACCEPT_LOOP,
                                 str(port)]) for _, _, b in sides for _ in range(clients)]
    time.sleep(0.5)
    start = [] if start_in is None else [f"{time.time() + start_in:.6f}"]
    try:
        loops = [[subprocess.Popen(["ip", "netns", "exec", a, sys.executable, "-c", CONNECT_LOOP,
                                    ip_b, str(port), str(seconds), *start],
                                   stdout=subprocess.PIPE, text=True) for _ in range(clients)]
                 for _, a, _ in sides]
        return [sum(float(loop.communicate()[0]) for loop in side) for side in loops]
    finally:
        for server in servers:
            server.kill()
            server.wait()


def _isolated_allowed_pairs(
    engine: Engine, local: list[Endpoint]
) -> Iterator[tuple[Endpoint, Endpoint, int]]:
    """Pairs whose TCP traffic is allowed while both ends are isolated (both chains traversed)."""
    for a in local:
        for b in local:
            if a is b:
                continue
            for cp in b.ports:
                if cp.protocol is not Protocol.TCP:
                    continue
                verdict = engine.check(a, b, PortQuery(Protocol.TCP, cp.port))
                if verdict.allowed and verdict.egress.isolated and verdict.ingress.isolated:
                    yield a, b, cp.port


READER = """
import json, sys, threading, time
from podwall.dataplane.nflog import NflogSocket
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
with NflogSocket(int(sys.argv[2]), netns=sys.argv[1]) as log:
    print("ready", flush=True)
    events, started = 0, time.process_time()
    while not stop.is_set():
        events += len(log.read(timeout=0.1))
    events += len(log.read(timeout=0.2))
    print(json.dumps({"events": events, "lost": log.lost, "cpu": time.process_time() - started}))
"""


class Reader:
    """podwall's NFLOG reader in its own process, counting events and its own CPU time."""

    def __init__(self, group: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER, NODE, str(group)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(HERE.parent / "src")})
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def finish(self) -> dict[str, float]:
        out, _ = self.proc.communicate("", timeout=60)
        result: dict[str, float] = json.loads(out)
        return result


CONNTRACK_ONLY = """table inet pw-bench-ct {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    ct state invalid drop
  }
}
"""


@dataclass
class Figures:
    """One setup's runs: TCP throughput (Gbit/s), connections/s (parallel, one client)."""

    throughput: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    rate_one: list[float] = field(default_factory=list)

    def medians(self) -> tuple[float, float, float]:
        return (statistics.median(self.throughput), statistics.median(self.rate),
                statistics.median(self.rate_one))


def forget_connections(node: str = NODE) -> None:
    """Empty a node namespace's conntrack table (that namespace's only: tables are per netns).

    A 5-second run of short connections leaves ~60,000 entries in TIME_WAIT for 120 s, over
    nearly all of the client's 64k source ports, so the next run's SYNs land on old entries.
    Without this, whichever setup ran after another stateful one paid for its leftovers.
    """
    if shutil.which("conntrack") is not None:
        sh("ip", "netns", "exec", node, "conntrack", "-F", check=False)


def measure(figures: Figures, ip_b: str, port: int, seconds: int, clients: int) -> None:
    forget_connections()
    figures.throughput.append(throughput(ip_b, port, seconds))
    forget_connections()
    figures.rate.append(connection_rate(ip_b, port, seconds, clients))
    forget_connections()
    figures.rate_one.append(connection_rate(ip_b, port, seconds))


def load(setup: str, node: str, ruleset: Ruleset) -> None:
    """Leave `setup` ("conntrack" or "ruleset") alone in a node namespace, its conntrack empty.

    `nft flush ruleset` there first: whatever the previous round loaded on this side goes (the
    namespace is ours, nothing else lives in it). The node ruleset goes in through the real
    backend, so it is the product's ruleset in its real form (tables, maps, generations).
    """
    sh("ip", "netns", "exec", node, "nft", "flush", "ruleset")
    if setup == "conntrack":
        sh("ip", "netns", "exec", node, "nft", "-f", "-", input_text=CONNTRACK_ONLY)
    elif setup == "ruleset":
        NftBackend(netns=node).apply(ruleset)
    else:
        raise ValueError(f"unknown setup {setup!r}")
    forget_connections(node)


@dataclass
class SideBySide:
    """Rounds of setup x against setup y, run at the same time on two sides.

    rate_x and rate_y are each round's connections/s; x_side is the side (1 or 2) x had.
    """

    x: str
    y: str
    rate_x: list[float] = field(default_factory=list)
    rate_y: list[float] = field(default_factory=list)
    x_side: list[int] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [rx / ry for rx, ry in zip(self.rate_x, self.rate_y, strict=True)]


def side_by_side(x: str, y: str, rounds: int, ruleset: Ruleset, ip_b: str, port: int,
                 seconds: int, clients: int) -> SideBySide:
    """x's connection rate against y's, both loaded at once, x and y swapping sides each round.

    Each side's node namespace gets its setup afresh and an empty conntrack table before every
    round (`load`), so no round inherits the previous one's TIME_WAIT entries.
    """
    result = SideBySide(x, y)
    for round_ in range(rounds):
        # x on side 1 in even rounds, on side 2 in odd ones: whatever favours a side cancels.
        side_x, side_y = SIDES if round_ % 2 == 0 else SIDES[::-1]
        load(x, side_x[0], ruleset)
        load(y, side_y[0], ruleset)
        rate_x, rate_y = connection_rates([side_x, side_y], ip_b, port, seconds, clients,
                                          start_in=1.0)
        result.rate_x.append(rate_x)
        result.rate_y.append(rate_y)
        result.x_side.append(1 + round_ % 2)
        print(f"side by side {x} / {y}, round {round_ + 1}/{rounds}: {rate_x:.0f} / "
              f"{rate_y:.0f} /s, {100 * rate_x / rate_y:.1f}%", file=sys.stderr, flush=True)
    return result


def side_by_side_row(what: str, paired: SideBySide) -> str:
    """The median of the per-round ratios, with mean, sd and every round (sorted)."""
    ratios = [100 * r for r in paired.ratios()]
    sd = statistics.stdev(ratios) if len(ratios) > 1 else 0.0
    return (f"| {what} | median {statistics.median(ratios):.1f}% (mean "
            f"{statistics.mean(ratios):.1f}%, sd {sd:.1f}, {len(ratios)} rounds: "
            f"{', '.join(f'{r:.1f}' for r in sorted(ratios))}%; rates "
            f"{statistics.median(paired.rate_x):.0f} / {statistics.median(paired.rate_y):.0f} /s) |")


def row(what: str, unit: str, none: float, ct: float, rules: float, digits: int) -> str:
    return (f"| {what}: no ruleset / conntrack only / the node ruleset | {none:.{digits}f} / "
            f"{ct:.{digits}f} / {rules:.{digits}f} {unit} ({100 * rules / none:.0f}% of none, "
            f"{100 * rules / ct:.0f}% of conntrack only) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--local", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nflog", action="store_true",
                        help="also measure the node ruleset with --log-allowed and the reader")
    parser.add_argument("--clients", type=int, default=4,
                        help="parallel connect loops for the connection rate (default 4)")
    parser.add_argument("--side-by-side", type=int, default=20, metavar="ROUNDS",
                        help="rounds of the node ruleset against conntrack only, loaded at the "
                             "same time on two node namespaces (after the rounds above; plus "
                             "ROUNDS/4, at least 4, of conntrack only against itself; 0: none; "
                             "default 20)")
    args = parser.parse_args()
    if shutil.which("iperf3") is None:
        print("iperf3 is not installed (Debian: apt-get install iperf3)", file=sys.stderr)
        return 2
    cluster = load_cluster([str(ensure_input(args.pods, "yaml"))], pod_cidr="10.0.0.0/8").cluster
    engine = Engine(cluster)
    local = list(cluster.endpoints[: args.local])
    interfaces = {ep.key: f"pw-p{i}" for i, ep in enumerate(local)}
    compiles = []
    for _ in range(args.repeat):  # each from scratch: the compiler keeps nothing between runs
        started = time.perf_counter()
        ruleset = compile_ruleset(engine, interfaces)
        compiles.append(time.perf_counter() - started)
    compile_s = statistics.median(compiles)
    # Two local pods that the policies let talk over TCP, both isolated (the worst case: both
    # chains are traversed), and a port to run the servers on.
    pair = next(_isolated_allowed_pairs(engine, local), None)
    if pair is None:
        print("no allowed, isolated TCP pair among the local pods", file=sys.stderr)
        return 1
    a, b, port = pair
    teardown()
    try:
        topology(interfaces[a.key], interfaces[b.key], str(a.ip), str(b.ip))
        backend = NftBackend(netns=NODE)
        started = time.perf_counter()
        backend.apply(ruleset)
        apply_create = time.perf_counter() - started
        replaces = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            backend.apply(ruleset)
            replaces.append(time.perf_counter() - started)
        apply_replace = statistics.median(replaces)
        backend.remove()
        setups = {"none": Figures(), "conntrack": Figures(), "ruleset": Figures()}
        logged = compile_ruleset(engine, interfaces, log_allowed=True) if args.nflog else None
        if logged is not None:
            setups["logged"] = Figures()
        readings: list[dict[str, float]] = []
        names = list(setups)
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat}", file=sys.stderr, flush=True)
            # Each round starts with the next setup: none of them always runs first or last.
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                figures = setups[name]
                if name == "conntrack":
                    sh("ip", "netns", "exec", NODE, "nft", "-f", "-", input_text=CONNTRACK_ONLY)
                elif name == "ruleset":
                    backend.apply(ruleset)
                elif name == "logged" and logged is not None:
                    backend.apply(logged)
                    reader = Reader(100)
                measure(figures, str(b.ip), port, args.seconds, args.clients)
                if name == "conntrack":
                    sh("ip", "netns", "exec", NODE, "nft", "delete", "table", "inet", "pw-bench-ct")
                elif name in ("ruleset", "logged"):
                    if name == "logged":
                        readings.append(reader.finish())
                    backend.remove()
        together: dict[str, SideBySide] = {}
        if args.side_by_side > 0:
            topology(interfaces[a.key], interfaces[b.key], str(a.ip), str(b.ip), SIDES[1])
            for x, y, rounds in (("ruleset", "conntrack", args.side_by_side),
                                 ("conntrack", "conntrack", max(4, args.side_by_side // 4))):
                together[f"{x}/{y}"] = side_by_side(x, y, rounds, ruleset, str(b.ip), port,
                                                    args.seconds, args.clients)
    finally:
        teardown()
    base_tp, base_cr, base_one = setups["none"].medians()
    ct_tp, ct_cr, ct_one = setups["conntrack"].medians()
    rule_tp, rule_cr, rule_one = setups["ruleset"].medians()
    print(f"data plane benchmark: node with {len(local)} local pods of {len(cluster.endpoints)}, "
          f"{len(cluster.policies)} policies; pair {a.key} -> {b.key} TCP/{port}")
    print("| what | value |\n|---|---|")
    print(f"| ruleset | {ruleset.summary()} |")
    print(f"| compile | {compile_s:.3f} s |")
    print(f"| nft apply (create / atomic replace) | {apply_create:.3f} s / {apply_replace:.3f} s |")
    print(f"| compile + apply | {compile_s + apply_replace:.3f} s |")
    print(row("TCP throughput (iperf3)", "Gbit/s", base_tp, ct_tp, rule_tp, 2))
    print(row(f"new TCP connections/s, {args.clients} clients", "/s", base_cr, ct_cr, rule_cr, 0))
    print(row("new TCP connections/s, one client", "/s", base_one, ct_one, rule_one, 0))
    paired = sorted(r / c for r, c in zip(setups["ruleset"].rate, setups["conntrack"].rate,
                                          strict=True))
    print(f"| new TCP connections/s, {args.clients} clients, per round: the node ruleset / "
          f"conntrack only | median {100 * statistics.median(paired):.0f}%, rounds "
          f"{', '.join(f'{100 * p:.0f}%' for p in paired)} |")
    per_side = f"new TCP connections/s, {args.clients} clients per side, side by side"
    for name, what in (("ruleset/conntrack", "node ruleset / conntrack only"),
                       ("conntrack/conntrack", "conntrack only / conntrack only (the method's "
                                               "control: its own bias and noise)")):
        if name in together:
            print(side_by_side_row(f"{per_side}: {what}", together[name]))
    if "logged" in setups:
        log_tp, log_cr, log_one = setups["logged"].medians()
        events = sum(r["events"] for r in readings)
        lost = sum(r["lost"] for r in readings)
        cpu_us = 1e6 * sum(r["cpu"] for r in readings) / max(1, events)
        kernel_us = 1e6 * (1 / log_one - 1 / rule_one)
        print(f"| TCP throughput with --log-allowed | {log_tp:.2f} Gbit/s "
              f"({100 * log_tp / rule_tp:.0f}% of the node ruleset: established packets are "
              "never logged) |")
        print(f"| new TCP connections/s with --log-allowed ({args.clients} clients / one) | "
              f"{log_cr:.0f} / {log_one:.0f} /s ({100 * log_cr / rule_cr:.0f}% / "
              f"{100 * log_one / rule_one:.0f}% of the node ruleset) |")
        print(f"| logging a packet to NFLOG (one client's extra time per connection) | "
              f"{kernel_us:.1f} µs |")
        print(f"| NFLOG reader | {cpu_us:.1f} µs CPU per event, {events:.0f} events, "
              f"{lost:.0f} lost |")
    print(json.dumps({**{name: vars(f) for name, f in setups.items()},
                      "side_by_side": {name: vars(p) for name, p in together.items()}}),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
