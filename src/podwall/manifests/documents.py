"""Reading manifest files into documents that remember where every field came from.

All multi-document YAML handling lives here. Mappings become `Located` dicts that carry their own
line and the line of each key, so validation can point at `file:line` for any field path.
PyYAML silently keeps the last of duplicate keys; we record them instead.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from podwall.errors import Diagnostic, InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

try:  # libyaml is in PyYAML's wheels; fall back rather than fail on an odd build.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


class Located(dict[str, Any]):
    """A mapping that knows its line and the line of each key (1-based)."""

    __slots__ = ("duplicates", "key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = []


class LocatedList(list[Any]):
    """A sequence that knows its line and the line of each item (1-based)."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    pass


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    out = Located(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark)
        skey = key if isinstance(key, str) else str(key)
        line = key_node.start_mark.line + 1
        if skey in out:
            out.duplicates.append((skey, line))
        out[skey] = loader.construct_object(value_node, deep=True)
        out.key_lines[skey] = line
    return out


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
    out = LocatedList(node.start_mark.line + 1)
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.item_lines.append(child.start_mark.line + 1)
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


@dataclass(frozen=True, slots=True)
class Document:
    """One Kubernetes object as read: `data` is a Located mapping (or whatever the file held)."""

    file: str
    index: int
    data: Any
    line: int | None = None


@dataclass(slots=True)
class ReadResult:
    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def read_paths(paths: list[str], *, stdin_text: str | None = None) -> ReadResult:
    """Read files, directories (recursively, sorted) and `-` (stdin) into documents.

    A path that does not exist raises InputError: nothing sensible can be said without it.
    A file that cannot be parsed becomes diagnostics; the other files still load.
    """
    result = ReadResult()
    for raw in paths:
        if raw == "-":
            text = stdin_text if stdin_text is not None else sys.stdin.read()
            _read_text("<stdin>", text, result)
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for f in files:
                _read_file(f, result)
        elif path.is_file():
            _read_file(path, result)
        else:
            raise InputError(f"{raw}: no such file or directory")
    return result


def _read_file(path: Path, result: ReadResult) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        result.diagnostics.append(Diagnostic(f"not UTF-8 text: {exc.reason}", file=str(path)))
        return
    except OSError as exc:
        result.diagnostics.append(Diagnostic(f"cannot read: {exc.strerror}", file=str(path)))
        return
    _read_text(str(path), text, result)


def _read_text(name: str, text: str, result: ReadResult) -> None:
    stripped = text.lstrip()
    if name.endswith(".json") and stripped.startswith(("{", "[")):
        _read_json(name, text, result)
        return
    docs: list[Document] = []
    try:
        for index, data in enumerate(yaml.load_all(text, Loader=_Loader)):
            docs.append(_document(name, index, data))
    except yaml.YAMLError:
        # One broken document must not hide the others: parse document by document.
        docs = _read_yaml_chunks(name, text, result)
    for doc in docs:
        _expand(doc, result)


def _read_yaml_chunks(name: str, text: str, result: ReadResult) -> list[Document]:
    docs: list[Document] = []
    lines = text.splitlines(keepends=True)
    starts = [0] + [i for i, ln in enumerate(lines) if ln.startswith("---") and
                    (len(ln) == 3 or ln[3] in " \t\r\n")]
    bounds = [*sorted(set(starts)), len(lines)]
    index = 0
    for begin, end in itertools.pairwise(bounds):
        chunk = "".join(lines[begin:end])
        offset = begin
        try:
            for data in yaml.load_all(chunk, Loader=_Loader):
                if data is not None:
                    _shift_lines(data, offset)
                docs.append(_document(name, index, data))
                index += 1
        except yaml.YAMLError as exc:
            result.diagnostics.append(_yaml_error(name, exc, offset))
            index += 1
    return docs


def _shift_lines(data: Any, offset: int) -> None:
    if offset == 0:
        return
    if isinstance(data, Located):
        data.line = (data.line or 0) + offset
        data.key_lines = {k: v + offset for k, v in data.key_lines.items()}
        data.duplicates = [(k, v + offset) for k, v in data.duplicates]
        for value in data.values():
            _shift_lines(value, offset)
    elif isinstance(data, LocatedList):
        data.line = (data.line or 0) + offset
        data.item_lines = [v + offset for v in data.item_lines]
        for value in data:
            _shift_lines(value, offset)


def _yaml_error(name: str, exc: yaml.YAMLError, offset: int) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if mark is None:
        return Diagnostic(message, file=name)
    return Diagnostic(message, file=name, line=mark.line + 1 + offset, column=mark.column + 1)


def _document(name: str, index: int, data: Any) -> Document:
    line = data.line if isinstance(data, Located) else None
    return Document(name, index, data, line)


def _read_json(name: str, text: str, result: ReadResult) -> None:
    def pairs(items: list[tuple[str, Any]]) -> Located:
        out = Located()
        for key, value in items:
            if key in out:
                out.duplicates.append((key, 0))
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        result.diagnostics.append(Diagnostic(
            f"JSON syntax error: {exc.msg}", file=name, line=exc.lineno, column=exc.colno))
        return
    _expand(Document(name, 0, data, None), result)


def _expand(doc: Document, result: ReadResult) -> None:
    """Flatten `kind: List` (and `*List`) into their items; drop empty documents."""
    data = doc.data
    if data is None:
        return
    kind = data.get("kind") if isinstance(data, dict) else None
    if isinstance(kind, str) and kind.endswith("List") and "items" in data:
        items = data["items"]
        if items is None:
            return
        if not isinstance(items, list):
            result.diagnostics.append(Diagnostic(
                f"Invalid value: items must be a list, not {type_name(items)}",
                file=doc.file, line=doc.line, obj=kind, path="items"))
            return
        for item in items:
            line = item.line if isinstance(item, Located) else doc.line
            _expand(Document(doc.file, doc.index, item, line), result)
        return
    result.documents.append(doc)


def type_name(value: object) -> str:
    """The JSON-schema word for a value's type, as the API server's errors use it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def iter_documents(result: ReadResult) -> Iterator[Document]:
    yield from result.documents
