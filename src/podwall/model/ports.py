"""Protocols and the port fields of policies and containers."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class Protocol(enum.StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """A NetworkPolicyPort: `port` is a number, a container-port name, or None (every port).

    `end_port` is only ever set together with a numeric `port` (validation guarantees it).
    """

    protocol: Protocol = Protocol.TCP
    port: int | str | None = None
    end_port: int | None = None

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol}/*"
        if self.end_port is not None:
            return f"{self.protocol}/{self.port}-{self.end_port}"
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A container port an endpoint listens on; `name` lets named policy ports resolve to it."""

    port: int
    protocol: Protocol = Protocol.TCP
    name: str | None = None

    def __lt__(self, other: ContainerPort) -> bool:
        return (self.port, self.protocol.value, self.name or "") < (
            other.port, other.protocol.value, other.name or "")

    def __str__(self) -> str:
        label = f"{self.protocol}/{self.port}"
        return f"{label} ({self.name})" if self.name else label


@dataclass(frozen=True, slots=True, order=True)
class PortQuery:
    """A concrete protocol and port number, the unit of every verdict (`TCP/80`)."""

    protocol: Protocol
    port: int

    def __str__(self) -> str:
        return f"{self.protocol}/{self.port}"

    @staticmethod
    def parse(text: str) -> PortQuery:
        """Parse `TCP/80`, `udp/53` or `80` (TCP). Raises ValueError with a user-facing message."""
        raw = text.strip()
        proto_text, sep, num_text = raw.rpartition("/")
        if not sep:
            proto_text, num_text = "TCP", raw
        try:
            protocol = Protocol(proto_text.upper())
        except ValueError:
            raise ValueError(
                f"invalid port {text!r}: protocol must be TCP, UDP or SCTP (e.g. TCP/80, udp/53)"
            ) from None
        if not num_text.isdigit() or not 1 <= int(num_text) <= 65535:
            raise ValueError(f"invalid port {text!r}: port must be a number from 1 to 65535")
        return PortQuery(protocol, int(num_text))


# IANA_SVC_NAME, as Kubernetes validates container port names: lowercase letters, digits and
# single hyphens, at most 15 characters, at least one letter, no hyphen at either end.
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*(?<!-)$")


@dataclass(frozen=True, slots=True)
class NamedPortQuery:
    """A container-port name (`http`, `UDP/dns`) asked for on the command line.

    It has no number of its own: like a NetworkPolicy's named port, it means, at each
    destination, the number of that destination's container port of that name and protocol.
    It sorts among `PortQuery`s (after the numbers of its protocol), so a list of ports a user
    asked for, numbers and names, has one order.
    """

    protocol: Protocol
    name: str

    def __str__(self) -> str:
        return f"{self.protocol}/{self.name}"

    def _key(self) -> tuple[str, int, int, str]:
        return (self.protocol.value, 1, 0, self.name)

    def __lt__(self, other: Port) -> bool:
        return self._key() < port_key(other)

    def __le__(self, other: Port) -> bool:
        return self._key() <= port_key(other)

    def __gt__(self, other: Port) -> bool:
        return self._key() > port_key(other)

    def __ge__(self, other: Port) -> bool:
        return self._key() >= port_key(other)

    def resolve(self, ports: Iterable[ContainerPort]) -> PortQuery | None:
        """The number it names among a destination's container ports (None: it has none)."""
        for cp in ports:
            if cp.name == self.name and cp.protocol is self.protocol:
                return PortQuery(self.protocol, cp.port)
        return None


Port = PortQuery | NamedPortQuery  # a column of a matrix: a number, or a name per destination


def port_key(port: Port) -> tuple[str, int, int, str]:
    """The one order of numbers and names: by protocol, numbers first, then names."""
    if isinstance(port, NamedPortQuery):
        return (port.protocol.value, 1, 0, port.name)
    return (port.protocol.value, 0, port.port, "")


def parse_port_or_name(text: str) -> PortQuery | NamedPortQuery:
    """`TCP/80`, `80`, `http`, `udp/dns`. Raises ValueError with a user-facing message."""
    raw = text.strip()
    proto_text, sep, rest = raw.rpartition("/")
    if rest.isdigit() or not rest:
        return PortQuery.parse(text)
    try:
        protocol = Protocol(proto_text.upper()) if sep else Protocol.TCP
    except ValueError:
        raise ValueError(
            f"invalid port {text!r}: protocol must be TCP, UDP or SCTP (e.g. TCP/80, udp/dns)"
        ) from None
    if len(rest) > 15 or not _PORT_NAME.match(rest):
        raise ValueError(
            f"invalid port {text!r}: a port is a number from 1 to 65535 or a container-port "
            "name (at most 15 lowercase letters, digits and single hyphens, e.g. http, "
            "metrics, udp/dns)")
    return NamedPortQuery(protocol, rest)
