"""Reporting one document's problems at their field paths, as the API server words them.

Every reader of a kind (networkpolicy, pods, namespaces, services, clusterpolicy) validates
through one `Ctx`: it knows the document (file, line, List prefix), counts the errors of the
object being read, drops messages the API server would drop as identical, and reads typed
fields so that a value of the wrong type is reported once, at its path, naming the type
expected. Kept apart from the readers so that all of them report the same way.

Paths are nested pairs `(parent, segment)` (the object root is None): building one costs a
two-item tuple, and text (and a line number) is made only when something is reported.
"""

from __future__ import annotations

import datetime
from typing import Any

from podwall.errors import Diagnostic, Severity
from podwall.manifests import fields, syntax
from podwall.manifests.documents import Document, type_name
from podwall.manifests.fields import FieldValidation
from podwall.manifests.located import Located, LocatedList

Path = Any  # tuple[Path, str | int] | None; `Any` because mypy has no recursive tuple aliases

EMPTY: dict[str, Any] = {}  # read-only stand-in for an absent or null mapping


# -- paths and values as messages show them -------------------------------------------------------

def segments(path: Path) -> list[str | int]:
    out: list[str | int] = []
    while path is not None:
        path, seg = path
        out.append(seg)
    out.reverse()
    return out


def render_path(path: Path) -> str:
    out = ""
    for seg in segments(path):
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def go_value(value: Any) -> str:
    """A bad value as the API server prints it (`%q` for strings, `%v` for numbers)."""
    if isinstance(value, str):
        return syntax.go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    return syntax.go_quote(type_name(value))


def as_text(value: Any) -> str | None:
    """What the API server receives for a string field: null is "", a YAML timestamp its text."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):  # kubectl sends YAML timestamps as strings
        return value.isoformat()
    return None


class Ctx:
    """Reporting context of one document: where it is, what object it is, how many errors."""

    __slots__ = ("data", "doc", "errors", "obj", "out", "seen", "validation")

    def __init__(self, doc: Document, out: list[Diagnostic],
                 validation: FieldValidation = FieldValidation.STRICT) -> None:
        self.doc = doc
        self.validation = validation
        self.data = doc.data
        self.out = out
        self.obj: str | None = None
        self.errors = 0
        self.seen: set[tuple[Severity, str, str]] | None = None

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest field on the path that the document knows a line for."""
        node: Any = self.data
        line = self.doc.line
        if line is None and isinstance(node, LocatedList):
            line = node.line
        for seg in segments(path):
            if isinstance(seg, str):
                if not isinstance(node, dict) or seg not in node:
                    break
                if isinstance(node, Located):
                    line = node.key_lines.get(seg) or line
                node = node[seg]
            else:
                if not isinstance(node, list) or not 0 <= seg < len(node):
                    break
                if isinstance(node, LocatedList) and seg < len(node.item_lines):
                    line = node.item_lines[seg]
                node = node[seg]
        return line

    def report(self, severity: Severity, path: Path, message: str, at: Path = None,
               text: str | None = None) -> None:
        """Record one problem; `at` is a deeper path for the line when `path` is a whole map
        (the API server reports label problems at `metadata.labels`, we point at the key).
        `text` spells the path when render_path cannot (a map key with dots and slashes)."""
        if text is None:
            text = self.path_text(path)
        if self.seen is None:
            self.seen = set()
        key = (severity, text, message)
        if key in self.seen:  # the API server drops identical messages too
            return
        self.seen.add(key)
        if severity is Severity.ERROR:
            self.errors += 1
        line = self.line_of(at if at is not None else path)
        self.out.append(Diagnostic(message, severity, file=self.doc.file, line=line,
                                   obj=self.obj, path=text or None))

    def path_text(self, path: Path) -> str:
        """The path as shown: inside a List, from the List (`items[3].spec.podSelector`)."""
        text = render_path(path)
        prefix = self.doc.prefix
        if prefix:
            return f"{prefix}.{text}" if text else prefix
        return text

    def error(self, path: Path, message: str, at: Path = None) -> None:
        self.report(Severity.ERROR, path, message, at)

    def warn(self, path: Path, message: str, at: Path = None) -> None:
        self.report(Severity.WARNING, path, message, at)

    def invalid(self, path: Path, value: Any, detail: str, at: Path = None) -> None:
        self.error(path, f"Invalid value: {go_value(value)}: {detail}", at)

    def required(self, path: Path, detail: str = "") -> None:
        self.error(path, f"Required value: {detail}" if detail else "Required value")

    def forbidden(self, path: Path, detail: str) -> None:
        self.error(path, f"Forbidden: {detail}")

    def unsupported(self, path: Path, value: str, supported: str) -> None:
        self.error(path, f"Unsupported value: {syntax.go_quote(value)}: supported values: "
                         f"{supported}")

    def wrong_type(self, path: Path, value: Any, expected: str) -> None:
        self.error(path, f'Invalid value: "{type_name(value)}": expected {expected}')

    def wrong_value_type(self, path: Path, value: Any, what: str, key: str, at: Path) -> None:
        """A map value of the wrong type, reported at the map (as the API server does)."""
        self.error(path, f'Invalid value: "{type_name(value)}": expected string for {what} '
                         f"{syntax.go_quote(key)}", at)

    def unknown_fields(self, mapping: dict[str, Any], allowed: frozenset[str], path: Path,
                       inner: tuple[str, frozenset[str]] | None = None) -> None:
        """Fields the schema does not have: errors, warnings or nothing, as --field-validation
        says (see fields.py). `inner` is a child mapping whose fields a too shallow one names."""
        if mapping.keys() <= allowed or self.validation is FieldValidation.IGNORE:
            return
        severity = (Severity.ERROR if self.validation is FieldValidation.STRICT
                    else Severity.WARNING)
        for key in mapping:
            if key not in allowed:
                self.report(severity, (path, key), fields.unknown(key, allowed, inner))

    # -- typed reads: None means absent (or null); a wrong type is reported and reads as None ---

    def mapping(self, value: Any, path: Path) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        self.wrong_type(path, value, "object")
        return None

    def sequence(self, value: Any, path: Path) -> list[Any] | None:
        if value is None or isinstance(value, list):
            return value
        self.wrong_type(path, value, "array")
        return None

    def string(self, value: Any, path: Path) -> str | None:
        """A string field; null is "" (its zero value), None means a wrong type (reported)."""
        if isinstance(value, str):
            return value
        text = as_text(value)
        if text is None:
            self.wrong_type(path, value, "string")
        return text

    def integer(self, value: Any, path: Path) -> int | None:
        """An integer field; None means null/absent or a wrong type (reported)."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.wrong_type(path, value, "integer")
        return None

    def duplicates(self, node: Any, path: Path) -> None:
        """Duplicate mapping keys anywhere in the document (the last value is the one used)."""
        if isinstance(node, Located):
            for key, line in node.duplicates:
                self.out.append(Diagnostic(
                    f'duplicate key "{key}": the last value is used', Severity.WARNING,
                    file=self.doc.file, line=line or None, obj=self.obj,
                    path=self.path_text((path, key))))
            for key, value in node.items():
                if isinstance(value, dict | list):
                    self.duplicates(value, (path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    self.duplicates(value, (path, i))
