"""Runs inside a pod's namespace: accept TCP (and SCTP) on some ports, echo UDP on others.

Prints one line once every socket is bound (`ready`, or `error: ...` and exit 1), then serves
until killed. `--lab` is not used here: it marks the process so `lab down` can find it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import socket
import sys

IPPROTO_SCTP = getattr(socket, "IPPROTO_SCTP", 132)


def _listen(kind: int, proto: int, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, kind, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if kind == socket.SOCK_STREAM:
        s.listen(512)
    s.setblocking(False)
    return s


def bind_all(tcp: list[int], udp: list[int], sctp: list[int]) -> selectors.BaseSelector:
    sel = selectors.DefaultSelector()
    for port in tcp:
        sel.register(_listen(socket.SOCK_STREAM, 0, port), selectors.EVENT_READ, "stream")
    for port in sctp:
        sel.register(_listen(socket.SOCK_STREAM, IPPROTO_SCTP, port), selectors.EVENT_READ,
                     "stream")
    for port in udp:
        sel.register(_listen(socket.SOCK_DGRAM, 0, port), selectors.EVENT_READ, "udp")
    return sel


def serve(sel: selectors.BaseSelector) -> None:
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                if key.data == "stream":
                    conn, _ = sock.accept()
                    with conn:
                        conn.setblocking(True)
                        conn.settimeout(0.5)
                        conn.sendall(b"pw-ok\n")
                else:
                    data, peer = sock.recvfrom(2048)
                    sock.sendto(data, peer)
            except OSError:
                continue


def announce(line: str) -> None:
    """Say `line` on stdout in ONE write, then let stdout go.

    The lab reads the line and closes the pipe at once. `print` may write the text and the
    newline separately (PYTHONUNBUFFERED, as set on this machine), and the second write would
    then die of a broken pipe, killing a server that had just said it was ready.
    """
    with contextlib.suppress(OSError):
        os.write(1, (line + "\n").encode())
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _ports(text: str) -> list[int]:
    return [int(p) for p in text.split(",") if p]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="")
    parser.add_argument("--tcp", default="")
    parser.add_argument("--udp", default="")
    parser.add_argument("--sctp", default="")
    args = parser.parse_args()
    try:
        sel = bind_all(_ports(args.tcp), _ports(args.udp), _ports(args.sctp))
    except OSError as exc:
        announce(f"error: {exc}")
        sys.exit(1)
    announce("ready")
    serve(sel)


if __name__ == "__main__":
    main()
