"""Runs inside a source namespace: probe every (address, protocol, port) of a JSON job on stdin.

Outcomes: "connected"/"answered" (it got through), "refused" (RST or ICMP port unreachable: the
network let it through, nothing listens; counts as allowed), "dropped" (timeout), "unsupported".
"""

from __future__ import annotations

import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 0.7


def probe(address: str, protocol: str, port: int, timeout: float = TIMEOUT) -> str:
    if protocol == "SCTP":
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
        except OSError:
            return "unsupported"
        kind, proto = socket.SOCK_STREAM, socket.IPPROTO_SCTP
    elif protocol == "UDP":
        kind, proto = socket.SOCK_DGRAM, 0
    else:
        kind, proto = socket.SOCK_STREAM, 0
    with socket.socket(socket.AF_INET, kind, proto) as s:
        s.settimeout(timeout)
        try:
            s.connect((address, port))
            if kind == socket.SOCK_DGRAM:
                s.send(b"pw-probe")
                s.recv(64)
                return "answered"
            return "connected"
        except ConnectionRefusedError:
            return "refused"
        except TimeoutError:
            return "dropped"
        except OSError as exc:
            return f"error: {exc.strerror}"


def main() -> None:
    job = json.load(sys.stdin)
    targets: list[tuple[str, str, int]] = [(t[0], t[1], int(t[2])) for t in job["targets"]]
    timeout = float(job.get("timeout", TIMEOUT))

    def one(target: tuple[str, str, int]) -> str:
        return probe(target[0], target[1], target[2], timeout)

    with ThreadPoolExecutor(max_workers=min(128, max(1, len(targets)))) as pool:
        results = list(pool.map(one, targets))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
