"""Which addresses a lab host may have, checked before anything is created.

A pod's address in the lab is a /32 on its own namespace's eth0 and a route on the node: an
address that is not a host's own (broadcast, network, multicast, loopback, unspecified,
link-local where the lab's gateway lives) would be accepted by `ip` and then misroute or
swallow probes silently. An `--external` that is a pod's address would be a second host
answering for that pod. Each is refused with the pod's field path and the reason.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from podwall.errors import InputError
from podwall.lab.topology import GATEWAY
from podwall.model import Cluster, IPNetwork


def unusable(ip: ipaddress.IPv4Address, network: IPNetwork | None) -> str | None:
    """Why a host cannot have `ip` in the lab (None: it can). Not a unicast address of its own,
    or the network or broadcast address of the pod CIDR it lies in."""
    for test, what in ((ip.is_unspecified, "the unspecified address"),
                       (ip.is_loopback, "a loopback address"),
                       (ip.is_multicast, "a multicast address"),
                       (ip == ipaddress.IPv4Address("255.255.255.255"), "the broadcast address"),
                       (ip.is_link_local, f"link-local (the lab's gateway is {GATEWAY})"),
                       (ip.is_reserved, "a reserved address (240.0.0.0/4)")):
        if test:
            return f"{ip} is {what}"
    if (network is not None and network.version == 4 and ip in network
            and network.num_addresses > 2):
        if ip == network.network_address:
            return f"{ip} is the network address of the pod CIDR {network}"
        if ip == network.broadcast_address:
            return f"{ip} is the broadcast address of the pod CIDR {network}"
    return None


def external_addresses(externals: Sequence[str]) -> list[str]:
    hosts: list[str] = []
    for text in externals:
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            raise InputError(f"--external {text!r} is not an IP address") from None
        if not isinstance(address, ipaddress.IPv4Address):
            raise InputError(f"--external {text}: the lab is IPv4 only")
        problem = unusable(address, None)
        if problem:
            raise InputError(f"--external {text}: {problem}: not usable as an outside host")
        if str(address) not in hosts:
            hosts.append(str(address))
    return hosts


def check_addresses(cluster: Cluster, externals: Sequence[str]) -> None:
    """Every endpoint needs its own usable IPv4 address, distinct from the outside hosts: an
    --external that is a pod's address would be a second host answering for that pod."""
    outside = set(externals)
    seen: dict[str, str] = {}
    for ep in cluster.endpoints:
        ip = ep.ip
        where = f"{ep.kind} {ep.key}: status.podIP"
        if not isinstance(ip, ipaddress.IPv4Address):
            raise InputError(f"{where}: Invalid value: \"{ip}\": the lab is IPv4 only")
        problem = unusable(ip, cluster.pod_cidr)
        if problem:
            raise InputError(f"{where}: Invalid value: \"{ip}\": {problem}, not a pod's own "
                             "address")
        if str(ip) in outside:
            raise InputError(f"--external {ip} is the IP of {ep.kind} {ep.key}: the lab probes "
                             f"that pod at {ip} already; name another address for an outside "
                             "host")
        other = seen.setdefault(str(ip), ep.key)
        if other != ep.key:
            raise InputError(f"{where}: Invalid value: \"{ip}\": {other} has the same IP; the "
                             "lab needs distinct addresses")
