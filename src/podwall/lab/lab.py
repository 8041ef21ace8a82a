"""The lab: pods as network namespaces on this machine, enforced by podwall's nftables ruleset.

Topology (see `podwall.lab.topology`; every namespace is named `pw-<lab>-…`, nothing is attached
to a real interface, and the machine's own ruleset is never touched):

    pw-<lab>-node     routes between hosts (ip_forward=1 here only), holds `table inet podwall`
    pw-<lab>-p<N>     one per endpoint: eth0 = <pod IP>/32; its veth's node end is `pw-p<N>`
    pw-<lab>-x<N>     one per --external IP: a host outside the cluster (node end `pw-x<N>`)

State lives in `/run/podwall/labs/<lab>/` (`PODWALL_LAB_STATE` moves the root): `state.json`
(namespaces, interfaces, addresses, server PIDs), `cluster.pickle` (the exact snapshot the ruleset
was compiled from, so `verify` compares the kernel with what was applied, not with files that may
have changed since), `ruleset.nft`, and server logs. `down` needs none of it: it also finds the
lab's namespaces by name and its servers by command line, so it cleans up after any crash.

New hosts are created with their node end DOWN and connected only after the ruleset that knows
them is in place: no packet of a pod ever meets a ruleset compiled without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podwall.dataplane import CounterValue, NftBackend, compile_ruleset
from podwall.engine import DenseVerdicts, Engine, Matrix, Verdict, default_ports
from podwall.errors import DataplaneError, InputError
from podwall.lab import prober as probes
from podwall.lab import topology as topo
from podwall.model import Cluster, Endpoint, PortQuery, Protocol

DEFAULT_STATE_ROOT = Path("/run/podwall/labs")
PROBE_TIMEOUT = 0.7
_LAB_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")

State = dict[str, Any]


def state_root() -> Path:
    return Path(os.environ.get("PODWALL_LAB_STATE", str(DEFAULT_STATE_ROOT)))


def require_root() -> None:
    if os.geteuid() != 0:
        raise DataplaneError("podwall lab needs root (CAP_NET_ADMIN): run with sudo")


def sctp_supported() -> bool:
    import socket

    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, probes.IPPROTO_SCTP).close()
        return True
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What the kernel did: the same Matrix type the engine fills, and every raw outcome."""

    matrix: Matrix
    outcomes: dict[tuple[str, str, PortQuery], str] = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def probes(self) -> int:
        return len(self.outcomes)


@dataclass(frozen=True, slots=True)
class Disagreement:
    src: str
    dst: str
    port: PortQuery
    outcome: str  # what the kernel did: connected, answered, refused, dropped
    verdict: Verdict  # what the model says, with its reasons

    @property
    def kernel_allowed(self) -> bool:
        return self.outcome in probes.ALLOWED


@dataclass(frozen=True, slots=True)
class Verification:
    kernel: ProbeResult
    model: Matrix
    disagreements: tuple[Disagreement, ...]

    @property
    def ok(self) -> bool:
        return not self.disagreements


class Lab:
    """One lab, found by name. Every method but `down` needs the lab to be up."""

    def __init__(self, name: str = "default") -> None:
        if not _LAB_NAME.match(name):
            raise InputError(f"invalid lab name {name!r}: use up to 32 lowercase letters, digits "
                             "and '-', starting with a letter or digit")
        self.name = name

    @property
    def node(self) -> str:
        return f"pw-{self.name}-node"

    @property
    def state_dir(self) -> Path:
        return state_root() / self.name

    def owns(self, netns: str) -> bool:
        return re.fullmatch(rf"pw-{re.escape(self.name)}-(node|p\d+|x\d+)", netns) is not None

    # -- state -----------------------------------------------------------------------------------
    def is_up(self) -> bool:
        return (self.state_dir / "state.json").exists()

    def load_state(self) -> State:
        path = self.state_dir / "state.json"
        if not path.exists():
            hint = "" if self.name == "default" else f" --name {self.name}"
            raise InputError(f"no lab named {self.name!r} is up (podwall lab up PATH...{hint})")
        try:
            state: State = json.loads(path.read_text())
        except ValueError:
            raise DataplaneError(f"the state of lab {self.name!r} is damaged: "
                                 f"podwall lab down --name {self.name}") from None
        return state

    def settings(self) -> dict[str, str]:
        """How `up` (or the last `apply`) read the manifests: namespace, pod CIDR."""
        settings: dict[str, str] = self.load_state().get("settings", {})
        return settings

    def _save_state(self, state: State) -> None:
        with self._state_errors():
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.state_dir / "state.json.tmp"
            tmp.write_text(json.dumps(state, indent=2))
            tmp.replace(self.state_dir / "state.json")

    @contextlib.contextmanager
    def _state_errors(self) -> Iterator[None]:
        """The state directory cannot be written: one clear message, never a traceback."""
        try:
            yield
        except OSError as exc:
            raise DataplaneError(
                f"cannot write the state of lab {self.name!r} in {self.state_dir}: "
                f"{exc.strerror or exc} (PODWALL_LAB_STATE=DIR puts it elsewhere)") from None

    def _save_cluster(self, cluster: Cluster) -> None:
        tmp = self.state_dir / "cluster.pickle.tmp"
        tmp.write_bytes(pickle.dumps(cluster, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(self.state_dir / "cluster.pickle")

    def cluster(self) -> Cluster:
        """The snapshot the running ruleset was compiled from."""
        self.load_state()
        try:
            cluster: Cluster = pickle.loads((self.state_dir / "cluster.pickle").read_bytes())
        except (OSError, pickle.UnpicklingError, AttributeError, EOFError):
            raise DataplaneError(f"lab {self.name!r} has no usable snapshot of its manifests: "
                                 f"podwall lab down --name {self.name}, then up again") from None
        return cluster

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One mutating command at a time per lab (probes need no lock)."""
        with self._state_errors():
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = (self.state_dir / "lock").open("w")
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    # -- lifecycle -------------------------------------------------------------------------------
    def up(self, cluster: Cluster, externals: Sequence[str] = (), sources: Sequence[str] = (),
           settings: Mapping[str, str] | None = None) -> State:
        """Create the lab: node, one namespace per endpoint and outside host, servers, ruleset."""
        require_root()
        if self.is_up() or self.node in topo.netns_list():
            raise InputError(f"lab {self.name!r} is already up "
                             f"(podwall lab down --name {self.name})")
        hosts = _external_addresses(externals)
        _check_addresses(cluster, hosts)
        try:
            with self._locked():
                state: State = {"name": self.name, "sources": list(sources),
                                "settings": dict(settings or {}), "pods": {}, "externals": {},
                                "next_pod": 0, "next_external": 0}
                self._save_state(state)  # first, so that `down` knows about a half-built lab
                topo.create_node(self.node)
                for ep in cluster.endpoints:
                    self._add_host(state, "pods", ep.key, str(ep.ip))
                for ip in hosts:
                    self._add_host(state, "externals", ip, ip)
                self._start_servers(state, cluster.endpoints)
                self._apply_ruleset(state, cluster)
                self._connect_pending(state)
        except BaseException:
            self._teardown()
            raise
        return state

    def apply(self, cluster: Cluster, sources: Sequence[str] = (),
              settings: Mapping[str, str] | None = None) -> State:
        """Reconcile the running lab to a new snapshot; the ruleset swaps in one transaction.

        Endpoints that are gone (or whose address changed) are removed first; new ones are
        created disconnected and connected after the swap; changed ports restart the server.
        Label, namespace and policy changes are the ruleset swap alone.
        """
        require_root()
        with self._locked():
            state = self.load_state()
            _check_addresses(cluster, list(state["externals"]))
            wanted = {ep.key: ep for ep in cluster.endpoints}
            for key, entry in list(state["pods"].items()):
                ep = wanted.get(key)
                if ep is None or entry["ip"] != str(ep.ip):
                    self._remove_host(state["pods"].pop(key))
            self._save_state(state)
            restart: list[Endpoint] = []
            for key, ep in wanted.items():
                entry = state["pods"].get(key)
                if entry is None:
                    self._add_host(state, "pods", key, str(ep.ip))
                    restart.append(ep)
                elif entry["ports"] != _ports(ep):
                    topo.kill_processes([entry["pid"]] if entry.get("pid") else [])
                    entry["pid"] = None
                    restart.append(ep)
            self._start_servers(state, restart)
            self._apply_ruleset(state, cluster)
            self._connect_pending(state)
            state["sources"] = list(sources)
            if settings is not None:
                state["settings"] = dict(settings)
            self._save_state(state)
        return state

    def down(self) -> list[str]:
        """Remove every namespace, process and file of this lab; safe to repeat, and works after
        a crash (from the namespace names and the servers' command lines alone)."""
        require_root()
        if not self.state_dir.exists():
            return self._teardown()
        with self._locked():
            return self._teardown()

    def _teardown(self) -> list[str]:
        pids: set[int] = set()
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
            state = json.loads((self.state_dir / "state.json").read_text())
            for kind in ("pods", "externals"):
                pids.update(int(e["pid"]) for e in state[kind].values() if e.get("pid"))
        owned = [ns for ns in topo.netns_list() if self.owns(ns)]
        for netns in owned:
            pids |= topo.netns_pids(netns)
        pids |= topo.lab_processes(self.name)
        topo.kill_processes(pids)
        for netns in owned:
            topo.delete_netns(netns)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        root = state_root()
        for directory in (root, root.parent if root == DEFAULT_STATE_ROOT else None):
            if directory is not None:
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only when empty: other labs keep theirs
        return owned

    # -- pieces ----------------------------------------------------------------------------------
    def _add_host(self, state: State, kind: str, key: str, ip: str) -> None:
        counter = "next_pod" if kind == "pods" else "next_external"
        letter = "p" if kind == "pods" else "x"
        index = state[counter]
        state[counter] = index + 1
        netns, ifname = f"pw-{self.name}-{letter}{index}", f"pw-{letter}{index}"
        state[kind][key] = {"netns": netns, "ifname": ifname, "ip": ip, "ports": [], "pid": None,
                            "connected": False}
        self._save_state(state)  # before creating, so that a crash leaves it findable
        topo.create_host(self.node, netns, ifname, ip)

    def _connect_pending(self, state: State) -> None:
        """Connect every host the running ruleset knows but that is not connected yet (new ones,
        and ones left over by an apply the kernel refused)."""
        pending = [entry for kind in ("pods", "externals") for entry in state[kind].values()
                   if not entry.get("connected")]
        topo.connect_hosts(self.node, [(e["ifname"], e["ip"]) for e in pending])
        for entry in pending:
            entry["connected"] = True
        self._save_state(state)

    def _start_servers(self, state: State, endpoints: Sequence[Endpoint]) -> None:
        servers: dict[str, subprocess.Popen[bytes]] = {}
        supported = sctp_supported()
        for ep in endpoints:
            entry = state["pods"][ep.key]
            entry["ports"] = _ports(ep)
            serve = [(proto, port) for proto, port in entry["ports"]
                     if proto != Protocol.SCTP.value or supported]
            if serve:
                proc = topo.start_server(self.name, entry["netns"], serve,
                                         self.state_dir / f"server-{entry['netns']}.log")
                entry["pid"] = proc.pid
                servers[ep.key] = proc
        self._save_state(state)
        topo.wait_ready(servers)

    def _remove_host(self, entry: dict[str, Any]) -> None:
        pids = topo.netns_pids(entry["netns"])
        if entry.get("pid"):
            pids.add(int(entry["pid"]))
        topo.kill_processes(pids)
        topo.delete_netns(entry["netns"])

    def _apply_ruleset(self, state: State, cluster: Cluster) -> None:
        interfaces = {key: entry["ifname"] for key, entry in state["pods"].items()}
        ruleset = compile_ruleset(Engine(cluster), interfaces)
        NftBackend(netns=self.node).apply(ruleset)
        (self.state_dir / "ruleset.nft").write_text(ruleset.text)
        self._save_cluster(cluster)

    # -- proving ---------------------------------------------------------------------------------
    def probe(self, ports: Sequence[PortQuery] | None = None,
              timeout: float = PROBE_TIMEOUT) -> ProbeResult:
        """A real connection for every ordered pair and port, all sources in parallel."""
        require_root()
        state = self.load_state()
        cluster = self.cluster()
        chosen = list(dict.fromkeys(ports)) if ports else list(default_ports(cluster))
        notes: list[str] = []
        if not sctp_supported():
            sctp = [p for p in chosen if p.protocol is Protocol.SCTP]
            if sctp:
                notes.append(f"{', '.join(str(p) for p in sctp)}: SCTP is not supported by this "
                             "kernel, so not probed (neither allowed nor denied)")
                chosen = [p for p in chosen if p.protocol is not Protocol.SCTP]
        names = [ep.key for ep in cluster.endpoints] + list(state["externals"])
        entries = {**state["pods"], **state["externals"]}
        missing = [n for n in names if n not in entries]
        if missing:
            raise DataplaneError(f"lab {self.name!r} is out of step with its snapshot "
                                 f"(no namespace for {', '.join(missing[:3])}): apply again")
        outcomes: dict[tuple[str, str, PortQuery], str] = {}

        def run(src: str) -> None:
            jobs = [(dst, port) for dst in names if dst != src for port in chosen]
            if not jobs:
                return
            job = {"timeout": timeout,
                   "targets": [(entries[dst]["ip"], port.protocol.value, port.port)
                               for dst, port in jobs]}
            out = topo.run("ip", "netns", "exec", entries[src]["netns"], sys.executable, "-m",
                           "podwall.lab.prober", "--lab", self.name, stdin=json.dumps(job))
            for (dst, port), outcome in zip(jobs, json.loads(out), strict=True):
                outcomes[(src, dst, port)] = outcome

        with ThreadPoolExecutor(max_workers=max(1, min(32, len(names)))) as pool:
            list(pool.map(run, names))
        errors = [f"{s} -> {d} {p}: {o}" for (s, d, p), o in outcomes.items()
                  if o not in probes.ALLOWED and o not in probes.DENIED]
        if errors:
            raise DataplaneError(f"{len(errors)} probes failed: {'; '.join(errors[:5])}")
        index = {name: i for i, name in enumerate(names)}
        allowed = np.ones((len(chosen), len(names), len(names)), dtype=np.bool_)
        position = {port: k for k, port in enumerate(chosen)}
        for (src, dst, port), outcome in outcomes.items():
            allowed[position[port], index[src], index[dst]] = outcome in probes.ALLOWED
        matrix = Matrix(tuple(names), tuple(chosen), np.arange(len(names), dtype=np.int64),
                        {p: DenseVerdicts(allowed[k]) for k, p in enumerate(chosen)})
        return ProbeResult(matrix, outcomes, tuple(notes))

    def model(self, ports: Sequence[PortQuery]) -> tuple[Engine, Matrix]:
        """The engine on the lab's snapshot, over the same endpoints and outside hosts."""
        state = self.load_state()
        engine = Engine(self.cluster())
        return engine, engine.matrix(tuple(ports), externals=list(state["externals"]))

    def verify(self, ports: Sequence[PortQuery] | None = None,
               timeout: float = PROBE_TIMEOUT) -> Verification:
        """Kernel vs model: every pair and port where they differ, with the model's reasons."""
        kernel = self.probe(ports, timeout)
        engine, model = self.model(kernel.matrix.ports)
        if model.endpoints != kernel.matrix.endpoints:
            raise DataplaneError("internal error: the model and the lab list different endpoints")
        found: list[Disagreement] = []
        names = kernel.matrix.endpoints
        for port in kernel.matrix.ports:
            k, m = kernel.matrix.dense(port), model.dense(port)
            for i, j in zip(*np.nonzero(k != m), strict=True):
                src, dst = names[int(i)], names[int(j)]
                found.append(Disagreement(src, dst, port, kernel.outcomes[(src, dst, port)],
                                          engine.check(src, dst, port)))
        found.sort(key=lambda d: (str(d.port), names.index(d.src), names.index(d.dst)))
        return Verification(kernel, model, tuple(found))

    def counters(self) -> dict[str, CounterValue]:
        """The node's named counters: drops per pod and direction, and `spoofed`."""
        require_root()
        self.load_state()
        return NftBackend(netns=self.node).counters()


def _ports(ep: Endpoint) -> list[list[Any]]:
    return [[proto, port] for proto, port in sorted({(cp.protocol.value, cp.port)
                                                     for cp in ep.ports})]


def _external_addresses(externals: Sequence[str]) -> list[str]:
    hosts: list[str] = []
    for text in externals:
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            raise InputError(f"--external {text!r} is not an IP address") from None
        if address.version != 4:
            raise InputError(f"--external {text}: the lab is IPv4 only")
        if str(address) not in hosts:
            hosts.append(str(address))
    return hosts


def _check_addresses(cluster: Cluster, externals: Sequence[str]) -> None:
    """Every endpoint needs its own usable IPv4 address, distinct from the outside hosts."""
    seen: dict[str, str] = {ip: f"--external {ip}" for ip in externals}
    for ep in cluster.endpoints:
        ip = ep.ip
        if ip is None or ip.version != 4:
            raise InputError(f"{ep.key}: the lab is IPv4 only (pod IP {ip})")
        if ip.is_loopback or ip.is_multicast or ip.is_unspecified or str(ip) == topo.GATEWAY:
            raise InputError(f"{ep.key}: pod IP {ip} cannot be used in the lab")
        other = seen.setdefault(str(ip), ep.key)
        if other != ep.key:
            raise InputError(f"{ep.key} and {other} have the same IP {ip}: the lab needs "
                             "distinct addresses")
    for host in externals:
        if ipaddress.ip_address(host).is_loopback or host == topo.GATEWAY:
            raise InputError(f"--external {host} cannot be used in the lab")
