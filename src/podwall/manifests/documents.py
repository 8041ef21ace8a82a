"""Reading manifest files into documents that remember where every field came from.

All multi-document YAML handling lives here. Mappings become `Located` dicts that carry their own
line and the line of each key, so validation can point at `file:line` for any field path.
PyYAML silently keeps the last of duplicate keys; we record them instead.
"""

from __future__ import annotations

import functools
import itertools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from podwall.errors import Diagnostic, InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

try:  # libyaml is in PyYAML's wheels; fall back rather than fail on an odd build.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


_NO_DUPLICATES: list[tuple[str, int]] = []  # shared, never appended to: see add_duplicate


class Located(dict[str, Any]):
    """A mapping that knows its line and the line of each key (1-based).

    `nested_duplicates` is set on a document's root when a duplicate key occurs anywhere in it,
    so the common case needs no walk of the tree to find them.
    """

    __slots__ = ("duplicates", "key_lines", "line", "nested_duplicates")

    def __init__(self, line: int | None = None) -> None:
        # dict.__new__ already made the empty mapping; this runs for every mapping in the input,
        # so it does no more than it must (the duplicates list appears on the first duplicate).
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = _NO_DUPLICATES
        self.nested_duplicates = False

    def add_duplicate(self, key: str, line: int) -> None:
        if self.duplicates is _NO_DUPLICATES:
            self.duplicates = []
        self.duplicates.append((key, line))


class LocatedList(list[Any]):
    """A sequence that knows its line and the line of each item (1-based)."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


_RESOLVER = yaml.resolver.Resolver()


@functools.lru_cache(maxsize=65536)
def _resolve(kind: Any, value: Any, implicit: Any) -> Any:
    return _RESOLVER.resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's parser with its per-node Python hooks made cheap.

    libyaml calls back into Python for every node: `resolve` (which tag a plain scalar has) and
    the path-resolver hooks. Real inputs repeat the same scalars thousands of times, so resolving
    is cached in C (lru_cache); the safe schema has no path resolvers, so those hooks do nothing
    (`slice` and `tuple` are C callables that accept their arguments and ignore them).
    """

    resolve = staticmethod(_resolve)
    descend_resolver = staticmethod(slice)
    ascend_resolver = staticmethod(tuple)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates_seen = 0


def _build(loader: _Loader, node: Any) -> Any:
    """Nodes -> Located/LocatedList/scalars. A tight loop instead of PyYAML's generic
    constructor (about a third faster), recording the line of every key and item."""
    kind = type(node)
    if kind is MappingNode:
        if any(k.tag == _MERGE for k, _ in node.value):
            loader.flatten_mapping(node)
        out = Located(node.start_mark.line + 1)
        lines = out.key_lines
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found an unhashable key", key_node.start_mark)
            key = key_node.value if key_node.tag == _STR else loader.construct_object(key_node)
            skey = key if isinstance(key, str) else str(key)
            line = key_node.start_mark.line + 1
            if skey in out:
                out.add_duplicate(skey, line)
                loader.duplicates_seen += 1
            out[skey] = _build(loader, value_node)
            lines[skey] = line
        return out
    if kind is SequenceNode:
        seq = LocatedList(node.start_mark.line + 1)
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        seq.extend(_build(loader, child) for child in node.value)
        return seq
    if node.tag == _STR:
        return node.value
    return loader.construct_object(node, deep=True)


def _load_all(text: str) -> Iterator[Any]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            before = loader.duplicates_seen
            data = _build(loader, loader.get_node())
            if isinstance(data, Located) and loader.duplicates_seen != before:
                data.nested_duplicates = True
            yield data
    finally:
        loader.dispose()


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


def list_inputs(paths: list[str]) -> list[str]:
    """Expand directories (recursively, sorted, hidden entries skipped) into manifest files.

    A path that does not exist raises InputError: nothing sensible can be said without it.
    """
    out: list[str] = []
    for raw in paths:
        if raw == "-":
            out.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            out.extend(str(p) for p in sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        elif path.is_file():
            out.append(raw)
        else:
            raise InputError(f"{raw}: no such file or directory")
    return out


def read_paths(paths: list[str], *, stdin_text: str | None = None) -> ReadResult:
    """Read files, directories and `-` (stdin) into documents.

    A file that cannot be parsed becomes diagnostics; the other files still load.
    """
    result = ReadResult()
    for name in list_inputs(paths):
        if name == "-":
            text = stdin_text if stdin_text is not None else sys.stdin.read()
            read_source("<stdin>", text, result)
        else:
            _read_file(Path(name), result)
    return result


def read_text_file(path: Path, result: ReadResult) -> str | None:
    """A file's text, or None with a diagnostic saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        result.diagnostics.append(Diagnostic(f"not UTF-8 text: {exc.reason}", file=str(path)))
    except OSError as exc:
        result.diagnostics.append(Diagnostic(f"cannot read: {exc.strerror}", file=str(path)))
    return None


def read_source(name: str, text: str, result: ReadResult, line_offset: int = 0) -> None:
    """Parse one file's text (or a slice of it starting at `line_offset`) into documents."""
    if line_offset:
        text = "\n" * line_offset + text  # blank lines cost libyaml nearly nothing
    _read_text(name, text, result)


def split_documents(text: str, pieces: int) -> list[tuple[int, str]]:
    """Cut multi-document YAML at `---` lines into about `pieces` slices: (first line, text)."""
    if pieces <= 1:
        return [(0, text)]
    lines = text.splitlines(keepends=True)
    target = max(len(text) // pieces, 1)
    out: list[tuple[int, str]] = []
    start, size = 0, 0
    for i, line in enumerate(lines):
        if size >= target and line.startswith("---") and (len(line) == 3 or line[3] in " \t\r\n"):
            out.append((start, "".join(lines[start:i])))
            start, size = i, 0
        size += len(line)
    out.append((start, "".join(lines[start:])))
    return out


def _read_file(path: Path, result: ReadResult) -> None:
    text = read_text_file(path, result)
    if text is not None:
        _read_text(str(path), text, result)


def _read_text(name: str, text: str, result: ReadResult) -> None:
    stripped = text.lstrip()
    if name.endswith(".json") and stripped.startswith(("{", "[")):
        _read_json(name, text, result)
        return
    docs: list[Document] = []
    try:
        for index, data in enumerate(_load_all(text)):
            docs.append(_document(name, index, data))
    except (yaml.YAMLError, RecursionError):
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
            for data in _load_all(chunk):
                if data is not None:
                    _shift_lines(data, offset)
                docs.append(_document(name, index, data))
                index += 1
        except yaml.YAMLError as exc:
            result.diagnostics.append(_yaml_error(name, exc, offset))
            index += 1
        except RecursionError:
            result.diagnostics.append(Diagnostic(
                "YAML document nests too deeply (or aliases itself)", file=name,
                line=offset + 1))
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
    """Plain json.loads (C) with a C-level duplicate-key probe; only a file that has duplicate
    keys is parsed again into Located mappings so they can be reported."""
    found = [False]

    def probe(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(items)
        if len(mapping) != len(items):
            found[0] = True
        return mapping

    def locate(items: list[tuple[str, Any]]) -> Located:
        out = Located()
        for key, value in items:
            if key in out:
                out.add_duplicate(key, 0)
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=probe)
        if found[0]:
            data = json.loads(text, object_pairs_hook=locate)
            if isinstance(data, Located):
                data.nested_duplicates = True
    except json.JSONDecodeError as exc:
        result.diagnostics.append(Diagnostic(
            f"JSON syntax error: {exc.msg}", file=name, line=exc.lineno, column=exc.colno))
        return
    except RecursionError:
        result.diagnostics.append(Diagnostic("JSON document nests too deeply", file=name))
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
            if isinstance(item, Located) and getattr(data, "nested_duplicates", False):
                item.nested_duplicates = True
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
