"""Runs inside a source namespace: probe every (address, protocol, port) of a JSON job on stdin.

Outcomes, one per target, as a JSON list on stdout:

- `connected` (TCP/SCTP handshake done) or `answered` (UDP echo came back): it got through;
- `refused`: a reset or an ICMP port-unreachable came back. The network let the packet through
  and nothing listens there, so it counts as allowed (the ruleset drops, never rejects);
- `dropped`: nothing came back before the timeout;
- `unsupported`: the kernel has no sockets for the protocol (SCTP here); never a verdict;
- `error: ...`: anything else (a bug or a broken lab, not a verdict).
"""

from __future__ import annotations

import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 0.7
IPPROTO_SCTP = getattr(socket, "IPPROTO_SCTP", 132)
ALLOWED = frozenset({"connected", "answered", "refused"})
DENIED = frozenset({"dropped"})


def probe(address: str, protocol: str, port: int, timeout: float = TIMEOUT) -> str:
    if protocol == "UDP":
        kind, proto = socket.SOCK_DGRAM, 0
    elif protocol == "SCTP":
        kind, proto = socket.SOCK_STREAM, IPPROTO_SCTP
    else:
        kind, proto = socket.SOCK_STREAM, 0
    try:
        sock = socket.socket(socket.AF_INET, kind, proto)
    except OSError as exc:
        return "unsupported" if protocol == "SCTP" else f"error: {exc.strerror}"
    with sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
            if kind == socket.SOCK_DGRAM:
                sock.send(b"pw-probe")
                sock.recv(64)
                return "answered"
            return "connected"
        except (ConnectionRefusedError, ConnectionResetError):
            return "refused"
        except TimeoutError:
            return "dropped"
        except OSError as exc:
            return f"error: {exc.strerror or exc}"


def run_job(targets: list[tuple[str, str, int]], timeout: float) -> list[str]:
    """Every probe at once (one thread each, up to 256): a full job takes about one timeout."""
    if not targets:
        return []

    def one(target: tuple[str, str, int]) -> str:
        return probe(target[0], target[1], target[2], timeout)

    with ThreadPoolExecutor(max_workers=min(256, len(targets))) as pool:
        return list(pool.map(one, targets))


def main() -> None:
    # argv may hold `--lab NAME`: unused here, it marks the process so `lab down` can find it
    job = json.load(sys.stdin)
    targets = [(str(t[0]), str(t[1]), int(t[2])) for t in job["targets"]]
    json.dump(run_job(targets, float(job.get("timeout", TIMEOUT))), sys.stdout)


if __name__ == "__main__":
    main()
