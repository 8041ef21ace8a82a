"""Resolving what a user names (`ns/name` or an IP) into an endpoint or an outside host."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from podwall.errors import QueryError
from podwall.model import Cluster, Endpoint, IPAddress


@dataclass(frozen=True, slots=True)
class ExternalHost:
    """An address outside the cluster's pods: it matches only ipBlock peers and is never isolated."""

    ip: IPAddress

    @property
    def key(self) -> str:
        return str(self.ip)

    def __str__(self) -> str:
        return self.key


Target = Endpoint | ExternalHost


def resolve_target(cluster: Cluster, text: str) -> Target:
    """`ns/name` names an endpoint; an IP is the pod that has it, else a host outside the cluster."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        address = None
    if address is not None:
        pod = cluster.endpoint_by_ip(address)
        return pod if pod is not None else ExternalHost(address)
    if "/" not in text:
        raise QueryError(f"{text!r} is neither ns/name nor an IP address")
    endpoint = cluster.endpoint(text.strip())
    if endpoint is None:
        namespace = text.split("/", 1)[0]
        near = [e.key for e in cluster.endpoints if e.namespace == namespace][:8]
        hint = f" (endpoints in {namespace}: {', '.join(near)})" if near else ""
        raise QueryError(f"no endpoint {text!r} in the input{hint}")
    return endpoint


def target_ip(target: Target) -> IPAddress | None:
    return target.ip
