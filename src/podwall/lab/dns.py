"""The lab's cluster DNS: names of Services and pods -> addresses, and the DNS wire format.

Why a DNS server of our own: a DNS egress policy (the classic "deny-all egress forgets port 53")
is only tested for real when names are resolved by a server on the CoreDNS pod's IP, through the
ruleset, as in a cluster. The lab writes its records (`records`) to a JSON file whenever it
changes; the server (`podwall.lab.server --dns FILE`, in the CoreDNS pod's namespace) reads the
file again when it changes, so a `lab expose` resolves at once. No dependency: a query is a
header and one question, and an answer is a few A records (RFC 1035 section 4).

Names, as CoreDNS's kubernetes plugin serves them (zone `cluster.local`):

- `SVC.NS.svc.cluster.local`: the ClusterIP (a headless Service: its pods' IPs);
- `POD.NS.pod.cluster.local` and `A-B-C-D.NS.pod.cluster.local`: the pod's IP. The first form
  is the lab's own (CoreDNS answers only the dashed address); with `NS.pod.cluster.local` last
  in a pod's search list it lets `wget POD` work for a pod without a Service, which is what a
  lab user tries first. Services still win: their domains come first in the search list.

Everything else is NXDOMAIN, at once, so resolvers go on to the next search domain; names
outside the zone too (the lab has no upstream: nothing leaves the machine; REFUSED would make
some resolvers, busybox's nslookup among them, stop before trying the search list).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping, Sequence

from podwall.model import Cluster, Labels

ZONE = "cluster.local"
TTL = 5
TYPE_A, TYPE_AAAA, TYPE_ANY, CLASS_IN = 1, 28, 255, 1
NOERROR, FORMERR, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 3, 4, 5
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}

Records = dict[str, list[str]]


def is_dns_pod(namespace: str, labels: Labels) -> bool:
    """A CoreDNS pod, as the implied kube-dns Service selects it."""
    return namespace == "kube-system" and all(labels.get(k) == v
                                              for k, v in KUBE_DNS_LABELS.items())


def records(cluster: Cluster) -> Records:
    """Every name the lab's DNS answers, lowercased, with its IPv4 addresses (sorted)."""
    out: dict[str, set[str]] = {}
    for ep in cluster.endpoints:
        if ep.ip is None or ep.ip.version != 4:
            continue
        for name in (f"{ep.name}.{ep.namespace}.pod.{ZONE}",
                     f"{str(ep.ip).replace('.', '-')}.{ep.namespace}.pod.{ZONE}"):
            out.setdefault(name.lower(), set()).add(str(ep.ip))
    for svc in cluster.services:
        name = f"{svc.name}.{svc.namespace}.svc.{ZONE}"
        if svc.cluster_ip is not None:
            out.setdefault(name, set()).add(str(svc.cluster_ip))
        elif svc.selector is not None:
            selector = svc.selector
            ips = {str(ep.ip) for ep in cluster.endpoints
                   if ep.namespace == svc.namespace and ep.ip is not None and ep.ip.version == 4
                   and all(ep.labels.get(k) == v for k, v in selector.items_sorted)}
            out.setdefault(name, set()).update(ips)
    return {name: sorted(ips, key=lambda ip: int(ipaddress.IPv4Address(ip)))
            for name, ips in sorted(out.items())}


def search_domains(namespace: str) -> list[str]:
    """A pod's search list: kubelet's three, then the lab's pod domain (see the module doc)."""
    return [f"{namespace}.svc.{ZONE}", f"svc.{ZONE}", ZONE, f"{namespace}.pod.{ZONE}"]


def resolv_conf(namespace: str, nameserver: str) -> str:
    """What kubelet writes into a pod with dnsPolicy ClusterFirst (plus the lab's pod domain)."""
    return (f"search {' '.join(search_domains(namespace))}\n"
            f"nameserver {nameserver}\n"
            "options ndots:5\n")


# -- the wire format -----------------------------------------------------------------------------


class BadQuery(ValueError):
    """Not a query this server can even answer with an error (too short to hold an id)."""


def _question(message: bytes) -> tuple[str, int, int, int]:
    """(name, type, class, end offset) of the first question; ValueError when malformed."""
    labels: list[str] = []
    offset = 12
    while True:
        if offset >= len(message):
            raise ValueError("truncated name")
        length = message[offset]
        offset += 1
        if length == 0:
            break
        if length & 0xC0:
            raise ValueError("compressed name in a question")
        label = message[offset:offset + length]
        if len(label) != length:
            raise ValueError("truncated label")
        labels.append(label.decode("ascii", "replace"))
        offset += length
    if offset + 4 > len(message):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack("!HH", message[offset:offset + 4])
    return ".".join(labels).lower(), qtype, qclass, offset + 4


def answer(message: bytes, table: Mapping[str, Sequence[str]]) -> bytes:
    """The response to one query (BadQuery when there is not even a header to answer)."""
    if len(message) < 12:
        raise BadQuery("shorter than a DNS header")
    ident, flags, qdcount = struct.unpack("!HHH", message[:6])
    opcode = (flags >> 11) & 0xF
    recursion = flags & 0x0100
    if flags & 0x8000:
        raise BadQuery("a response, not a query")

    def reply(rcode: int, question: bytes = b"", answers: Sequence[str] = (),
              authoritative: bool = False) -> bytes:
        out_flags = 0x8000 | (opcode << 11) | recursion | rcode | (0x0400 if authoritative else 0)
        head = struct.pack("!HHHHHH", ident, out_flags, 1 if question else 0, len(answers), 0, 0)
        body = b"".join(struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL, 4)
                        + ipaddress.IPv4Address(ip).packed for ip in answers)
        return head + question + body

    if opcode != 0:
        return reply(NOTIMP)
    if qdcount != 1:
        return reply(FORMERR)
    try:
        name, qtype, qclass, end = _question(message)
    except ValueError:
        return reply(FORMERR)
    question = message[12:end]
    if name != ZONE and not name.endswith("." + ZONE):
        return reply(NXDOMAIN, question)  # no upstream: as if it said "no such name"
    found = table.get(name)
    if found is None:
        exists = any(known.endswith("." + name) for known in table) or name == ZONE
        return reply(NOERROR if exists else NXDOMAIN, question, authoritative=True)
    wanted = qclass in (CLASS_IN, TYPE_ANY) and qtype in (TYPE_A, TYPE_ANY)
    return reply(NOERROR, question, list(found) if wanted else [], authoritative=True)


def query(name: str, qtype: int = TYPE_A, ident: int = 0x5057) -> bytes:
    """A query for `name` (tests and the lab's own checks use it)."""
    encoded = b"".join(bytes([len(label)]) + label.encode("ascii")
                       for label in name.rstrip(".").split(".") if label) + b"\0"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + encoded + struct.pack(
        "!HH", qtype, CLASS_IN)


def parse_answer(message: bytes) -> tuple[int, list[str]]:
    """(rcode, IPv4 addresses) of a response to `query` (tests read answers with it)."""
    _, flags, qdcount, ancount = struct.unpack("!HHHH", message[:8])
    offset = _question(message)[3] if qdcount else 12
    addresses: list[str] = []
    for _ in range(ancount):
        rtype, _, _, length = struct.unpack("!HHIH", message[offset + 2:offset + 12])
        rdata = message[offset + 12:offset + 12 + length]
        if rtype == TYPE_A and length == 4:
            addresses.append(str(ipaddress.IPv4Address(rdata)))
        offset += 12 + length
    return flags & 0xF, addresses
