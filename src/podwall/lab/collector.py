"""The lab's collector: reads the node's NFLOG group, attributes each event, serves metrics.

One process per lab (`python -m podwall.lab.collector --lab NAME ...`), started by `lab up`
(and again by `lab apply` when the node namespace had to be rebuilt, or the collector is gone),
killed by `lab down`, which finds it by its command line like the lab's servers. It lives in the
machine's own namespace, so its metrics are served on the machine's loopback for a scraper; only
its NFLOG socket is created inside the node namespace (podwall.dataplane.nflog).

Files, in the lab's folder (podwall.lab.store: only its own user's files are trusted):
- `collector.json`: pid, NFLOG group, the metrics address actually bound (port 0 picks one);
- `events.jsonl`: one attributed event per line (`lab logs` reads it), rotated to
  `events.1.jsonl` beyond 16 MiB;
- it reads `generation-<n>.json`, the cluster of each ruleset generation that the lab applied
  (the last 8 are kept), and `dataplane.json`, the applies' record.

An event of a generation whose snapshot is not written yet (the kernel runs generation n+1 a few
milliseconds before `lab apply` records it) waits, up to 30 seconds, instead of being attributed
with the wrong policies.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from podwall.dataplane import NftBackend
from podwall.dataplane.compile import counter_name
from podwall.dataplane.logprefix import LogPrefix, parse_prefix
from podwall.dataplane.nflog import LogPacket, NflogSocket
from podwall.errors import DataplaneError, PodwallError
from podwall.lab import snapshot
from podwall.lab.attribution import Event, Generations
from podwall.lab.metrics import Metrics
from podwall.lab.store import Store, check_owned
from podwall.model import Cluster, Direction

INFO = "collector.json"
EVENTS = "events.jsonl"
ROTATED = "events.1.jsonl"
APPLIES = "dataplane.json"
ROTATE_BYTES = 16 << 20
KEEP_GENERATIONS = 8
PENDING_SECONDS = 30.0
DEFAULT_METRICS_ADDRESS = "127.0.0.1:0"


def generation_file(generation: int) -> str:
    return f"generation-{generation}.json"


def split_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT` (ValueError with the reason)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise ValueError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:9617, [::1]:9617; "
                         "port 0 picks a free one)")
    return host.strip("[]"), int(port)


def start(lab: str, node: str, root: Path, group: int, address: str,
          log: Path) -> subprocess.Popen[bytes]:
    """Start the collector; it prints `ready` once its socket and its metrics server are up."""
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "podwall.lab.collector", "--lab", lab, "--node", node,
             "--root", str(root), "--group", str(group), "--metrics-address", address],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, start_new_session=True)


class Collector:
    def __init__(self, lab: str, node: str, root: Path, group: int, address: str) -> None:
        self.lab = lab
        self.node = node
        self.store = Store(root, lab)
        self.group = group
        self.address = split_address(address)
        self.generations = Generations(self._cluster, keep=KEEP_GENERATIONS)
        self.counter_pods: dict[str, tuple[str, str]] = {}
        self.counter_generation = -1
        self.metrics = Metrics(self._kernel_counters, self._spoofed, self._applies)
        self.pending: list[tuple[float, LogPacket, LogPrefix]] = []
        self.waiting: set[int] = set()
        self.missing: set[int] = set()
        self._out: Any = None
        self._lost_reported = 0
        self._spoofed_packets = 0

    # -- what the lab wrote ------------------------------------------------------------------
    def _cluster(self, generation: int) -> Cluster | None:
        try:
            data = self.store.read_json(generation_file(generation))
            return None if data is None else snapshot.load(data)
        except PodwallError:
            return None

    def _applies(self) -> dict[str, Any]:
        with contextlib.suppress(PodwallError):
            data = self.store.read_json(APPLIES)
            if isinstance(data, dict):
                return data
        return {}

    def _kernel_counters(self) -> dict[tuple[str, str], int]:
        try:
            counters = NftBackend(netns=self.node).counters()
        except DataplaneError:
            if NftBackend(netns=self.node).current() is not None:
                raise
            counters = {}  # no ruleset yet (`lab up` starts the collector first)
        spoofed = counters.get("spoofed")
        self._spoofed_packets = spoofed.packets if spoofed else 0
        found: dict[tuple[str, str], int] = {}
        for name, value in counters.items():
            if name.startswith("drop-"):
                pod = self.counter_pods.get(name)
                if pod is None:  # a pod of an older generation: its name says who (unclipped)
                    short, _, key = name.partition("/")
                    pod = (key, "ingress" if short == "drop-in" else "egress")
                found[pod] = value.packets
        return found

    def _spoofed(self) -> int:
        """Read with the drop counters, just before (one `nft` per scrape)."""
        return self._spoofed_packets

    def _refresh(self) -> int:
        """The generation the lab last applied; the counters' pods follow it."""
        generation = int(self._applies().get("generation", 0))
        if generation != self.counter_generation:
            cluster = self._cluster(generation)
            if cluster is not None:
                self.counter_pods = {counter_name(ep.key, d): (ep.key, d.word)
                                     for ep in cluster.endpoints for d in Direction}
                self.counter_generation = generation
        return generation

    # -- events ------------------------------------------------------------------------------
    def _open_events(self) -> None:
        path = self.store.path(EVENTS)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        check_owned(path, os.fstat(fd), directory=False)
        self._out = os.fdopen(fd, "a", buffering=1, encoding="utf-8")

    def _emit(self, event: Event) -> None:
        self._out.write(json.dumps(event.to_json(), separators=(",", ":"), ensure_ascii=False) + "\n")
        self.metrics.observe(event)

    def _rotate(self) -> None:
        if self._out is not None and self._out.tell() > ROTATE_BYTES:
            self._out.close()
            os.replace(self.store.path(EVENTS), self.store.path(ROTATED))
            self._open_events()

    def handle(self, packet: LogPacket, applied: int) -> None:
        prefix = parse_prefix(packet.prefix)
        if prefix is None:
            return  # someone else's log statement in this group
        if prefix.generation in self.missing:  # recorded as applied, its snapshot gone
            self._emit(self.generations.attribute(packet, prefix, None))
            return
        if prefix.generation not in self.waiting:
            engine = self.generations.engine(prefix.generation)
            if engine is None and prefix.generation <= applied:
                self.missing.add(prefix.generation)
            if engine is not None or prefix.generation <= applied:
                self._emit(self.generations.attribute(packet, prefix, engine))
                return
            self.waiting.add(prefix.generation)
        self.pending.append((time.monotonic() + PENDING_SECONDS, packet, prefix))

    def retry(self, applied: int) -> None:
        """Events that waited for their generation's snapshot: attribute those now known."""
        if not self.pending:
            return
        now = time.monotonic()
        known = {g: self.generations.engine(g) for g in self.waiting}
        keep = []
        for deadline, packet, prefix in self.pending:
            engine = known[prefix.generation]
            if engine is not None or now > deadline or prefix.generation <= applied:
                self._emit(self.generations.attribute(packet, prefix, engine))
            else:
                keep.append((deadline, packet, prefix))
        self.pending = keep
        self.waiting = {prefix.generation for _, _, prefix in keep}

    # -- the process ---------------------------------------------------------------------------
    def gone(self) -> bool:
        return not (Path("/run/netns") / self.node).exists() or not self.store.exists()

    def run(self) -> None:
        with NflogSocket(self.group, netns=self.node) as log:
            server_class = _V6Server if ":" in self.address[0] else ThreadingHTTPServer
            server = server_class(self.address, _handler(self.metrics))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
            host, port = str(server.server_address[0]), server.server_port
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            self._open_events()
            self.store.write_json(INFO, {"pid": os.getpid(), "group": self.group,
                                         "node": self.node, "metricsAddress": shown})
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            sys.stdout.close()
            last_check = 0.0
            applied = self._refresh()
            while True:
                packets = log.read(timeout=0.25)
                now = time.monotonic()
                if now - last_check > 0.25 or not packets:
                    applied = self._refresh()
                    last_check = now
                    if self.gone():
                        return
                for packet in packets:
                    self.handle(packet, applied)
                self.retry(applied)
                if log.lost > self._lost_reported:
                    self.metrics.lost.inc(log.lost - self._lost_reported)
                    self._lost_reported = log.lost
                self._rotate()


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _handler(metrics: Metrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/metrics", "/"):
                self.send_error(404, "podwall serves /metrics only")
                return
            try:
                body = metrics.text()
            except PodwallError as exc:  # the node is being torn down under us
                self.send_error(503, str(exc)[:200])
                return
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes are not news

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m podwall.lab.collector")
    parser.add_argument("--lab", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--group", required=True, type=int)
    parser.add_argument("--metrics-address", default=DEFAULT_METRICS_ADDRESS)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        Collector(args.lab, args.node, args.root, args.group, args.metrics_address).run()
    except (PodwallError, OSError, ValueError) as exc:
        sys.stderr.write(f"podwall collector: {exc}\n")
        with contextlib.suppress(OSError, ValueError):  # before `ready`: `lab up` reads it
            sys.stdout.write(f"error: {exc}\n")
            sys.stdout.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
