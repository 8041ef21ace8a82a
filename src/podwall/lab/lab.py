"""The lab: pods as network namespaces on this machine, enforced by podwall's nftables ruleset.

Topology (everything named `pw-<lab>-…`, nothing attached to a real interface):

    pw-<lab>-node     routes between pods (ip_forward=1 here only), holds `table inet podwall`
    pw-<lab>-p<N>     one per endpoint: eth0 = <pod IP>/32, default via 169.254.1.1
    pw-<lab>-x<N>     one per --external IP: a host outside the cluster, routed the same way

Each pod's veth has its node end (`p<N>` / `x<N>`) in the node namespace, holding 169.254.1.1 (the
pods' gateway, as in Calico) and a /32 route to the pod. State lives in
/run/podwall/labs/<lab>/state.json so every command finds the lab; `down` also works from the
namespace names alone, after a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podwall.dataplane import NftBackend, compile_ruleset
from podwall.engine import DenseVerdicts, Engine, Matrix, default_ports
from podwall.errors import DataplaneError, InputError, has_errors
from podwall.manifests import load_cluster
from podwall.model import Cluster, Endpoint, PortQuery, Protocol

STATE_ROOT = Path(os.environ.get("PODWALL_LAB_STATE", "/run/podwall/labs"))
GATEWAY = "169.254.1.1"


def require_root() -> None:
    if os.geteuid() != 0:
        raise DataplaneError("podwall lab needs root (CAP_NET_ADMIN): run with sudo")


def _run(*args: str, check: bool = True, input: str | None = None) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, input=input, check=False)
    if check and proc.returncode != 0:
        raise DataplaneError(f"{' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def _netns_list() -> list[str]:
    out = _run("ip", "netns", "list", check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@dataclass
class Lab:
    name: str

    @property
    def prefix(self) -> str:
        return f"pw-{self.name}-"

    @property
    def node(self) -> str:
        return f"{self.prefix}node"

    @property
    def state_dir(self) -> Path:
        return STATE_ROOT / self.name

    # -- state ---------------------------------------------------------------------------------
    def load_state(self) -> dict[str, Any]:
        path = self.state_dir / "state.json"
        if not path.exists():
            raise InputError(f"no lab named {self.name!r} is up (podwall lab up PATH...)")
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def save_state(self, state: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_dir / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_dir / "state.json")

    # -- lifecycle -------------------------------------------------------------------------------
    def up(self, paths: list[str], externals: list[str], pod_cidr: str) -> dict[str, Any]:
        require_root()
        if len(self.name) > 8 or not self.name.replace("-", "").isalnum():
            raise InputError("lab names are at most 8 letters, digits or '-'")
        if self.node in _netns_list():
            raise InputError(f"lab {self.name!r} is already up (podwall lab down --name {self.name})")
        cluster = _load(paths, pod_cidr)
        state: dict[str, Any] = {"name": self.name, "paths": paths, "pod_cidr": pod_cidr,
                                 "pods": {}, "externals": {}, "next": 0}
        self.save_state(state)  # first, so that `down` can clean a half-built lab
        try:
            _run("ip", "netns", "add", self.node)
            _run("ip", "netns", "exec", self.node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            _run("ip", "-n", self.node, "link", "set", "lo", "up")
            for ep in cluster.endpoints:
                self._add_pod(state, ep)
            for i, ip in enumerate(externals):
                self._add_host(state, f"x{i}", ip, ports=[], key=ip, kind="externals")
            self.save_state(state)
            self._apply_ruleset(state, cluster)
        except BaseException:
            self.save_state(state)
            raise
        return state

    def _add_pod(self, state: dict[str, Any], ep: Endpoint) -> None:
        if ep.ip is None or ep.ip.version != 4:
            raise InputError(f"{ep.key}: the lab needs an IPv4 pod address")
        index = state["next"]
        state["next"] = index + 1
        ports = sorted({(cp.protocol.value, cp.port) for cp in ep.ports})
        self._add_host(state, f"p{index}", str(ep.ip), ports, key=ep.key, kind="pods")

    def _add_host(self, state: dict[str, Any], short: str, ip: str, ports: list[tuple[str, int]],
                  key: str, kind: str) -> None:
        netns = f"{self.prefix}{short}"
        entry: dict[str, Any] = {"netns": netns, "ifname": short, "ip": ip, "ports": ports,
                                 "pid": None}
        state[kind][key] = entry
        _run("ip", "netns", "add", netns)
        _run("ip", "-n", self.node, "link", "add", short, "type", "veth", "peer", "name", "eth0",
             "netns", netns)
        _run("ip", "-n", netns, "link", "set", "lo", "up")
        _run("ip", "-n", netns, "addr", "add", f"{ip}/32", "dev", "eth0")
        _run("ip", "-n", netns, "link", "set", "eth0", "up")
        _run("ip", "-n", netns, "route", "add", GATEWAY, "dev", "eth0", "scope", "link")
        _run("ip", "-n", netns, "route", "add", "default", "via", GATEWAY, "dev", "eth0")
        _run("ip", "-n", self.node, "addr", "add", f"{GATEWAY}/32", "dev", short)
        _run("ip", "-n", self.node, "link", "set", short, "up")
        _run("ip", "-n", self.node, "route", "add", f"{ip}/32", "dev", short)
        tcp = [str(p) for proto, p in ports if proto == "TCP"]
        udp = [str(p) for proto, p in ports if proto == "UDP"]
        if tcp or udp:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", netns, sys.executable, "-m", "podwall.lab.server",
                 "--tcp", ",".join(tcp), "--udp", ",".join(udp)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            entry["pid"] = proc.pid

    def _remove_host(self, entry: dict[str, Any]) -> None:
        _kill_netns_processes(entry["netns"], entry.get("pid"))
        _run("ip", "netns", "del", entry["netns"], check=False)

    def _apply_ruleset(self, state: dict[str, Any], cluster: Cluster) -> None:
        interfaces = {key: entry["ifname"] for key, entry in state["pods"].items()}
        ruleset = compile_ruleset(Engine(cluster), interfaces)
        NftBackend(netns=self.node).apply(ruleset)
        (self.state_dir / "ruleset.nft").write_text(ruleset.text)

    def apply(self, paths: list[str]) -> dict[str, Any]:
        """Reconcile to new manifests; the ruleset is swapped in one transaction at the end."""
        require_root()
        state = self.load_state()
        cluster = _load(paths, state["pod_cidr"])
        wanted = {ep.key: ep for ep in cluster.endpoints}
        for key in [k for k in state["pods"] if k not in wanted]:
            self._remove_host(state["pods"].pop(key))
        for key, ep in wanted.items():
            entry = state["pods"].get(key)
            ports = [list(p) for p in sorted({(cp.protocol.value, cp.port) for cp in ep.ports})]
            if entry is not None and (entry["ip"] != str(ep.ip) or
                                      [list(p) for p in entry["ports"]] != ports):
                self._remove_host(state["pods"].pop(key))
                entry = None
            if entry is None:
                self._add_pod(state, ep)
        state["paths"] = paths
        self.save_state(state)
        self._apply_ruleset(state, cluster)
        return state

    def down(self) -> list[str]:
        """Remove every namespace, process and file of this lab; safe to repeat."""
        require_root()
        removed: list[str] = []
        path = self.state_dir / "state.json"
        if path.exists():
            try:
                state = json.loads(path.read_text())
                for kind in ("pods", "externals"):
                    for entry in state.get(kind, {}).values():
                        _kill_netns_processes(entry["netns"], entry.get("pid"))
            except (ValueError, KeyError, TypeError):
                pass  # a torn state file: the namespace names below are enough
        for netns in _netns_list():
            if netns.startswith(self.prefix):
                _kill_netns_processes(netns, None)
                _run("ip", "netns", "del", netns, check=False)
                removed.append(netns)
        if self.state_dir.exists():
            for f in self.state_dir.iterdir():
                f.unlink()
            self.state_dir.rmdir()
        return removed

    # -- probing -----------------------------------------------------------------------------------
    def probe(self, ports: list[PortQuery] | None, timeout: float = 0.7) -> tuple[Matrix, list[str]]:
        """Real connections for every ordered pair and port; returns the matrix and notes."""
        require_root()
        state = self.load_state()
        cluster = _load(state["paths"], state["pod_cidr"])
        chosen = list(ports) if ports else list(default_ports(cluster))
        notes = [f"{p}: SCTP is not supported by this kernel; not probed"
                 for p in chosen if p.protocol is Protocol.SCTP and not _sctp_supported()]
        chosen = [p for p in chosen if not (p.protocol is Protocol.SCTP and notes)]
        pods_sorted = [ep.key for ep in cluster.endpoints]
        names = pods_sorted + list(state["externals"])
        order = {key: i for i, key in enumerate(names)}
        entries = {**state["pods"], **state["externals"]}
        jobs: dict[str, list[tuple[str, str, int, int, int, int]]] = {}
        for src in names:
            for dst in names:
                if src == dst:
                    continue
                for k, port in enumerate(chosen):
                    jobs.setdefault(src, []).append(
                        (entries[dst]["ip"], port.protocol.value, port.port,
                         order[src], order[dst], k))
        allowed = np.ones((len(chosen), len(names), len(names)), dtype=np.bool_)

        def run(src: str) -> None:
            targets = jobs.get(src, [])
            if not targets:
                return
            out = _run("ip", "netns", "exec", entries[src]["netns"], sys.executable, "-m",
                       "podwall.lab.prober",
                       input=json.dumps({"targets": [t[:3] for t in targets],
                                         "timeout": timeout}))
            for (_, _, _, i, j, k), outcome in zip(targets, json.loads(out), strict=True):
                if outcome.startswith("error"):
                    raise DataplaneError(f"probe {src} -> {names[j]}: {outcome}")
                allowed[k, i, j] = outcome != "dropped"

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(run, names))
        matrix = Matrix(tuple(names), tuple(chosen), np.arange(len(names), dtype=np.int64),
                        {p: DenseVerdicts(allowed[k]) for k, p in enumerate(chosen)})
        return matrix, notes

    def model(self, ports: tuple[PortQuery, ...]) -> tuple[Engine, Matrix]:
        state = self.load_state()
        engine = Engine(_load(state["paths"], state["pod_cidr"]))
        return engine, engine.matrix(ports, externals=list(state["externals"]))


def _sctp_supported() -> bool:
    import socket
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
        return True
    except OSError:
        return False


def _kill_netns_processes(netns: str, pid: int | None) -> None:
    pids = {int(p) for p in _run("ip", "netns", "pids", netns, check=False).split()}
    if pid:
        pids.add(int(pid))
    for p in pids:
        try:
            os.killpg(p, signal.SIGKILL) if p == pid else os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while pids and time.monotonic() < deadline:
        pids = {p for p in pids if _alive(p)}
        if pids:
            time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone once reaped
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _load(paths: list[str], pod_cidr: str) -> Cluster:
    result = load_cluster(paths, pod_cidr=pod_cidr)
    if has_errors(result.diagnostics):
        first = next(str(d) for d in result.diagnostics if d.severity.name == "ERROR")
        raise InputError(f"invalid input: {first}")
    return result.cluster
