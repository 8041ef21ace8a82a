"""Name, label, port-name, IP and CIDR syntax exactly as the Kubernetes API server checks them.

Each checker returns the API server's complaints (an empty tuple when the value is valid), in the
API server's order and words (k8s.io/apimachinery/pkg/util/validation, released wording). Results
are cached: real inputs repeat the same keys and values thousands of times.

Go regular expressions anchored with `^...$` match the whole text (a trailing newline included),
so every pattern here is used with `fullmatch`. Go measures lengths in bytes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DNS_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN_FMT = _DNS_LABEL_FMT + "(\\." + _DNS_LABEL_FMT + ")*"
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"

_DNS_LABEL = re.compile(_DNS_LABEL_FMT)
# The same language, matched without the regex engine's backtracking stack: a repeated group
# costs over a hundred bytes per repetition otherwise (a name "a.a.a...." of 8 MB took 990 MB);
# the possessive `*+` gives nothing back, which `fullmatch` never needs here.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*+")
_LABEL_KEY = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE = re.compile(_LABEL_VALUE_FMT)
_PORT_NAME_CHARS = re.compile("[-a-z0-9]+")
_HAS_LETTER = re.compile("[a-z]")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery's RegexError, double space included ("'my-name',  or '123-abc'")."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


_DNS_LABEL_MSG = regex_error(
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character", _DNS_LABEL_FMT, "my-name", "123-abc")
_DNS_SUBDOMAIN_MSG = regex_error(
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character", _DNS_SUBDOMAIN_FMT,
    "example.com")
_LABEL_KEY_MSG = regex_error(
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character", _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
_QUALIFIED_NAME_MSG = ("a qualified name " + _LABEL_KEY_MSG
                       + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
_LABEL_VALUE_MSG = regex_error(
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character", _LABEL_VALUE_FMT,
    "MyValue", "my_value", "12345")


def _size(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


@lru_cache(maxsize=65536)
def dns1123_label(value: str) -> tuple[str, ...]:
    """IsDNS1123Label: Namespace names and `metadata.namespace`."""
    errs: list[str] = []
    if _size(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS_LABEL.fullmatch(value):
        errs.append("must not contain dots" if _DNS_SUBDOMAIN.fullmatch(value) else _DNS_LABEL_MSG)
    return tuple(errs)


@lru_cache(maxsize=65536)
def dns1123_subdomain(value: str) -> tuple[str, ...]:
    """IsDNS1123Subdomain: names of Pods, workloads and NetworkPolicies."""
    errs: list[str] = []
    if _size(value) > 253:
        errs.append(max_len_error(253))
    if not _DNS_SUBDOMAIN.fullmatch(value):
        errs.append(_DNS_SUBDOMAIN_MSG)
    return tuple(errs)


def is_dns1123_subdomain(value: str) -> bool:
    """dns1123_subdomain(value) == (), without the cache: for names that are all different (pod
    names), where a cache only costs. (A match is ASCII, so its length is its size in bytes.)"""
    return len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value) is not None


def mask_trailing_dash(name: str) -> str:
    """How NameIsDNSSubdomain(name, prefix=true) checks a `generateName` (same odd slicing)."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


@lru_cache(maxsize=65536)
def qualified_name(value: str) -> tuple[str, ...]:
    """IsQualifiedName: a label key (optional DNS-subdomain prefix and '/', then a name)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix))
    else:
        return (_QUALIFIED_NAME_MSG,)
    if not name:
        errs.append("name part must be non-empty")
    elif _size(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _LABEL_KEY.fullmatch(name):
        errs.append("name part " + _LABEL_KEY_MSG)
    return tuple(errs)


@lru_cache(maxsize=65536)
def label_value(value: str) -> tuple[str, ...]:
    """IsValidLabelValue: empty, or at most 63 characters of the label-key alphabet."""
    if not value:
        return ()
    errs: list[str] = []
    if _size(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_VALUE.fullmatch(value):
        errs.append(_LABEL_VALUE_MSG)
    return tuple(errs)


@lru_cache(maxsize=4096)
def port_name(value: str) -> tuple[str, ...]:
    """IsValidPortName (IANA_SVC_NAME): every rule it breaks, in the API server's order."""
    errs: list[str] = []
    if _size(value) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARS.fullmatch(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.search(value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return tuple(errs)


# -- IP addresses and CIDRs, parsed the way the API server's "legacy field" validation does --------

def _dtoi(text: str) -> int | None:
    """Go's dtoi as used by the sloppy parsers: one or more ASCII digits (leading zeros allowed)."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0")
    if len(significant) > 8:
        return None
    value = int(significant or "0")
    return value if value < 0xFFFFFF else None


def _ipv4_sloppy(text: str) -> tuple[int, bool] | None:
    """An IPv4 address as netutils.ParseIPSloppy reads it: (value, had leading zeros)."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    zeros = False
    for part in parts:
        n = _dtoi(part)
        if n is None or n > 255:
            return None
        zeros = zeros or (len(part) > 1 and part[0] == "0")
        value = value << 8 | n
    return value, zeros


def _ip_sloppy(text: str) -> tuple[IPAddress, bool] | None:
    """(address, spelled oddly: leading zeros or an IPv4-mapped IPv6 address), or None."""
    if ":" in text:
        if "%" in text:  # zones are not IP addresses here
            return None
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            return None
        return address, address.ipv4_mapped is not None
    parsed = _ipv4_sloppy(text)
    if parsed is None:
        return None
    return ipaddress.IPv4Address(parsed[0]), parsed[1]


INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"  # when parse_ip fails


def parse_ip(text: str) -> IPAddress | None:
    """An IP address (ParseIPSloppy); the common dotted-quad case takes a C fast path."""
    try:
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        pass
    parsed = _ip_sloppy(text)
    return parsed[0] if parsed is not None else None


@dataclass(frozen=True, slots=True)
class CIDR:
    network: IPNetwork  # the addresses it matches, as Go's IPNet.Contains matches them
    warnings: tuple[str, ...]  # GetWarningsForCIDR's complaints, without the field path
    mask_bits: int  # the mask's length as written (Go's Mask.Size()): 104 in ::ffff:a.b.c.d/104


def _go_ip_text(address: IPAddress) -> str:
    """Go's IP.String(): an IPv4-mapped IPv6 address is written as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@lru_cache(maxsize=16384)
def parse_cidr(text: str) -> CIDR | None:
    """A CIDR as the API server reads NetworkPolicy ipBlocks (ParseCIDRSloppy); None if invalid.

    Host bits may be set (they are ignored), IPv4 octets and the prefix length may have leading
    zeros: all accepted, with the warnings the API server sends back (GetWarningsForCIDR).

    An IPv4-mapped IPv6 CIDR is what Go makes of it (k8s.io/utils' forked net.ParseCIDR, and
    net.IPNet): `::ffff:10.0.0.0/104` parses to a 16-byte address and a 16-byte /104 mask; the
    masked address is still IPv4-mapped when the prefix is at least 96, and then IPNet.Contains
    (networkNumberAndMask) compares it as the 4-byte address 10.0.0.0 under the mask's last 4
    bytes, /8: it matches exactly the IPv4 addresses of 10.0.0.0/8 (and IPNet.String() says
    "10.0.0.0/8", the form the API server's warning tells to use). Below /96 the mask clears
    the ffff, the network is an IPv6 one (`::ffff:10.0.0.0/95` is ::fffe:0:0/95) and matches
    no IPv4 address. The mask keeps its written length, 104, for the `except` rule, which
    compares mask lengths as written (ValidateIPBlock: Mask.Size()).
    """
    address_text, slash, prefix_text = text.partition("/")
    if not slash:
        return None
    prefix = _dtoi(prefix_text)
    parsed = _ip_sloppy(address_text)
    if prefix is None or parsed is None:
        return None
    address, odd = parsed
    if prefix > address.max_prefixlen:
        return None
    network: IPNetwork
    if address.version == 4:
        network = ipaddress.IPv4Network((int(address), prefix), strict=False)
    else:
        network = ipaddress.IPv6Network((int(address), prefix), strict=False)
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:  # prefix >= 96: an IPv4 network, as Go matches it
            network = ipaddress.IPv4Network((int(mapped), prefix - 96))
    warnings: list[str] = []
    host_bits = (1 << (address.max_prefixlen - prefix)) - 1
    if int(address) & host_bits:
        warnings.append(f"CIDR value {go_quote(text)} is ambiguous in this context (should be "
                        f'"{network}" or "{_go_ip_text(address)}/{address.max_prefixlen}"?)')
    if odd or (len(prefix_text) > 1 and prefix_text[0] == "0"):
        warnings.append(f"non-standard CIDR value {go_quote(text)} will be considered invalid "
                        f'in a future Kubernetes release: use "{network}"')
    if not warnings and address.version == 6 and f"{address}/{prefix}" != text:
        warnings.append(f"IPv6 CIDR value {go_quote(text)} should be in RFC 5952 canonical "
                        f'format ("{address}/{prefix}")')
    return CIDR(network, tuple(warnings), prefix)


def go_quote(text: str) -> str:
    """Go's %q for the common cases: double quotes, backslash escapes for quotes and controls."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x80 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
