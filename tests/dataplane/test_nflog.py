"""The NFLOG reader against the kernel, in a throwaway namespace (root only), and its parser."""

from __future__ import annotations

import itertools
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest

from podwall.dataplane.nflog import NflogSocket, parse_headers
from podwall.errors import DataplaneError

_names = itertools.count()


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"pw-tdp{os.getpid()}-l{next(_names)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _logging_table(netns: str, group: int) -> None:
    rules = (f"table inet t {{\n chain out {{\n type filter hook output priority filter;\n"
             f"udp dport 9999 log group {group} prefix \"pw drop egress g3 x\" accept\n }}\n}}\n")
    subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=rules, text=True,
                   check=True)


def _send(netns: str, count: int, port: int = 9999) -> None:
    code = (f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for i in range({count}):\n    s.sendto(b'x', ('127.0.0.1', {port}))\n")
    subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", code], check=True)


@pytest.mark.kernel
def test_every_logged_packet_arrives_with_prefix_and_headers(netns: str) -> None:
    _logging_table(netns, 100)
    with NflogSocket(100, netns=netns) as log:
        _send(netns, 500)
        got = []
        while len(got) < 500:
            batch = log.read(timeout=2)
            if not batch:
                break
            got.extend(batch)
        assert len(got) == 500 and log.lost == 0
        first = got[0]
        assert (first.prefix, first.src, first.dst, first.protocol, first.port) == (
            "pw drop egress g3 x", "127.0.0.1", "127.0.0.1", "UDP", 9999)
        seqs = [p.seq for p in got]
        assert seqs == list(range(seqs[0], seqs[0] + 500))


@pytest.mark.kernel
def test_the_socket_lives_in_the_namespace_not_here(netns: str) -> None:
    """Packets logged in the machine's own namespace never reach a reader of the lab's."""
    _logging_table(netns, 101)
    with NflogSocket(101, netns=netns) as log:
        _send(netns, 3)
        assert len(log.read(timeout=2)) == 3
        own = subprocess.run(["readlink", "/proc/self/ns/net"], capture_output=True,
                             text=True, check=True).stdout
        assert os.readlink("/proc/thread-self/ns/net") + "\n" == own  # this thread never moved


@pytest.mark.kernel
def test_one_reader_per_group_and_namespace(netns: str) -> None:
    with NflogSocket(102, netns=netns), pytest.raises(DataplaneError, match="another reader"):
        NflogSocket(102, netns=netns)


@pytest.mark.kernel
def test_a_missing_namespace_is_one_clear_error() -> None:
    with pytest.raises(DataplaneError, match="cannot open an NFLOG socket"):
        NflogSocket(100, netns=f"pw-tdp{os.getpid()}-missing")


def test_headers_of_tcp_udp_icmp_and_ipv6() -> None:
    v4 = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0]) + socket.inet_aton("10.0.0.1") \
        + socket.inet_aton("10.0.0.2") + struct.pack("!HH", 40000, 5432)
    assert parse_headers(socket.AF_INET, v4) == ("10.0.0.1", "10.0.0.2", "TCP", 40000, 5432)
    icmp = v4[:9] + bytes([1]) + v4[10:20] + bytes([8, 0, 0, 0])
    assert parse_headers(socket.AF_INET, icmp) == ("10.0.0.1", "10.0.0.2", "ICMP", None, None)
    fragment = v4[:6] + struct.pack("!H", 185) + v4[8:]  # a later fragment holds no ports
    assert parse_headers(socket.AF_INET, fragment)[3:] == (None, None)
    v6 = bytes([0x60, 0, 0, 0, 0, 8, 17, 64]) + socket.inet_pton(socket.AF_INET6, "fd00::1") \
        + socket.inet_pton(socket.AF_INET6, "fd00::2") + struct.pack("!HH", 5353, 53)
    assert parse_headers(socket.AF_INET6, v6) == ("fd00::1", "fd00::2", "UDP", 5353, 53)
    with pytest.raises(ValueError):
        parse_headers(socket.AF_INET, b"\x45\x00")
