"""Errors are values: a `Diagnostic` says where (file, line, object, field path) and what.

Exception tree (only for failures that stop a command; bad input is a Diagnostic, never raised):

    PodwallError                 base of everything podwall raises on purpose
    ├── InputError               the user's input cannot be used at all (bad path, unreadable file)
    ├── QueryError               a query names something that is not there (unknown endpoint, bad port)
    └── DataplaneError           the kernel refused a ruleset or a lab operation failed
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PodwallError(Exception):
    """Base of the errors podwall raises on purpose; the CLI turns them into a message and exit 2."""


class InputError(PodwallError):
    """The input cannot be used at all (missing path, unreadable file)."""


class QueryError(PodwallError):
    """A query is malformed or names an endpoint that is not in the input."""


class DataplaneError(PodwallError):
    """The kernel or a tool refused an operation; the message carries the tool's own words."""


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` safe to print on a terminal, one line: every character that is not printable
    (controls such as newline and ESC, so no forged diagnostic lines and no terminal escape
    sequences; line and paragraph separators; invisible format characters such as bidi
    overrides) is written as a backslash escape, as Go's %q writes it. Everything podwall
    prints that came from its input goes through here (Diagnostic's str does, by construction).
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
            continue
        escaped = _ESCAPES.get(ch)
        if escaped is None:
            code = ord(ch)
            escaped = (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
        out.append(escaped)
    return "".join(out)


class Severity(enum.IntEnum):
    """Ordered, so `max()` of a batch gives the exit-worthy level."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in the input, located as precisely as we can.

    `obj` is `Kind ns/name` (or just `Kind name` for cluster-scoped objects) when known;
    `path` is the field path inside the object, e.g. `spec.ingress[0].from[1].ipBlock.cidr`.
    """

    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    line: int | None = None
    column: int | None = None
    obj: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        """`file:line:column: [severity: ][object: ][path: ]message`, on one line whatever the
        input held (see `printable`)."""
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        parts = [where]
        if self.severity is not Severity.ERROR:
            parts.append(f"{self.severity}: ")
        if self.obj:
            parts.append(f"{self.obj}: ")
        if self.path:
            parts.append(f"{self.path}: ")
        parts.append(self.message)
        return printable("".join(parts))

    def to_json(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "object": self.obj,
            "path": self.path,
            "message": self.message,
        }


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
