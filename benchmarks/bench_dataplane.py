#!/usr/bin/env python3
"""Data plane benchmarks (root): ruleset compile + atomic apply, sizes, and per-packet cost.

    sudo python benchmarks/bench_dataplane.py [--pods 10000] [--local 1000] [--seconds 5]

1. A node with --local pods among --pods cluster pods (and pods/5 policies, from generate.py):
   compile time, `nft -f` apply time (create, then replace), chains/rules/sets/elements.
2. Two pods of that node whose traffic the policies allow on some TCP port, in network namespaces
   routed through a node namespace: TCP throughput (iperf3) and new-connection rate, with no
   ruleset, with a conntrack-only ruleset (what any stateful firewall pays: every connection
   gets a conntrack entry), and with the whole node ruleset loaded (their chains are the real
   ones). Each figure is the median of --repeat runs.
Everything is named pw-bench-* and removed at the end, also on failure. Needs iperf3 (Debian:
apt-get install iperf3).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from bench_engine import ensure_input  # noqa: E402

from podwall.dataplane import NftBackend, compile_ruleset  # noqa: E402
from podwall.engine import Engine  # noqa: E402
from podwall.manifests import load_cluster  # noqa: E402
from podwall.model import Endpoint, PortQuery, Protocol  # noqa: E402

NODE, A, B = "pw-bench-node", "pw-bench-a", "pw-bench-b"


def sh(*args: str, check: bool = True, input_text: str | None = None) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=check,
                          input=input_text).stdout


def topology(ifa: str, ifb: str, ip_a: str, ip_b: str) -> None:
    sh("ip", "netns", "add", NODE)
    sh("ip", "netns", "exec", NODE, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    for ns, ifname, ip in ((A, ifa, ip_a), (B, ifb, ip_b)):
        sh("ip", "netns", "add", ns)
        # Thousands of short connections a second leave the client's ports in TIME_WAIT: let
        # connect() reuse them, over the whole range, or the rate measures port exhaustion.
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1",
           "net.ipv4.ip_local_port_range=1024 65535")
        sh("ip", "-n", NODE, "link", "add", ifname, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", f"{ip}/32", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
        sh("ip", "-n", ns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
        sh("ip", "-n", NODE, "addr", "add", "169.254.1.1/32", "dev", ifname)
        sh("ip", "-n", NODE, "link", "set", ifname, "up")
        sh("ip", "-n", NODE, "route", "add", f"{ip}/32", "dev", ifname)


def teardown() -> None:
    for ns in (A, B, NODE):
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
n, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.create_connection((ip, port), timeout=1); s.close(); n += 1
print(n / seconds)
"""

ACCEPT_LOOP = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
"""


def connection_rate(ip_b: str, port: int, seconds: int) -> float:
    server = subprocess.Popen(["ip", "netns", "exec", B, sys.executable, "-c", ACCEPT_LOOP,
                               str(port)])
    time.sleep(0.5)
    try:
        return float(sh("ip", "netns", "exec", A, sys.executable, "-c", CONNECT_LOOP, ip_b,
                        str(port), str(seconds)))
    finally:
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


CONNTRACK_ONLY = """table inet pw-bench-ct {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    ct state invalid drop
  }
}
"""


def measure(ip_b: str, port: int, seconds: int, repeat: int) -> tuple[float, float]:
    """Median TCP throughput (Gbit/s) and new connections per second."""
    rates = [throughput(ip_b, port, seconds) for _ in range(repeat)]
    conns = [connection_rate(ip_b, port, seconds) for _ in range(repeat)]
    return statistics.median(rates), statistics.median(conns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--local", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("iperf3") is None:
        print("iperf3 is not installed (Debian: apt-get install iperf3)", file=sys.stderr)
        return 2
    cluster = load_cluster([str(ensure_input(args.pods, "yaml"))], pod_cidr="10.0.0.0/8").cluster
    engine = Engine(cluster)
    local = list(cluster.endpoints[: args.local])
    interfaces = {ep.key: f"pw-p{i}" for i, ep in enumerate(local)}
    started = time.perf_counter()
    ruleset = compile_ruleset(engine, interfaces)
    compile_s = time.perf_counter() - started
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
        base_tp, base_cr = measure(str(b.ip), port, args.seconds, args.repeat)
        sh("ip", "netns", "exec", NODE, "nft", "-f", "-", input_text=CONNTRACK_ONLY)
        ct_tp, ct_cr = measure(str(b.ip), port, args.seconds, args.repeat)
        sh("ip", "netns", "exec", NODE, "nft", "delete", "table", "inet", "pw-bench-ct")
        started = time.perf_counter()
        backend.apply(ruleset)
        apply_create = time.perf_counter() - started
        replaces = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            backend.apply(ruleset)
            replaces.append(time.perf_counter() - started)
        apply_replace = statistics.median(replaces)
        rule_tp, rule_cr = measure(str(b.ip), port, args.seconds, args.repeat)
    finally:
        teardown()
    print(f"data plane benchmark: node with {len(local)} local pods of {len(cluster.endpoints)}, "
          f"{len(cluster.policies)} policies; pair {a.key} -> {b.key} TCP/{port}")
    print("| what | value |\n|---|---|")
    print(f"| ruleset | {ruleset.summary()} |")
    print(f"| compile | {compile_s:.3f} s |")
    print(f"| nft apply (create / atomic replace) | {apply_create:.3f} s / {apply_replace:.3f} s |")
    print(f"| compile + apply | {compile_s + apply_replace:.3f} s |")
    print(f"| TCP throughput, no ruleset / conntrack only / ruleset | {base_tp:.2f} / {ct_tp:.2f} / "
          f"{rule_tp:.2f} Gbit/s ({100 * rule_tp / base_tp:.0f}% of none, "
          f"{100 * rule_tp / ct_tp:.0f}% of conntrack only) |")
    print(f"| new connections/s, no ruleset / conntrack only / ruleset | {base_cr:.0f} / {ct_cr:.0f} / "
          f"{rule_cr:.0f} ({100 * rule_cr / base_cr:.0f}% of none, "
          f"{100 * rule_cr / ct_cr:.0f}% of conntrack only) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
