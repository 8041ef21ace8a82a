"""Container ports (pkg/apis/core/validation's validateContainerPorts) and the protocol rules
they share with policy ports.

A pod serves the ports of its containers and of its sidecars; policies match them by number
or by name, so both are read here with the warnings that change what a named port matches
(one name in two containers). The quick path's reader (`fast_ports`) sits beside the
reporting one and gives up at anything the reporting one would mention
(tests/manifests/test_fast_path.py holds them to the same results).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from podwall.manifests import fields, syntax
from podwall.manifests.located import Located, LocatedList
from podwall.manifests.report import EMPTY, Ctx, Path, render_path
from podwall.model import ContainerPort, Protocol

PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP, "SCTP": Protocol.SCTP}
_CONTAINER_PROTOCOLS = '"SCTP", "TCP", "UDP"'  # core validation lists a sorted set
PORT_RANGE = "must be between 1 and 65535, inclusive"
_CONTAINER_PORT = fields.CONTAINER_PORT
_CACHE_LIMIT = 1 << 16


def read_protocol(ctx: Ctx, value: Any, path: Path, supported: str,
                  empty_is_default: bool) -> Protocol | None:
    """A protocol; null defaults to TCP (and "" too for container ports, whose defaulting
    replaces an empty string, unlike a policy port's pointer)."""
    if value is None:
        return Protocol.TCP
    text = ctx.string(value, path)
    if text is None:
        return None
    proto = PROTOCOLS.get(text)
    if proto is None:
        if not text and empty_is_default:
            return Protocol.TCP
        ctx.unsupported(path, text, supported)
    return proto


_PORTS_CACHE: dict[tuple[ContainerPort, ...], tuple[ContainerPort, ...]] = {}


def read_pod_ports(ctx: Ctx, value: Any, path: Path) -> tuple[ContainerPort, ...] | None:
    """validateContainerPorts for every container, and the ports the pod serves (its containers
    and its sidecars, i.e. init containers with `restartPolicy: Always`), sorted."""
    spec = ctx.mapping(value, path)
    if not spec:
        return () if spec is not None or value is None else None
    before = ctx.errors
    ctx.unknown_fields(spec, fields.POD_SPEC, path)
    ports: list[ContainerPort] = []
    names: dict[str, Path] = {}
    definitions: dict[tuple[Any, ...], Path] = {}
    for key in ("containers", "initContainers"):
        list_path = (path, key)
        for i, item in enumerate(ctx.sequence(spec.get(key), list_path) or ()):
            container_path = (list_path, i)
            container = EMPTY if item is None else ctx.mapping(item, container_path)
            if container is None:
                continue
            if container.get("name") in (None, ""):  # the API server: "Required value"
                ctx.required((container_path, "name"))
            if not container:
                continue
            ctx.unknown_fields(container, fields.CONTAINER, container_path)
            raw_ports = container.get("ports")
            if raw_ports is None:
                continue
            serves = key == "containers" or container.get("restartPolicy") == "Always"
            _container_ports(ctx, raw_ports, (container_path, "ports"), serves, ports, names,
                             definitions)
    if ctx.errors != before:
        return None
    return _sorted_ports(ports)


def _sorted_ports(ports: list[ContainerPort]) -> tuple[ContainerPort, ...]:
    """Distinct and sorted; one shared tuple per distinct list (pods of a workload share it)."""
    key_ports = tuple(ports)
    cached = _PORTS_CACHE.get(key_ports)
    if cached is None:
        cached = tuple(sorted(set(ports)))
        if len(_PORTS_CACHE) >= _CACHE_LIMIT:
            _PORTS_CACHE.clear()
        _PORTS_CACHE[key_ports] = cached
    return cached


def _container_ports(ctx: Ctx, value: Any, path: Path, serves: bool,
                     ports: list[ContainerPort], pod_names: dict[str, Path],
                     definitions: dict[tuple[Any, ...], Path]) -> None:
    names: set[str] = set()  # the API server wants names unique within one container
    for j, item in enumerate(ctx.sequence(value, path) or ()):
        port_path = (path, j)
        entry = _port_fast(item)
        if entry is None:
            entry = _port_entry(ctx, item, port_path)
            if entry is None:
                continue
        number, protocol, name, host_ip, host_port = entry
        if name:
            if name in names:
                ctx.error((port_path, "name"), f"Duplicate value: {syntax.go_quote(name)}")
                continue
            names.add(name)
            other = pod_names.get(name)
            if other is None:
                pod_names[name] = port_path
            else:
                ctx.warn((port_path, "name"), f"port name {syntax.go_quote(name)} is also used by "
                                              f"{render_path(other)}: a policy port naming it "
                                              "matches both")
        definition = (number, protocol, host_ip, host_port)
        other = definitions.get(definition)
        if other is not None:
            ctx.warn(port_path, f"duplicate port definition with {render_path(other)}")
        else:
            definitions[definition] = port_path
        if serves:
            ports.append(_container_port(number, protocol, name or None))


_PortEntry = tuple[int, Protocol, str, str, int]  # number, protocol, name, hostIP, hostPort


def _port_fast(item: Any) -> _PortEntry | None:
    """The common, valid container port (containerPort, maybe name and protocol), or None."""
    if not isinstance(item, dict) or not item.keys() <= _CONTAINER_PORT:
        return None
    number = item.get("containerPort")
    name = item.get("name")
    proto = item.get("protocol")
    if (type(number) is not int or not 0 < number <= 65535 or "hostPort" in item
            or "hostIP" in item):
        return None
    if proto is None:
        protocol = Protocol.TCP
    elif type(proto) is str and proto in PROTOCOLS:
        protocol = PROTOCOLS[proto]
    else:
        return None
    if name is None:
        name = ""
    elif type(name) is not str or (name and syntax.port_name(name)):
        return None
    return number, protocol, name, "", 0


def _port_entry(ctx: Ctx, item: Any, port_path: Path) -> _PortEntry | None:
    """validateContainerPorts for one entry, reporting everything; None when invalid."""
    raw = EMPTY if item is None else ctx.mapping(item, port_path)
    if raw is None:
        return None
    ctx.unknown_fields(raw, _CONTAINER_PORT, port_path)
    before = ctx.errors
    name_path = (port_path, "name")
    name = ctx.string(raw.get("name"), name_path)
    if name:
        for msg in syntax.port_name(name):
            ctx.invalid(name_path, name, msg)
    number_path = (port_path, "containerPort")
    number = ctx.integer(raw.get("containerPort"), number_path)
    if number == 0 or (number is None and raw.get("containerPort") is None):
        ctx.required(number_path)
    elif number is not None and not 1 <= number <= 65535:
        ctx.invalid(number_path, number, PORT_RANGE)
    host_path = (port_path, "hostPort")
    host_port = ctx.integer(raw.get("hostPort"), host_path)
    if host_port and not 1 <= host_port <= 65535:
        ctx.invalid(host_path, host_port, PORT_RANGE)
    protocol = read_protocol(ctx, raw.get("protocol"), (port_path, "protocol"),
                             _CONTAINER_PROTOCOLS, True)
    host_ip = ctx.string(raw.get("hostIP"), (port_path, "hostIP"))
    if (ctx.errors != before or number is None or protocol is None or name is None
            or host_ip is None):
        return None
    return number, protocol, name, host_ip, host_port or 0


@lru_cache(maxsize=4096)
def _container_port(number: int, protocol: Protocol, name: str | None) -> ContainerPort:
    return ContainerPort(number, protocol, name)


def fast_ports(spec: Any) -> tuple[ContainerPort, ...] | None:
    """The ports a valid pod spec serves (see read_pod_ports), or None when anything in its
    containers' ports would be reported (an error or a warning) or is not plain."""
    if spec is None:
        return ()
    if type(spec) is not dict and type(spec) is not Located:
        return None
    ports: list[ContainerPort] = []
    pod_names: set[str] = set()
    definitions: set[tuple[int, Protocol]] = set()
    if not spec.keys() <= fields.POD_SPEC:
        return None
    for key in ("containers", "initContainers"):
        containers = spec.get(key)
        if containers is None:
            continue
        if type(containers) is not list and type(containers) is not LocatedList:
            return None
        for container in containers:
            if ((type(container) is not dict and type(container) is not Located)
                    or not container.keys() <= fields.CONTAINER or not container.get("name")):
                return None  # not plain, or an error to report (a container needs a name)
            raw_ports = container.get("ports")
            if raw_ports is None:
                continue
            if type(raw_ports) is not list and type(raw_ports) is not LocatedList:
                return None
            serves = key == "containers" or container.get("restartPolicy") == "Always"
            names: set[str] = set()
            for item in raw_ports:
                entry = _port_fast(item)
                if entry is None:
                    return None
                number, protocol, name = entry[0], entry[1], entry[2]
                if name:
                    if name in names or name in pod_names:
                        return None  # a duplicate (an error) or a shared name (a warning)
                    names.add(name)
                    pod_names.add(name)
                definition = (number, protocol)
                if definition in definitions:
                    return None  # a duplicate port definition (a warning)
                definitions.add(definition)
                if serves:
                    ports.append(_container_port(number, protocol, name or None))
    return _sorted_ports(ports)
