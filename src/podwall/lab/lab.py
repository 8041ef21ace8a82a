"""The lab: pods as network namespaces on this machine, enforced by podwall's nftables ruleset.

Topology (see `podwall.lab.topology`; every namespace is named `pw-<lab>-…`, nothing is attached
to a real interface, and the machine's own ruleset is never touched):

    pw-<lab>-node     routes between hosts (ip_forward=1 here only), holds `table inet podwall`
    pw-<lab>-p<N>     one per endpoint: eth0 = <pod IP>/32; its veth's node end is `pw-p<N>`
    pw-<lab>-x<N>     one per --external IP: a host outside the cluster (node end `pw-x<N>`)

State lives in `/run/podwall/labs/<lab>/` (`PODWALL_LAB_STATE` moves the root; see
`podwall.lab.store` for why only directories and files of the invoking user, writable by no one
else, are read): `state.json` (namespaces, interfaces, addresses, server PIDs, what is built),
`cluster.json` (the exact snapshot the ruleset was compiled from, as data: see
`podwall.lab.snapshot`; `verify` compares the kernel with what was applied, not with files that
may have changed since), `ruleset.nft`, server logs and the lock; for the collector (see
`podwall.lab.collector`) `generation-<n>.json` (the snapshot of each of the last ruleset
generations, so that an event is attributed by the ruleset that judged it), `dataplane.json`
(generation, apply times, refusals), `collector.json` and `events.jsonl`. `down` needs none of it: it
also finds the lab's namespaces by name and its servers by command line, so it cleans up after
any crash.

New hosts are created with their node end DOWN and connected only after the ruleset that knows
them is in place: no packet of a pod ever meets a ruleset compiled without it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from podwall.dataplane import CounterValue, NftBackend, compile_ruleset
from podwall.dataplane.logprefix import LOG_GROUP
from podwall.engine import DenseVerdicts, Engine, Matrix, Verdict, default_ports
from podwall.errors import DataplaneError, InputError, PodwallError
from podwall.lab import collector as monitor
from podwall.lab import dns, kube, snapshot
from podwall.lab import prober as probes
from podwall.lab import services as svcs
from podwall.lab import topology as topo
from podwall.lab.addresses import check_addresses, external_addresses
from podwall.lab.audit import AuditCount, audit_counts
from podwall.lab.store import Store
from podwall.model import Cluster, Endpoint, PortQuery, Protocol

DEFAULT_STATE_ROOT = Path("/run/podwall/labs")
PROBE_TIMEOUT = 0.7
LAB_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # fullmatch: `$` would let "x\n" through
SNAPSHOT = "cluster.json"
DNS_RECORDS = "dns.json"

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
    audit: tuple[AuditCount, ...] = ()  # the audit view, held to the audit counters

    @property
    def audit_disagreements(self) -> tuple[AuditCount, ...]:
        return tuple(a for a in self.audit if not a.ok)

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.audit_disagreements


class Lab:
    """One lab, found by name. Every method but `down` needs the lab to be up.

    Every change (`up`, `apply`, `down`) is a transaction under the lab's lock: validate and
    compile first (nothing changed yet), have the kernel check the ruleset (`nft -c`), then change
    the kernel step by step, recording each step in `state.json` *before* it is made and marking
    it done after; a run killed anywhere leaves a state that the next `apply` (or `down`) reads
    to repair or remove what was half-built.
    """

    def __init__(self, name: str = "default") -> None:
        if not isinstance(name, str) or not LAB_NAME.fullmatch(name):
            raise InputError(f"invalid lab name {name!r}: use up to 32 lowercase letters, digits "
                             "and '-', starting with a letter or digit")
        self.name = name

    @property
    def node(self) -> str:
        return f"pw-{self.name}-node"

    @property
    def store(self) -> Store:
        return Store(state_root(), self.name)

    @property
    def state_dir(self) -> Path:
        return self.store.directory

    def owns(self, netns: str) -> bool:
        return re.fullmatch(rf"pw-{re.escape(self.name)}-(node|p\d+|x\d+)", netns) is not None

    # -- state -----------------------------------------------------------------------------------
    def is_up(self) -> bool:
        return self.store.read("state.json") is not None

    def load_state(self) -> State:
        state = self.store.read_json("state.json")
        if state is None:
            hint = "" if self.name == "default" else f" --name {self.name}"
            raise InputError(f"no lab named {self.name!r} is up (podwall lab up PATH...{hint})")
        if not _valid_state(state):
            raise DataplaneError(f"the state of lab {self.name!r} is damaged: "
                                 f"podwall lab down --name {self.name}")
        return cast(State, state)

    def settings(self) -> dict[str, str]:
        """How `up` (or the last `apply`) read the manifests: namespace, pod CIDR."""
        settings = self.load_state().get("settings", {})
        return {str(k): str(v) for k, v in settings.items()} if isinstance(settings, dict) else {}

    def _save_state(self, state: State) -> None:
        self.store.write_json("state.json", state)

    def cluster(self) -> Cluster:
        """The snapshot the running ruleset was compiled from."""
        self.load_state()
        data = self.store.read_json(SNAPSHOT)
        if data is None:
            raise DataplaneError(f"lab {self.name!r} has no snapshot of its manifests (a change "
                                 f"was interrupted): podwall lab apply --name {self.name} PATH...")
        return snapshot.load(data)

    # -- lifecycle -------------------------------------------------------------------------------
    def up(self, cluster: Cluster, externals: Sequence[str] = (), sources: Sequence[str] = (),
           settings: Mapping[str, str] | None = None,
           logging: Mapping[str, Any] | None = None, cluster_dns: bool = False) -> State:
        """Create the lab: node, one namespace per endpoint and outside host, servers, ruleset,
        and the collector of its NFLOG events (`logging`: group, logAllowed, metricsAddress).

        `cluster_dns`: add kube-system, a CoreDNS pod and the kube-dns Service when the cluster
        has none, now and after every later change (see podwall.lab.services)."""
        require_root()
        if cluster_dns:
            cluster = svcs.with_cluster_dns(cluster)
        hosts = external_addresses(externals)
        check_addresses(cluster, hosts)
        watch = _logging(logging)
        compile_ruleset(Engine(cluster), {ep.key: f"pw-p{i}"
                                          for i, ep in enumerate(cluster.endpoints)},
                        log_group=watch["group"], log_allowed=watch["logAllowed"])
        with self.store.locked():
            topo.checkpoint("up-locked")
            if self.is_up() or self.node in topo.netns_list():
                raise InputError(f"lab {self.name!r} is already up (podwall lab apply "
                                 f"--name {self.name} PATH... changes or repairs it; podwall lab "
                                 f"down --name {self.name} removes it)")
            try:
                state: State = {"name": self.name, "sources": list(sources),
                                "settings": dict(settings or {}), "node": False, "pods": {},
                                "externals": {}, "next_pod": 0, "next_external": 0,
                                "logging": watch,
                                "clusterDNS": cluster_dns, "created": {}}
                for ip in hosts:
                    self._plan_host(state, "externals", ip, ip)
                self._reconcile(state, cluster)
                state["sources"] = list(sources)
                kube.stamp(state, None, cluster)
                self._save_state(state)
            except BaseException:
                self._teardown()
                raise
        return state

    def apply(self, cluster: Cluster, sources: Sequence[str] = (),
              settings: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Reconcile the running lab to a new snapshot; the ruleset swaps in one transaction.

        Also the repair of a lab that a killed `up` or `apply` left half-built: hosts not marked
        built are rebuilt, servers that are not running restart. Returns what was done.
        """
        require_root()
        with self.store.locked():
            state = self.load_state()
            if state.get("clusterDNS"):
                cluster = svcs.with_cluster_dns(cluster)
            check_addresses(cluster, list(state["externals"]))
            old = self._snapshot_or_none()
            done = self._reconcile(state, cluster)
            state["sources"] = list(sources)
            if settings is not None:
                state["settings"] = dict(settings)
            kube.stamp(state, old, cluster)
            self._save_state(state)
        return done

    def update(self, change: Callable[[Cluster], Cluster]) -> tuple[Cluster, Cluster]:
        """Change the running lab from its own snapshot (`lab run`, `expose`, `apply -f`, ...):
        under the lock, `change(snapshot)` gives the next one, which is reconciled like `apply`
        (nothing happens when it is the same). Returns (before, after), for the diff."""
        require_root()
        with self.store.locked():
            state = self.load_state()
            old = self.cluster()
            new = change(old)
            if state.get("clusterDNS"):
                new = svcs.with_cluster_dns(new)
            if new != old:
                check_addresses(new, list(state["externals"]))
                self._reconcile(state, new)
                kube.stamp(state, old, new)
                self._save_state(state)
        return old, new

    def created(self) -> dict[str, float]:
        """When each object came into the lab (`Kind/ns/name`: seconds since the epoch)."""
        stamps = self.load_state().get("created", {})
        return {str(k): float(v) for k, v in stamps.items()
                if isinstance(v, (int, float))} if isinstance(stamps, dict) else {}

    def _snapshot_or_none(self) -> Cluster | None:
        try:
            return self.cluster()
        except PodwallError:
            return None

    def _reconcile(self, state: State, cluster: Cluster) -> dict[str, Any]:
        """Make the kernel match `cluster`: plan and compile, check, change, record."""
        done: dict[str, Any] = {"added": [], "removed": [], "repaired": [], "restarted": []}
        # 1. Plan, in memory: what goes, what comes, and the ruleset for the result.
        present = set(topo.netns_list())
        node_ok = bool(state.get("node")) and self.node in present
        links = topo.node_links(self.node) if node_ok else set()
        wanted = {ep.key: ep for ep in cluster.endpoints}
        for kind in ("pods", "externals"):
            for entry in state[kind].values():
                entry["broken"] = not (entry.get("built") and entry["netns"] in present
                                       and entry["ifname"] in links)
        gone = [key for key, entry in state["pods"].items()
                if (ep := wanted.get(key)) is None or entry["ip"] != str(ep.ip)]
        plan = {key: entry for key, entry in state["pods"].items() if key not in gone}
        counter = state["next_pod"]
        new: dict[str, str] = {}
        for key in wanted:
            if key not in plan:
                new[key] = f"pw-p{counter}"
                counter += 1
        interfaces = {**{key: entry["ifname"] for key, entry in plan.items()}, **new}
        watch = _logging(state.get("logging"))
        ruleset = compile_ruleset(Engine(cluster), interfaces, log_group=watch["group"],
                                  log_allowed=watch["logAllowed"])
        dnat = svcs.dnat_transaction(cluster)
        # 2. The kernel checks the ruleset before anything changes.
        if not node_ok:
            self._build_node(state, present)
        self._ensure_collector(state, restart=not node_ok)
        try:
            NftBackend(netns=self.node).check(ruleset)
            svcs.apply_dnat(self.node, dnat, check=True)
        except DataplaneError:
            self._record_apply(None, 0.0)
            raise
        # 3. Change the kernel, each step recorded before it is made.
        for key in gone:
            self._remove_host(state["pods"].pop(key))
            done["removed"].append(key)
            self._save_state(state)
        for kind in ("pods", "externals"):
            for key, entry in state[kind].items():
                if entry.pop("broken", False):
                    self._remove_host(entry)
                    entry.update(built=False, connected=False, pid=None)
                    self._save_state(state)
                    topo.create_host(self.node, entry["netns"], entry["ifname"], entry["ip"])
                    entry["built"] = True
                    self._save_state(state)
                    done["repaired"].append(key)
        for key in new:
            self._plan_host(state, "pods", key, str(wanted[key].ip))
            entry = state["pods"][key]
            topo.create_host(self.node, entry["netns"], entry["ifname"], entry["ip"])
            entry["built"] = True
            self._save_state(state)
            done["added"].append(key)
        self.store.write_json(DNS_RECORDS, dns.records(cluster))
        restart = self._servers_to_start(state, cluster)
        done["restarted"] = [ep.key for ep in restart if ep.key not in new]
        self._start_servers(state, restart)
        topo.checkpoint("before-ruleset")
        started = time.monotonic()
        try:
            generation = NftBackend(netns=self.node).apply(ruleset)
        except DataplaneError:
            self._record_apply(None, 0.0)
            raise
        svcs.apply_dnat(self.node, dnat)
        # 4. Record what the kernel now enforces (the generation's snapshot first: the
        # collector attributes its events by it, and waits for it).
        data = snapshot.dump(cluster)
        self.store.write_json(monitor.generation_file(generation), data)
        self._record_apply(generation, time.monotonic() - started)
        self._resolv_confs(state, cluster)
        self._connect_pending(state)
        self.store.write("ruleset.nft", ruleset.text)
        self.store.write_json(SNAPSHOT, data)
        self._sweep(state)
        return done

    def down(self) -> list[str]:
        """Remove every namespace, process and file of this lab; safe to repeat, and works after
        a crash (from the namespace names and the servers' command lines alone)."""
        require_root()
        if not self.store.exists():
            return self._teardown()
        with self.store.locked():
            return self._teardown()

    def _teardown(self) -> list[str]:
        pids: set[int] = set()
        with contextlib.suppress(PodwallError, ValueError, KeyError, TypeError, AttributeError):
            state = self.store.read_json("state.json")
            for kind in ("pods", "externals"):
                pids.update(int(e["pid"]) for e in state[kind].values() if e.get("pid"))
        pids &= topo.lab_processes(self.name)  # a PID from a file is trusted only if it is ours
        owned = [ns for ns in topo.netns_list() if self.owns(ns)]
        for netns in owned:
            pids |= topo.netns_pids(netns)
        pids |= topo.lab_processes(self.name)
        topo.kill_processes(pids)
        for netns in owned:
            topo.delete_netns(netns)
        for netns in topo.netns_etc_list():
            if self.owns(netns):
                topo.remove_netns_etc(netns)
        self.store.remove()
        root = state_root()
        for directory in (root, root.parent if root == DEFAULT_STATE_ROOT else None):
            if directory is not None:
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only when empty: other labs keep theirs
        return owned

    # -- the collector (NFLOG events, metrics) -------------------------------------------------
    def _ensure_collector(self, state: State, restart: bool) -> None:
        """Start the collector unless ours runs (a rebuilt node namespace needs a new one: its
        socket belonged to the old namespace)."""
        pid = state.get("collector")
        running = topo.lab_processes(self.name)
        if pid in running and not restart:
            return
        topo.kill_processes({pid} & running if isinstance(pid, int) else set())
        watch = _logging(state.get("logging"))
        state["collector"] = None
        self._save_state(state)
        proc = monitor.start(self.name, self.node, state_root(), watch["group"],
                             watch["metricsAddress"], self.store.path("collector.log"))
        state["collector"] = proc.pid
        self._save_state(state)
        topo.wait_ready({"collector": proc})

    def _record_apply(self, generation: int | None, seconds: float) -> None:
        """What the metrics say about applies: the generation in force, time, refusals."""
        record = self.store.read_json(monitor.APPLIES)
        record = record if isinstance(record, dict) else {}
        if generation is None:
            record["failures"] = int(record.get("failures", 0)) + 1
        else:
            record["generation"] = generation
            record["applies"] = int(record.get("applies", 0)) + 1
            record["applySeconds"] = float(record.get("applySeconds", 0.0)) + seconds
            record["lastApplySeconds"] = seconds
            stale = generation - monitor.KEEP_GENERATIONS
            if stale > 0:
                with contextlib.suppress(OSError):
                    self.store.path(monitor.generation_file(stale)).unlink()
        self.store.write_json(monitor.APPLIES, record)

    def collector_info(self) -> dict[str, Any]:
        """What the running collector wrote about itself (pid, group, metrics address)."""
        state = self.load_state()
        info = self.store.read_json(monitor.INFO)
        pid = state.get("collector")
        if not isinstance(info, dict) or pid not in topo.lab_processes(self.name):
            raise DataplaneError(f"the collector of lab {self.name!r} is not running (podwall "
                                 f"lab apply --name {self.name} PATH... starts it again)")
        return info

    def metrics(self, timeout: float = 5.0) -> str:
        """The collector's metrics, as a scraper sees them."""
        address = self.collector_info()["metricsAddress"]
        host, port = monitor.split_address(str(address))
        host = f"[{host}]" if ":" in host else host
        try:
            # no proxy: the collector is on this machine's loopback, whatever http_proxy says
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://{host}:{port}/metrics", timeout=timeout) as answer:
                return str(answer.read().decode())
        except OSError as exc:
            raise DataplaneError(f"the collector of lab {self.name!r} does not answer on "
                                 f"{address}: {exc}") from None

    # -- pieces ----------------------------------------------------------------------------------
    def _build_node(self, state: State, present: set[str]) -> None:
        """The node namespace (again, after a crash): every host's veth died with an old one."""
        state["node"] = False
        self._save_state(state)
        if self.node in present:
            topo.delete_netns(self.node)
        topo.create_node(self.node)
        state["node"] = True
        for kind in ("pods", "externals"):
            for entry in state[kind].values():
                entry["broken"] = True
        self._save_state(state)

    def _plan_host(self, state: State, kind: str, key: str, ip: str) -> None:
        """Record a new host (not built yet), so that a crash while building leaves it findable."""
        counter = "next_pod" if kind == "pods" else "next_external"
        letter = "p" if kind == "pods" else "x"
        index = state[counter]
        state[counter] = index + 1
        netns, ifname = f"pw-{self.name}-{letter}{index}", f"pw-{letter}{index}"
        state[kind][key] = {"netns": netns, "ifname": ifname, "ip": ip, "ports": [], "pid": None,
                            "built": False, "connected": False}
        self._save_state(state)

    def _connect_pending(self, state: State) -> None:
        """Connect every host the running ruleset knows but that is not connected yet."""
        pending = [entry for kind in ("pods", "externals") for entry in state[kind].values()
                   if not entry.get("connected")]
        topo.connect_hosts(self.node, [(e["ifname"], e["ip"]) for e in pending])
        for entry in pending:
            entry["connected"] = True
        self._save_state(state)

    def _servers_to_start(self, state: State, cluster: Cluster) -> list[Endpoint]:
        """Endpoints whose server is missing, not ours, or serving other ports (or DNS no more,
        or DNS now)."""
        running = topo.lab_processes(self.name)
        restart = []
        for ep in cluster.endpoints:
            entry = state["pods"][ep.key]
            if (entry["ports"] != _ports(ep)
                    or bool(entry.get("dns")) != dns.is_dns_pod(ep.namespace, ep.labels)
                    or (_served(entry["ports"]) and entry.get("pid") not in running)):
                restart.append(ep)
        return restart

    def _resolv_confs(self, state: State, cluster: Cluster) -> None:
        """Every pod's resolv.conf (`ip netns exec` mounts it), pointing at the cluster DNS."""
        server = svcs.nameserver(cluster)
        for ep in cluster.endpoints:
            entry = state["pods"][ep.key]
            text = None if server is None else dns.resolv_conf(ep.namespace, server)
            if text is None:
                topo.remove_netns_etc(entry["netns"])
                entry["resolv"] = None
            elif entry.get("resolv") != text or not topo.has_resolv_conf(entry["netns"]):
                # written once per pod (and again when the nameserver moves): a lab of a
                # thousand pods does not rewrite a thousand files on every change
                written = topo.write_resolv_conf(entry["netns"], text)
                entry["resolv"] = text if written else None

    def _start_servers(self, state: State, endpoints: Sequence[Endpoint]) -> None:
        servers: dict[str, subprocess.Popen[bytes]] = {}
        supported = sctp_supported()
        for ep in endpoints:
            entry = state["pods"][ep.key]
            topo.kill_processes(topo.netns_pids(entry["netns"]))
            entry["pid"] = None
            entry["ports"] = _ports(ep)
            entry["dns"] = dns.is_dns_pod(ep.namespace, ep.labels)
            serve = [(proto, port) for proto, port in entry["ports"]
                     if proto != Protocol.SCTP.value or supported]
            if serve:
                proc = topo.start_server(self.name, entry["netns"], serve,
                                         self.store.path(f"server-{entry['netns']}.log"), ep.key,
                                         self.store.path(DNS_RECORDS) if entry["dns"] else None)
                entry["pid"] = proc.pid
                servers[ep.key] = proc
        self._save_state(state)
        topo.wait_ready(servers)

    def _remove_host(self, entry: dict[str, Any]) -> None:
        pids = topo.netns_pids(entry["netns"])
        if entry.get("pid"):
            pids.add(int(entry["pid"]))
        topo.kill_processes(pids & (topo.lab_processes(self.name) | topo.netns_pids(entry["netns"])))
        topo.delete_netns(entry["netns"])
        topo.delete_link(self.node, entry["ifname"])

    def _sweep(self, state: State) -> None:
        """Namespaces of this lab that no entry names (left by a run killed between creating one
        and recording it; cannot happen in this order, but `down` is not the only cure)."""
        known = {self.node} | {e["netns"] for kind in ("pods", "externals")
                               for e in state[kind].values()}
        for netns in topo.netns_list():
            if self.owns(netns) and netns not in known:
                topo.kill_processes(topo.netns_pids(netns))
                topo.delete_netns(netns)

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
        """Kernel vs model: every pair and port where they differ, with the model's reasons;
        with audited policies, also the audit counters vs the audit view (`lab.audit`)."""
        audited = bool(self.cluster().audited)
        before = self.counters() if audited else {}
        kernel = self.probe(ports, timeout)
        after = self.counters() if audited else {}
        probed = tuple(p for p in kernel.matrix.ports if isinstance(p, PortQuery))  # all are
        engine, model = self.model(probed)
        if model.endpoints != kernel.matrix.endpoints:
            raise DataplaneError("internal error: the model and the lab list different endpoints")
        found: list[Disagreement] = []
        names = kernel.matrix.endpoints
        for port in probed:
            k, m = kernel.matrix.dense(port), model.dense(port)
            for i, j in zip(*np.nonzero(k != m), strict=True):
                src, dst = names[int(i)], names[int(j)]
                found.append(Disagreement(src, dst, port, kernel.outcomes[(src, dst, port)],
                                          engine.check(src, dst, port)))
        found.sort(key=lambda d: (str(d.port), names.index(d.src), names.index(d.dst)))
        audit = audit_counts(engine.cluster, kernel.outcomes, before, after) if audited else ()
        return Verification(kernel, model, tuple(found), audit)

    def counters(self) -> dict[str, CounterValue]:
        """The node's named counters: drops per pod and direction, and `spoofed`."""
        require_root()
        self.load_state()
        return NftBackend(netns=self.node).counters()


def _valid_state(state: Any) -> bool:
    """The shape `up` writes: names that `owns` accepts, addresses, integer PIDs (a state file
    is data from disk: checked before any of it reaches `ip` or `kill`)."""
    try:
        if not (isinstance(state["next_pod"], int) and isinstance(state["next_external"], int)):
            return False
        for kind, letter in (("pods", "p"), ("externals", "x")):
            for key, entry in state[kind].items():
                ipaddress.ip_address(entry["ip"])
                if not (isinstance(key, str)
                        and re.fullmatch(rf"pw-[a-z0-9-]+-{letter}\d+", entry["netns"])
                        and re.fullmatch(rf"pw-{letter}\d+", entry["ifname"])
                        and (entry.get("pid") is None or type(entry["pid"]) is int)
                        and isinstance(entry["ports"], list)):
                    return False
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def _logging(given: Any) -> dict[str, Any]:
    """The collector's settings as `up` recorded them, with defaults (older state: none)."""
    given = given if isinstance(given, dict) else {}
    group = given.get("group", LOG_GROUP)
    return {"group": group if type(group) is int else LOG_GROUP,
            "logAllowed": given.get("logAllowed") is True,
            "metricsAddress": str(given.get("metricsAddress", monitor.DEFAULT_METRICS_ADDRESS))}


def _served(ports: list[list[Any]]) -> bool:
    """Whether a server runs for these ports (SCTP alone, on a kernel without it: none)."""
    return any(proto != Protocol.SCTP.value for proto, _ in ports) or (
        bool(ports) and sctp_supported())


def _ports(ep: Endpoint) -> list[list[Any]]:
    return [[proto, port] for proto, port in sorted({(cp.protocol.value, cp.port)
                                                     for cp in ep.ports})]
