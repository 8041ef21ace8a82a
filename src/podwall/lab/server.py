"""Runs inside a pod's namespace: HTTP on its TCP (and SCTP) ports, UDP echo, or cluster DNS.

Why HTTP: the tutorials test a policy with `wget -qO- -T 2 nginx`; a server that answers
HTTP (200 and a small page naming the pod) makes wget's exit code tell allowed from denied,
exactly as nginx would. A connection that sends something other than an HTTP request gets its
bytes echoed (`nc` works too); one that sends nothing (the prober's connect) is simply closed.
Every connection is non-blocking, so one slow client never holds up the others.

With `--dns FILE` (the CoreDNS pod), its port-53 sockets answer DNS from the records in FILE
(see podwall.lab.dns), read again whenever the file changes; a datagram too short to be a DNS
query (the prober's) is echoed, so `lab probe` sees UDP/53 answered like any other port.

Prints one line once every socket is bound (`ready`, or `error: ...` and exit 1), then serves
until killed. `--lab` is not used here: it marks the process so `lab down` can find it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

IPPROTO_SCTP = getattr(socket, "IPPROTO_SCTP", 132)
DNS_PORT = 53
IDLE = 10.0  # seconds a connection may stay silent
REQUEST_MAX = 16384
METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")


def _listen(kind: int, proto: int, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, kind, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if kind == socket.SOCK_STREAM:
        s.listen(512)
    s.setblocking(False)
    return s


def bind_all(tcp: list[int], udp: list[int], sctp: list[int],
             dns: bool = False) -> selectors.BaseSelector:
    sel = selectors.DefaultSelector()
    for port in tcp:
        kind = "dns-listen" if dns and port == DNS_PORT else "listen"
        sel.register(_listen(socket.SOCK_STREAM, 0, port), selectors.EVENT_READ, kind)
    for port in sctp:
        sel.register(_listen(socket.SOCK_STREAM, IPPROTO_SCTP, port), selectors.EVENT_READ,
                     "listen")
    for port in udp:
        kind = "dns-udp" if dns and port == DNS_PORT else "udp"
        sel.register(_listen(socket.SOCK_DGRAM, 0, port), selectors.EVENT_READ, kind)
    return sel


def page(pod: str, request: bytes) -> bytes:
    """The HTTP answer: 200 and a page naming the pod (HEAD: the headers only)."""
    body = (f"<!DOCTYPE html>\n<html><head><title>{pod}</title></head>\n"
            f"<body><h1>podwall lab</h1><p>pod {pod} answered.</p></body></html>\n").encode()
    head = (f"HTTP/1.0 200 OK\r\nServer: podwall-lab\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\nX-Pod: {pod}\r\nConnection: close\r\n\r\n").encode()
    return head if request.startswith(b"HEAD ") else head + body


@dataclass
class Records:
    """The DNS records file, read again when its modification time changes."""

    path: str | None
    mtime: float = -1.0
    table: dict[str, list[str]] = field(default_factory=dict)

    def current(self) -> dict[str, list[str]]:
        if self.path is None:
            return self.table
        try:
            mtime = os.stat(self.path).st_mtime
            if mtime != self.mtime:
                with open(self.path, encoding="utf-8") as f:
                    data = json.load(f)
                self.table = {str(k): [str(ip) for ip in v] for k, v in data.items()}
                self.mtime = mtime
        except (OSError, ValueError, AttributeError, TypeError):
            pass  # keep the last good records: a half-written file is never read (renamed whole)
        return self.table


@dataclass
class Conn:
    kind: str  # "http" or "dns"
    data: bytes = b""
    out: bytes = b""
    seen: float = field(default_factory=time.monotonic)
    closing: bool = False


class Server:
    def __init__(self, sel: selectors.BaseSelector, pod: str, records: Records) -> None:
        self.sel = sel
        self.pod = pod
        self.records = records
        self.conns: dict[socket.socket, Conn] = {}

    def serve(self) -> None:
        while True:
            for key, events in self.sel.select(timeout=1.0):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    self.handle(sock, key.data, events)
                except OSError:
                    if key.data == "conn":
                        self.close(sock)
            self.sweep()

    def handle(self, sock: socket.socket, kind: str, events: int) -> None:
        if kind in ("listen", "dns-listen"):
            conn, _ = sock.accept()
            conn.setblocking(False)
            self.conns[conn] = Conn("dns" if kind == "dns-listen" else "http")
            self.sel.register(conn, selectors.EVENT_READ, "conn")
        elif kind == "udp":
            data, peer = sock.recvfrom(2048)
            sock.sendto(data, peer)
        elif kind == "dns-udp":
            data, peer = sock.recvfrom(2048)
            reply = self.dns(data)
            # not even a DNS header (the lab's prober): echoed, as every lab UDP server does
            sock.sendto(data if reply is None else reply, peer)
        else:
            self.converse(sock, events)

    def dns(self, message: bytes) -> bytes | None:
        from podwall.lab.dns import BadQuery, answer

        try:
            return answer(message, self.records.current())
        except BadQuery:
            return None

    def converse(self, sock: socket.socket, events: int) -> None:
        state = self.conns[sock]
        state.seen = time.monotonic()
        if events & selectors.EVENT_WRITE and state.out:
            sent = sock.send(state.out)
            state.out = state.out[sent:]
        if events & selectors.EVENT_READ:
            chunk = sock.recv(4096)
            if not chunk:
                state.closing = True
            state.data += chunk
            self.respond(state)
        if state.closing and not state.out:
            self.close(sock)
            return
        self.sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if state.out else 0),
                        "conn")

    def respond(self, state: Conn) -> None:
        if state.kind == "dns":
            while len(state.data) >= 2:
                (length,) = struct.unpack("!H", state.data[:2])
                if len(state.data) < 2 + length:
                    break
                reply = self.dns(state.data[2:2 + length])
                state.data = state.data[2 + length:]
                if reply is not None:
                    state.out += struct.pack("!H", len(reply)) + reply
            return
        if state.data.startswith(METHODS) or any(m.startswith(state.data) for m in METHODS):
            if b"\r\n\r\n" in state.data or b"\n\n" in state.data or len(state.data) > REQUEST_MAX:
                state.out += page(self.pod, state.data)
                state.data = b""
                state.closing = True
        elif state.data:
            state.out += state.data  # not HTTP: an echo
            state.data = b""

    def sweep(self) -> None:
        deadline = time.monotonic() - IDLE
        for sock in [s for s, c in self.conns.items() if c.seen < deadline]:
            self.close(sock)

    def close(self, sock: socket.socket) -> None:
        self.conns.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(sock)
        sock.close()


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
    parser.add_argument("--pod", default="")
    parser.add_argument("--tcp", default="")
    parser.add_argument("--udp", default="")
    parser.add_argument("--sctp", default="")
    parser.add_argument("--dns", default=None, help="serve DNS on port 53 from this records file")
    args = parser.parse_args()
    try:
        sel = bind_all(_ports(args.tcp), _ports(args.udp), _ports(args.sctp), args.dns is not None)
    except OSError as exc:
        announce(f"error: {exc}")
        sys.exit(1)
    announce("ready")
    Server(sel, args.pod or "unknown", Records(args.dns)).serve()


if __name__ == "__main__":
    main()
