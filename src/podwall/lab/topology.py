"""The lab's plumbing: network namespaces, veths, routes and processes (only `ip` and `sysctl`).

A routed node, Calico-style. Every host (pod or outside host) is a namespace whose `eth0` holds
its address as a /32 and a default route via 169.254.1.1; the node end of the veth holds
169.254.1.1 itself, so the host's ARP for its gateway is answered by the node without proxy_arp,
and the node reaches the host through a /32 route on that veth. The node forwards (ip_forward=1
inside the node namespace only). Links are created directly inside the namespaces, so nothing
ever appears among the machine's own interfaces.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from podwall.dataplane.backend import find_tool
from podwall.errors import DataplaneError

GATEWAY = "169.254.1.1"
READY_TIMEOUT = 15.0


def tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        package = {"ip": "iproute2", "nft": "nftables", "sysctl": "procps"}.get(name, name)
        raise DataplaneError(f"{name} is not installed (Debian: apt-get install {package})")
    return path


def run(*args: str, check: bool = True, stdin: str | None = None) -> str:
    command = [tool(args[0]), *args[1:]]
    proc = subprocess.run(command, capture_output=True, text=True, input=stdin, check=False)
    if check and proc.returncode != 0:
        words = (proc.stderr.strip() or proc.stdout.strip()).replace("\n", "; ")
        raise DataplaneError(f"{' '.join(args[:6])}: {words}")
    return proc.stdout


# What an `ip` argument built from a name or address may hold: `ip -batch` splits lines at
# whitespace and newlines, and an argument starting with `-` would read as an option.
_IP_ARG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]*")


def ip_arg(value: str) -> str:
    """`value` as one `ip` argument, or DataplaneError: the one gate between names and `ip`."""
    if not _IP_ARG.fullmatch(value):
        raise DataplaneError(f"refusing {value!r} as an ip argument (letters, digits and "
                             "'.', '_', ':', '/', '@', '-' only)")
    return value


def address(value: str) -> str:
    """An IPv4 or IPv6 address in its canonical spelling (DataplaneError otherwise)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise DataplaneError(f"refusing {value!r}: not an IP address") from None


def batch(netns: str, commands: Iterable[Sequence[str]]) -> None:
    """Several `ip` commands in one namespace, one process (`ip -n NS -batch -`); every
    argument goes through `ip_arg`, so no name can start a second command."""
    lines = "".join(" ".join(ip_arg(arg) for arg in command) + "\n" for command in commands)
    run("ip", "-n", ip_arg(netns), "-batch", "-", stdin=lines)


def netns_list() -> list[str]:
    out = run("ip", "netns", "list", check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def create_node(node: str) -> None:
    run("ip", "netns", "add", ip_arg(node))
    run("ip", "netns", "exec", node, tool("sysctl"), "-qw", "net.ipv4.ip_forward=1")
    batch(node, [("link", "set", "lo", "up")])


def create_host(node: str, netns: str, ifname: str, ip: str) -> None:
    """A namespace with `eth0` = address/32 and a veth into the node, node end still DOWN:
    nothing reaches it or leaves it until `connect_host` (after the ruleset that knows it)."""
    ip = address(ip)
    run("ip", "netns", "add", ip_arg(netns))
    checkpoint("host-namespace-added")
    batch(node, [("link", "add", ifname, "type", "veth", "peer", "name", "eth0", "netns", netns),
                 ("addr", "add", f"{GATEWAY}/32", "dev", ifname)])
    batch(netns, [("link", "set", "lo", "up"),
                  ("addr", "add", f"{ip}/32", "dev", "eth0"),
                  ("link", "set", "eth0", "up"),
                  ("route", "add", GATEWAY, "dev", "eth0", "scope", "link"),
                  ("route", "add", "default", "via", GATEWAY, "dev", "eth0")])
    # A probe to a closed UDP port must see its ICMP port-unreachable ("refused"), however many
    # probes arrive at once: lift ICMP rate limits, in this namespace only. `-e`: kernels where
    # icmp_msgs_per_sec is not per namespace do not list it here.
    run("ip", "netns", "exec", netns, tool("sysctl"), "-qew", "net.ipv4.icmp_ratelimit=0",
        "net.ipv4.icmp_msgs_per_sec=1000000", "net.ipv4.icmp_msgs_burst=1000000")


def connect_hosts(node: str, hosts: Sequence[tuple[str, str]]) -> None:
    """Bring up the node ends and route each host's /32 to it: (ifname, address) pairs."""
    if hosts:
        batch(node, [cmd for ifname, ip in hosts
                     for cmd in (("link", "set", ifname, "up"),
                                 ("route", "replace", f"{address(ip)}/32", "dev", ifname))])


def delete_netns(netns: str) -> None:
    run("ip", "netns", "del", ip_arg(netns), check=False)
    remove_netns_etc(netns)


# `ip netns exec NAME` bind-mounts every file of /etc/netns/NAME/ over its namesake in /etc:
# that is how a pod's commands get the lab's resolv.conf. The directory belongs to the netns
# and goes with it.
NETNS_ETC = Path("/etc/netns")


def write_resolv_conf(netns: str, text: str) -> bool:
    """/etc/netns/NETNS/resolv.conf (False when /etc/netns cannot be written: rootless without a
    tmpfs on it; commands then use the machine's resolv.conf)."""
    directory = NETNS_ETC / ip_arg(netns)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o755)
        if directory.is_symlink() or not directory.is_dir():
            raise DataplaneError(f"{directory} is not a directory: refusing to write into it")
        temporary = directory / ".resolv.conf.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(temporary, directory / "resolv.conf")
    except PermissionError:
        return False
    except OSError as exc:
        raise DataplaneError(f"cannot write {directory}/resolv.conf: {exc.strerror}") from None
    return True


def has_resolv_conf(netns: str) -> bool:
    return (NETNS_ETC / ip_arg(netns) / "resolv.conf").is_file()


def remove_netns_etc(netns: str) -> None:
    """Remove /etc/netns/NETNS (only the files the lab writes there, then the directory)."""
    directory = NETNS_ETC / ip_arg(netns)
    for name in ("resolv.conf", ".resolv.conf.tmp"):
        with contextlib.suppress(OSError):
            (directory / name).unlink()
    with contextlib.suppress(OSError):
        directory.rmdir()


def netns_etc_list() -> list[str]:
    """The names under /etc/netns (`lab down` removes its own even when the netns is gone)."""
    try:
        return sorted(p.name for p in NETNS_ETC.iterdir())
    except OSError:
        return []


def delete_link(netns: str, ifname: str) -> None:
    """Delete a veth by its end in `netns` (its peer goes with it); nothing if it is not there."""
    run("ip", "-n", ip_arg(netns), "link", "del", ip_arg(ifname), check=False)


def node_links(node: str) -> set[str]:
    """The names of the links in the node namespace."""
    out = run("ip", "-n", ip_arg(node), "-o", "link", "show", check=False)
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()
            if line.count(":") >= 2}


def checkpoint(step: str) -> None:
    """A test hook: with PODWALL_LAB_TEST_PAUSE=<step>, say so on stderr and wait there: as long
    as the file PODWALL_LAB_TEST_RESUME names exists, or until killed when it names none (the
    kill -9 and concurrency tests stop a lab change at a known point; nothing else sets them)."""
    if os.environ.get("PODWALL_LAB_TEST_PAUSE") != step:
        return
    sys.stderr.write(f"podwall: paused at {step}\n")
    sys.stderr.flush()
    resume = os.environ.get("PODWALL_LAB_TEST_RESUME")
    while resume is None or os.path.exists(resume):
        time.sleep(0.05)


# -- processes ------------------------------------------------------------------------------------


def start_server(lab: str, netns: str, ports: Sequence[tuple[str, int]], log: Path,
                 pod: str = "", dns: Path | None = None) -> subprocess.Popen[bytes]:
    """One server process in the namespace for all its ports; `--lab` marks it for cleanup.
    `pod` names the pod in its HTTP page; `dns` makes its port 53 answer DNS from that file."""
    spec = {proto: ",".join(str(p) for pr, p in ports if pr == proto)
            for proto in ("TCP", "UDP", "SCTP")}
    extra = ["--dns", str(dns)] if dns is not None else []
    with log.open("ab") as err:
        return subprocess.Popen(
            [tool("ip"), "netns", "exec", netns, sys.executable, "-m", "podwall.lab.server",
             "--lab", lab, "--pod", pod, "--tcp", spec["TCP"], "--udp", spec["UDP"],
             "--sctp", spec["SCTP"], *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            start_new_session=True)


def wait_ready(servers: dict[str, subprocess.Popen[bytes]], timeout: float = READY_TIMEOUT) -> None:
    """Every server prints one line once all its sockets are bound: `ready` or `error: ...`."""
    pending = {proc.stdout.fileno(): (key, proc) for key, proc in servers.items()
               if proc.stdout is not None}
    deadline = time.monotonic() + timeout
    problems: list[str] = []
    while pending and time.monotonic() < deadline:
        readable, _, _ = select.select(list(pending), [], [], max(0.0, deadline - time.monotonic()))
        for fd in readable:
            key, proc = pending.pop(fd)
            line = os.read(fd, 4096).decode(errors="replace").strip()
            if line != "ready":
                problems.append(f"{key}: {line or 'server exited'}")
    for proc in servers.values():
        if proc.stdout is not None:
            proc.stdout.close()
    problems.extend(f"{key}: server did not start within {timeout:.0f} s"
                    for key, _ in pending.values())
    if problems:
        raise DataplaneError("lab servers failed: " + "; ".join(problems[:5]))


def kill_processes(pids: Iterable[int]) -> None:
    """SIGKILL, then wait (briefly) until they are gone; reaps our own children."""
    alive = set(pids) - {os.getpid()}
    for pid in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 3
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        if alive:
            time.sleep(0.01)


def netns_pids(netns: str) -> set[int]:
    return {int(p) for p in run("ip", "netns", "pids", netns, check=False).split() if p.isdigit()}


def lab_processes(lab: str) -> set[int]:
    """Servers, probers and the collector of this lab, found by their command line
    (`--lab NAME`), even if their namespace is gone."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if ((b"podwall.lab.server" in argv or b"podwall.lab.prober" in argv
             or b"podwall.lab.collector" in argv)
                and _after(argv, b"--lab") == lab.encode()):
            found.add(int(entry.name))
    return found


def _after(argv: list[bytes], flag: bytes) -> bytes | None:
    with contextlib.suppress(ValueError, IndexError):
        return argv[argv.index(flag) + 1]
    return None


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie of someone else's is as good as gone
