"""Name, label, port-name and CIDR syntax exactly as the Kubernetes API server checks them.

Each checker returns None when valid, else the API server's explanation; results are cached
because real inputs repeat the same keys and values thousands of times.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = _QUALIFIED_NAME
_SVC_NAME = re.compile(r"^[-a-z0-9]+$")
_HAS_LETTER = re.compile(r"[a-z]")

_DNS_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                  "or '-', and must start and end with an alphanumeric character")
_DNS_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                      "characters, '-' or '.', and must start and end with an alphanumeric "
                      "character")
_NAME_PART_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                  "start and end with an alphanumeric character")
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character")


@lru_cache(maxsize=65536)
def dns1123_label(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS_LABEL.match(value):
        return _DNS_LABEL_MSG
    return None


@lru_cache(maxsize=65536)
def dns1123_subdomain(value: str) -> str | None:
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _DNS_SUBDOMAIN.match(value):
        return _DNS_SUBDOMAIN_MSG
    return None


@lru_cache(maxsize=65536)
def qualified_name(value: str) -> str | None:
    """A label key: optional DNS-subdomain prefix and '/', then a name of at most 63 chars."""
    prefix, slash, name = value.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        problem = dns1123_subdomain(prefix)
        if problem:
            return f"prefix part {problem}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME.match(name):
        return _NAME_PART_MSG
    return None


@lru_cache(maxsize=65536)
def label_value(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if value and not _LABEL_VALUE.match(value):
        return _LABEL_VALUE_MSG
    return None


@lru_cache(maxsize=4096)
def port_name(value: str) -> str | None:
    """IANA_SVC_NAME: at most 15 characters, lowercase letters, digits and '-', one letter."""
    if len(value) > 15:
        return "must be no more than 15 characters"
    if not _SVC_NAME.match(value):
        return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
    if "--" in value:
        return "must not contain consecutive hyphens"
    if not _HAS_LETTER.search(value):
        return "must contain at least one letter (a-z)"
    if value.startswith("-") or value.endswith("-"):
        return "must not begin or end with a hyphen"
    return None


@lru_cache(maxsize=16384)
def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR as the API server reads it: host bits may be set (they are ignored)."""
    if "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False) if value == value.strip() else None
    except ValueError:
        return None
