"""The only two ways text from the input reaches nft: an identifier, or a quoted string.

Why a module of its own: the ruleset is a program in nft's language, and names from manifests
(namespaces, pods, policies, port names), from `-n`, or from a caller's interface map are data.
Validation upstream is not enough (`-n` once let `x\\n    accept` through and emptied every
pod's chain), so the compiler never formats a raw string into the ruleset: every name goes
through `ident` (an identifier of safe characters, hashed when it has anything else) and every
free text through `quoted`
(a string literal that cannot end early or span lines) or `remark` (a `#` line), and the types
`Ident` and `Quoted` let mypy show that nothing else is formatted in. Interface names must be
valid as they are (`ifname`), since they name real links: a bad one is an error, never rewritten.

nft string literals have no escapes: a `"` ends the string wherever it stands, and the scanner
stops at a newline. `quoted` therefore keeps printable ASCII without `"`, `\\` and `%` (the
marker of a generation, see podwall.dataplane.compile.GENERATION) and turns anything else
into `?`.
"""

from __future__ import annotations

import hashlib
import re
from typing import NewType

# nft identifiers: a letter first, then letters, digits and `/ - _ .` (nft's scanner). A name
# may also carry the generation marker once compiled; that is added by the compiler, not here.
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")
_KEY = re.compile(r"[A-Za-z0-9._/-]+")
_STRING_SAFE = re.compile(r"[^ !#$&'()*+,\-./0-9:;<=>?@A-Z\[\]^_`a-z{|}~]")
# Linux IFNAMSIZ is 16 bytes with the terminating NUL; the lab's and the CLI's are `pw-p<N>`.
_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,14}")

NAME_MAX = 200

Ident = NewType("Ident", str)
"""An nft identifier (chain, set, map or counter name) that no input can break out of."""

Quoted = NewType("Quoted", str)
"""An nft string literal, quotes included, that no input can end early."""


def ident(prefix: str, key: str, limit: int = NAME_MAX) -> Ident:
    """`prefix + key` when that is a safe identifier within `limit`, else a safe spelling of
    `key` clipped and made unique with a hash of the whole key (so two keys never share one)."""
    if not _IDENT.fullmatch(prefix[:1] + "x"):
        raise ValueError(f"an nft identifier prefix must start with a letter: {prefix!r}")
    if _KEY.fullmatch(key) and _IDENT.fullmatch(prefix + key) and len(prefix) + len(key) <= limit:
        return Ident(prefix + key)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9._/-]", "_", key)[: max(0, limit - len(prefix) - 13)]
    name = f"{prefix}{safe}-{digest}"
    if not _IDENT.fullmatch(name):  # only a prefix that is itself unsafe can get here
        raise ValueError(f"not an nft identifier: {name!r}")
    return Ident(name)


def fixed(name: str) -> Ident:
    """A name the compiler itself chose (`forward`, `pod-interfaces`): checked, never hashed."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not an nft identifier: {name!r}")
    return Ident(name)


def quoted(text: str, limit: int) -> Quoted:
    """`"text"`, with anything that could end the literal replaced, clipped to `limit` bytes."""
    safe = _STRING_SAFE.sub("?", text.replace('"', "'").replace("\\", "/").replace("%", "?"))
    if len(safe) > limit:
        safe = safe[: limit - 3] + "..."
    return Quoted(f'"{safe}"')


def remark(text: str, limit: int = 200) -> str:
    """A `#` comment line (prefix included): one line whatever `text` holds (a newline would end
    the comment and make the rest a statement)."""
    return "# " + quoted(text, limit)[1:-1]


def ifname(name: str) -> Quoted:
    """An interface name as an nft string; it names a real link, so it must be valid as given."""
    if not _IFNAME.fullmatch(name):
        raise ValueError(f"invalid interface name {name!r}: up to 15 letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit")
    return Quoted(f'"{name}"')


__all__ = ["NAME_MAX", "Ident", "Quoted", "fixed", "ident", "ifname", "quoted", "remark"]
