"""Reading manifest files into documents that remember where every field came from.

All multi-document YAML handling lives here. Mappings become `Located` dicts that carry their own
line and the line of each key, so validation can point at `file:line` for any field path.
PyYAML silently keeps the last of duplicate keys; we record them instead.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from podwall.errors import Diagnostic, InputError
from podwall.manifests import blockyaml, jsonread, scalars
from podwall.manifests.inputs import STDIN_NAME, list_inputs, read_stdin, read_text_file
from podwall.manifests.located import Located as Located  # re-exported: the readers' types
from podwall.manifests.located import LocatedList as LocatedList

try:  # libyaml is in PyYAML's wheels; fall back rather than fail on an odd build.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


_STR = scalars.STR_TAG
_MERGE = scalars.MERGE_TAG
_PLAIN = "tag:podwall,2026:plain"  # an untagged plain scalar: scalars.plain() types it


_RESOLVER = yaml.resolver.Resolver()


@functools.lru_cache(maxsize=1024)
def _resolve(kind: Any, value: Any, implicit: Any) -> Any:
    """The tag of an untagged node. Scalars are not typed here (PyYAML's YAML 1.1 rules are not
    kubectl's): a plain one is marked for scalars.plain(), a quoted one is a string."""
    if kind is ScalarNode:
        if implicit[0]:
            return _MERGE if value == "<<" else _PLAIN
        return _STR
    return _RESOLVER.resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


# goyaml.v2's rule against alias bombs ("billion laughs"), as kubectl applies it to each
# document: once more than 100 of more than 1000 decoded nodes came from alias expansion, the
# share that may come from aliases falls from 99% (up to 400,000 nodes) to 10% (from 4,000,000
# nodes on). So what aliases can add is bounded by a multiple of what the text holds.
_ALIAS_RANGE_LOW = 400_000
_ALIAS_RANGE_HIGH = 4_000_000
_MAX_MERGED_PAIRS = _ALIAS_RANGE_HIGH  # merge keys (`<<: [*a, *b]`) copy pairs: same bound


def allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _ALIAS_RANGE_LOW:
        return 0.99
    if decoded >= _ALIAS_RANGE_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RANGE_LOW) / (_ALIAS_RANGE_HIGH - _ALIAS_RANGE_LOW)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's parser with its per-node Python hooks made cheap.

    libyaml calls back into Python for every node: `resolve` (which tag a node has) and the
    path-resolver hooks. Resolving is cached in C (lru_cache); the safe schema has no path
    resolvers, so those hooks do nothing (`slice` and `tuple` are C callables that accept their
    arguments and ignore them).

    It also counts, per document, the nodes built and those built again through an alias (an
    alias is the same node object met a second time), for goyaml's alias rule.
    """

    resolve = staticmethod(_resolve)
    descend_resolver = staticmethod(slice)
    ascend_resolver = staticmethod(tuple)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates_seen = 0
        self.start_document()

    def start_document(self) -> None:
        self.built: set[int] = set()  # ids of the collection nodes built once already
        self.decoded = 0
        self.aliased = 0
        self.alias_depth = 0


def _excessive_aliasing(node: Any) -> yaml.YAMLError:
    return yaml.constructor.ConstructorError(
        None, None, "document contains excessive aliasing (an alias bomb?)", node.start_mark)


def _build(loader: _Loader, node: Any) -> Any:
    """Nodes -> Located/LocatedList/scalars. A tight loop instead of PyYAML's generic
    constructor (about a third faster), recording the line of every key and item, and
    counting nodes for the alias rule."""
    loader.decoded += 1
    if loader.alias_depth:
        loader.aliased += 1
        if (loader.aliased > 100 and loader.decoded > 1000
                and loader.aliased > allowed_alias_ratio(loader.decoded) * loader.decoded):
            raise _excessive_aliasing(node)
    kind = type(node)
    if kind is ScalarNode:
        tag = node.tag
        if tag == _STR:
            return node.value
        try:
            return scalars.plain(node.value) if tag == _PLAIN else scalars.tagged(tag, node.value)
        except scalars.ScalarError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, str(exc), node.start_mark) from None
    alias = id(node) in loader.built
    if alias:
        loader.alias_depth += 1
    else:
        loader.built.add(id(node))
    try:
        if kind is MappingNode:
            return _build_mapping(loader, node)
        seq = LocatedList(node.start_mark.line + 1)
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        seq.extend(_build(loader, child) for child in node.value)
        return seq
    finally:
        if alias:
            loader.alias_depth -= 1


def _build_mapping(loader: _Loader, node: Any) -> Located:
    if any(k.tag == _MERGE for k, _ in node.value):
        if _merged_size(node, {}) > _MAX_MERGED_PAIRS:
            raise _excessive_aliasing(node)
        loader.flatten_mapping(node)
    out = Located(node.start_mark.line + 1)
    lines = out.key_lines
    for key_node, value_node in node.value:
        if type(key_node) is not ScalarNode:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark)
        skey = _key(key_node)
        line = key_node.start_mark.line + 1
        if skey in out:
            out.add_duplicate(skey, line)
            loader.duplicates_seen += 1
        out[skey] = _build(loader, value_node)
        lines[skey] = line
    return out


def _key(node: Any) -> str:
    """A mapping key as JSON text, as kubectl writes it (`true` is "true", `1.0` is "1")."""
    tag = node.tag
    try:
        if tag == _STR:
            return str(node.value)
        if tag == _PLAIN:
            return scalars.plain_key(node.value)
        return scalars.tagged_key(tag, node.value)
    except scalars.ScalarError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, str(exc), node.start_mark) from None


def _merged_size(node: Any, sizes: dict[int, int]) -> int:
    """How many pairs flatten_mapping would leave in a mapping node, counted without copying
    any (nested merges multiply: `<<: [*a, *a]` in each of ten anchors is 2**10 copies)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 0  # (libyaml has no recursive aliases; this only guards the walk)
    total = 0
    for key, value in node.value:
        if key.tag != _MERGE:
            total += 1
        elif type(value) is MappingNode:
            total += _merged_size(value, sizes)
        elif type(value) is SequenceNode:
            total += sum(_merged_size(v, sizes) for v in value.value if type(v) is MappingNode)
        if total > _MAX_MERGED_PAIRS:
            break
    sizes[id(node)] = total
    return total


def _load_all(text: str) -> Iterator[Any]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            before = loader.duplicates_seen
            loader.start_document()
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
    prefix: str = ""  # where in the Lists that held it the object is: "items[3]"


@dataclass(slots=True)
class ReadResult:
    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def read_paths(paths: list[str], *, stdin_text: str | None = None) -> ReadResult:
    """Read files, directories and `-` (stdin) into documents.

    A file that cannot be parsed becomes diagnostics; the other files still load.
    """
    result = ReadResult()
    for name in list_inputs(paths, result.diagnostics):
        if name == "-":
            text = stdin_text if stdin_text is not None else read_stdin(result.diagnostics)
            if text is not None:
                read_source(STDIN_NAME, text, result)
        else:
            text = read_text_file(Path(name), result.diagnostics)
            if text is not None:
                _read_text(name, text, result)
    return result


def read_source(name: str, text: str, result: ReadResult, line_offset: int = 0,
                first_index: int = 0) -> None:
    """Parse one file's text (or a slice of it that starts at line `line_offset` and with
    document number `first_index`) into documents."""
    _read_text(name, text, result, line_offset, first_index)


# Searched with a leading "\n" rather than `^` and MULTILINE: several times faster in `re`.
_DOCUMENT_START = re.compile(r"\n---(?=[ \t\n]|\Z)")
_MARKER_LINE = re.compile(r"\n(?:\.\.\.|%)")
_CONTENT_LINE = re.compile(r"^[ \t]*[^ \t\n#]", re.MULTILINE)


def split_documents(text: str, pieces: int) -> list[tuple[int, int, int, int]]:
    """Cut multi-document YAML at `---` lines into about `pieces` slices, each as (its first
    line, start, end, its first document's number), so that reading the slices one by one
    gives what reading the text does. A text with `...` or directive lines, or line breaks other
    than "\n" (libyaml counts those differently), stays whole."""
    whole = [(0, 0, len(text), 0)]
    if (pieces <= 1 or text.startswith(("...", "%")) or _MARKER_LINE.search(text)
            or any(c in text for c in "\r\x85\u2028\u2029")):
        return whole
    starts = [m.start() + 1 for m in _DOCUMENT_START.finditer(text)]
    if text.startswith("---") and (len(text) == 3 or text[3] in " \t\n"):
        starts.insert(0, 0)
    if not starts:
        return whole
    # Every `---` starts a document; so does the text before the first one, if it holds any.
    implicit = 1 if _CONTENT_LINE.search(text, 0, starts[0]) else 0
    target = max(len(text) // pieces, 1)
    out: list[tuple[int, int, int, int]] = []
    begin, line, document = 0, 0, 0
    for k, at in enumerate(starts):
        if at - begin < target or at == 0:
            continue
        out.append((line, begin, at, document))
        line += text.count("\n", begin, at)
        document = implicit + k
        begin = at
    out.append((line, begin, len(text), document))
    return out


def looks_like_json(name: str, text: str) -> bool:
    """Whether to read text as JSON first: when it starts with `{` (after whitespace), as
    kubectl's decoder decides (k8s.io/apimachinery's YAMLOrJSONDecoder), whatever its name (so
    `kubectl get -o json | podwall matrix -` takes the JSON path), and a `.json` file starting
    with `[`. Text that then is not JSON (a YAML flow mapping, `{kind: Pod, ...}`) is read as
    YAML, unless its name says it is JSON."""
    stripped = text.lstrip(" \t\n\r")
    return stripped.startswith("{") or (name.endswith(".json") and stripped.startswith("["))


def _read_text(name: str, text: str, result: ReadResult, line_offset: int = 0,
               first_index: int = 0) -> None:
    if line_offset == 0 and looks_like_json(name, text) and _read_json(name, text, result):
        return
    docs: list[Document] = []
    try:
        # The block-style reader takes what it can; libyaml reads the rest (see blockyaml).
        data: Iterable[Any] | None = blockyaml.read_stream(text, _read_declined, line_offset)
        if data is None:
            data = _load_all("\n" * line_offset + text)  # blank lines cost libyaml nearly nothing
        for index, item in enumerate(data, first_index):
            docs.append(_document(name, index, item))
    except (yaml.YAMLError, RecursionError):
        # One broken document must not hide the others: parse document by document.
        docs = _read_yaml_chunks(name, "\n" * line_offset + text, result, first_index)
    for doc in docs:
        _expand(doc, result)


def _read_declined(text: str, first_line: int) -> list[Any]:
    """Documents the block-style reader declined, read by libyaml (lines counted from
    `first_line`, a 0-based line index)."""
    out = list(_load_all(text))
    for data in out:
        _shift_lines(data, first_line)
    return out


# The line breaks of YAML 1.1, as libyaml (and goyaml, so kubectl) count them for every line
# number; not str.splitlines(), which also breaks at \v, \f and \x1c-\x1e.
_YAML_LINE = re.compile(r"[^\r\n\x85\u2028\u2029]*+(?:\r\n|[\r\n\x85\u2028\u2029])?+")


def yaml_lines(text: str) -> list[str]:
    """The text's lines, each with its line break, as YAML counts them."""
    lines = _YAML_LINE.findall(text)
    if lines and not lines[-1]:
        lines.pop()  # findall's empty match at the end
    return lines


def _read_yaml_chunks(name: str, text: str, result: ReadResult,
                      first_index: int = 0) -> list[Document]:
    docs: list[Document] = []
    lines = yaml_lines(text)
    starts = [0] + [i for i, ln in enumerate(lines) if ln.startswith("---") and
                    (len(ln) == 3 or ln[3] in " \t\r\n\x85\u2028\u2029")]
    bounds = [*sorted(set(starts)), len(lines)]
    index = first_index
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
            result.diagnostics.append(_yaml_error(name, exc, offset, chunk))
            index += 1
        except RecursionError:
            result.diagnostics.append(Diagnostic(
                "YAML document nests too deeply (or aliases itself)", file=name,
                line=offset + 1))
            index += 1
    return docs


def _shift_lines(data: Any, offset: int, seen: set[int] | None = None) -> None:
    """Move every line of a document read on its own down by `offset` lines (once per object:
    an alias makes one object appear twice)."""
    if offset == 0 or not isinstance(data, Located | LocatedList):
        return
    if seen is None:
        seen = set()
    if id(data) in seen:
        return
    seen.add(id(data))
    data.line = (data.line or 0) + offset
    if isinstance(data, Located):
        data.key_lines = {k: v + offset for k, v in data.key_lines.items()}
        if data.duplicates:
            data.duplicates = [(k, v + offset) for k, v in data.duplicates]
        values: Any = data.values()
    else:
        data.item_lines = [v + offset for v in data.item_lines]
        values = data
    for value in values:
        _shift_lines(value, offset, seen)


def _yaml_error(name: str, exc: yaml.YAMLError, offset: int, text: str) -> Diagnostic:
    """A YAML error located in `text` (which starts at line `offset`): a syntax error where
    libyaml stopped, a value kubectl would refuse where it is, a character YAML does not
    allow (libyaml gives only its position) on its line."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = len(yaml_lines(text[:exc.position])) or 1
        if text[:exc.position].endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
            line += 1
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a byte"
        return Diagnostic(f"YAML error: character {character} is not allowed in YAML "
                          f"({exc.reason})", file=name, line=line + offset)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    kind = ("YAML error" if isinstance(exc, yaml.constructor.ConstructorError)
            else "YAML syntax error")
    message = f"{kind}: {problem}" + (f" ({context})" if context else "")
    if mark is None:
        return Diagnostic(message, file=name)
    return Diagnostic(message, file=name, line=mark.line + 1 + offset, column=mark.column + 1)


def _document(name: str, index: int, data: Any) -> Document:
    line = data.line if isinstance(data, Located) else None
    return Document(name, index, data, line)


def _duplicate_probe() -> tuple[Callable[[list[tuple[str, Any]]], dict[str, Any]], list[bool]]:
    """An object hook for the JSON decoder that notes (in the returned flag) any duplicate key: a
    C-level dict() of the pairs and a length check, about half the cost of decoding itself."""
    found = [False]

    def probe(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(items)
        if len(mapping) != len(items):
            found[0] = True
        return mapping

    return probe, found


def _probing_decoder() -> tuple[json.JSONDecoder, list[bool]]:
    probe, found = _duplicate_probe()
    return jsonread.decoder(probe), found


def _read_json(name: str, text: str, result: ReadResult) -> bool:
    """Plain json decoding (C) with a duplicate-key probe; a file with duplicate keys is read
    again with lines (jsonread.locate) so they can be reported where they are. The text may hold
    several values one after another, a JSON stream, as kubectl reads it.

    False (nothing read) when the first value is not JSON and the name does not say it is: the
    caller then reads the text as YAML."""
    decoder, found = _probing_decoder()
    values: list[tuple[Any, int]] = []  # each value, and where it starts
    try:
        at = _ws(text, 0)
        while at < len(text):
            value, end = decoder.raw_decode(text, at)
            values.append((value, at))
            at = _ws(text, end)
        if found[0]:
            located = jsonread.locate(text)
            if located is not None and len(located) == len(values):
                values = [(v, start) for v, (_, start) in zip(located, values, strict=True)]
    except json.JSONDecodeError as exc:
        if not values and not name.endswith(".json"):
            return False
        result.diagnostics.append(Diagnostic(
            f"JSON syntax error: {exc.msg}", file=name, line=exc.lineno, column=exc.colno))
    except jsonread.NumberError as exc:
        result.diagnostics.append(Diagnostic(
            f"JSON error: {exc}", file=name, line=jsonread.line_of_number(text, exc.text)))
        return True
    except RecursionError:
        result.diagnostics.append(Diagnostic("JSON document nests too deeply", file=name))
        return True
    for index, (data, start) in enumerate(values):
        line = data.line if isinstance(data, Located) else None
        if (line is None and isinstance(data, dict)
                and not str(data.get("kind")).endswith("List")):
            line = text.count("\n", 0, start) + 1  # one object: where it starts
        _expand(Document(name, index, data, line), result)
    return True


def read_json_located(name: str, text: str, result: ReadResult, start: int = 0,
                      end: int | None = None, items: bool = False,
                      of_list: ListContext | None = None) -> bool:
    """A JSON file (or a part of a List's items, `of_list`) read again with the line of every
    field, for its diagnostics; False (nothing added) when that fails."""
    first_line = text.count("\n", 0, start) + 1
    values = jsonread.locate(text[start:end], items=items, first_line=first_line)
    if values is None:
        return False
    if items:
        _expand_items(Document(name, 0, None), values, of_list or ListContext(), result)
        return True
    for index, value in enumerate(values):
        line = value.line if isinstance(value, Located) else None
        _expand(Document(name, index, value, line), result)
    return True


# -- a large JSON List, read in parts ---------------------------------------------------------------
# `kubectl get ... -o json` and similar dumps are one object holding every item: one json.loads,
# one process. To read such a file on several cores it is cut at item boundaries found by a text
# search ("," and the first key of the first item, right after a "}"), and each part is read item
# by item (JSONDecoder.raw_decode). A search can be fooled (by a nested list of objects that start
# with the same key); a part that does not end exactly where the next one starts proves it, and
# the caller then reads the file whole. Duplicate keys anywhere, or a root that is not a plain
# `*List`, also send the file to the whole-file path, which reports them exactly as ever.

_JSON_WS = re.compile(r"[ \t\n\r]*")
_FIRST_KEY = re.compile(r'\{[ \t\n\r]*"(?:[^"\\]++|\\.)*+"[ \t\n\r]*:')  # possessive: see _SINGLE
_ITEMS = object()  # stands for the root's `items` array while its members are checked


def _ws(text: str, at: int) -> int:
    """The position of the first non-whitespace character (JSON's whitespace) from `at`."""
    m = _JSON_WS.match(text, at)
    return m.end() if m is not None else at


@dataclass(frozen=True, slots=True)
class JsonSplit:
    """A JSON file's root members before `items`, and its items cut into character ranges."""

    head: list[tuple[str, Any]]
    parts: list[tuple[int, int]]


def split_json_items(text: str, pieces: int) -> JsonSplit | None:
    """Cut the items of a root object's `items` array into about `pieces` parts, or None when
    the text does not look like one (the file is then read whole)."""
    decoder, found = _probing_decoder()
    head: list[tuple[str, Any]] = []
    try:
        i = _ws(text, 0)
        if text[i] != "{":
            return None
        i = _ws(text, i + 1)
        while True:
            if text[i] != '"':
                return None
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = _ws(text, i)
            if text[i] != ":":
                return None
            i = _ws(text, i + 1)
            if key == "items":
                break
            value, i = decoder.raw_decode(text, i)
            head.append((key, value))
            i = _ws(text, i)
            if text[i] != ",":
                return None
            i = _ws(text, i + 1)
        if text[i] != "[" or found[0]:
            return None
        start = _ws(text, i + 1)
        first = _FIRST_KEY.match(text, start)
    except (ValueError, IndexError, RecursionError):
        return None
    if first is None:
        return None
    marker = "," + text[i + 1:start] + first.group(0)
    cuts = [start]
    size = max((len(text) - start) // max(pieces, 1), 1)
    for target in range(start + size, len(text), size):
        at = text.find(marker, max(target, cuts[-1] + 1))
        if at < 0:
            break
        if text[at - 1] == "}":
            cut = at + len(marker) - len(first.group(0))
            if cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(len(text))
    return JsonSplit(head, list(itertools.pairwise(cuts)))


def read_json_part(name: str, text: str, start: int, end: int, result: ReadResult,
                   of_list: ListContext | None = None) -> tuple[int, bool, int] | None:
    """Read the items on text[start:end] (the last part: up to the array's `]`) of the List
    `of_list` into documents. Returns (where the part ended: `end`, or the position of `]` for
    the last part; whether a duplicate key was seen; how many items it held), or None when the
    part is not exactly whole items. Item paths count from the part's first item (`items[0]`):
    the caller, who knows the parts before, moves them.

    A part is decoded in one call, as an array of its own: one call shares the decoder's key
    memo across the part's items (item by item, every item would get fresh key strings)."""
    decoder, found = _probing_decoder()
    try:
        if end == len(text):  # the last part: the array's end is where decoding stops
            items, stop = decoder.raw_decode("[" + text[start:], 0)
            end = start + stop - 2  # the `]` ("[" shifted the text by one)
        else:
            body = text[start:end].rstrip(" \t\n\r")
            if not body.endswith(","):
                return None
            items = decoder.decode("[" + body[:-1] + "]")
    except (ValueError, RecursionError):
        return None
    _expand_items(Document(name, 0, None), items, of_list or ListContext(), result)
    return end, found[0], len(items)


def json_root_is_list(text: str, split: JsonSplit, items_end: int,
                      read_as: ListContext | None = None) -> bool:
    """Whether the root object, with the members after its items, is a plain `*List` whose items
    are the parts just read (as items of `read_as`, when given): valid to the end, no duplicate
    key, nothing but whitespace after."""
    decoder, found = _probing_decoder()
    pairs = [*split.head, ("items", _ITEMS)]
    try:
        i = _ws(text, items_end + 1)
        while text[i] == ",":
            i = _ws(text, i + 1)
            if text[i] != '"':
                return False
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = _ws(text, i)
            if text[i] != ":":
                return False
            value, i = decoder.raw_decode(text, _ws(text, i + 1))
            pairs.append((key, value))
            i = _ws(text, i)
        if text[i] != "}" or _ws(text, i + 1) != len(text):
            return False
    except (ValueError, IndexError, RecursionError):
        return False
    root = dict(pairs)
    kind = root.get("kind")
    return (len(root) == len(pairs) and not found[0] and root["items"] is _ITEMS
            and isinstance(kind, str) and kind.endswith("List")
            and (read_as is None or list_context(pairs) == read_as))


@dataclass(frozen=True, slots=True)
class ListContext:
    """What items of a List take from it: the List's kind and apiVersion."""

    kind: str = "List"
    api_version: Any = None


def list_context(head: Iterable[tuple[str, Any]]) -> ListContext:
    """The context of a List from its members (those read so far)."""
    root = dict(head)
    kind = root.get("kind")
    return ListContext(kind if isinstance(kind, str) else "List", root.get("apiVersion"))


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
                file=doc.file, line=doc.line, obj=kind, path=_item_path(doc.prefix, "items")))
            return
        context = ListContext(kind, data.get("apiVersion"))
        _expand_items(doc, items, context, result, getattr(data, "nested_duplicates", False))
        return
    result.documents.append(doc)


def _expand_items(doc: Document, items: list[Any], context: ListContext, result: ReadResult,
                  nested_duplicates: bool = False) -> None:
    """The items of a List, each a document at `items[i]`.

    Items of a typed List (`PodList`, `NetworkPolicyList`, as the API returns them) carry no kind
    or apiVersion: an item without either takes them from the List (`PodList` -> `Pod`), as
    kubectl's decoder (apimachinery's UnstructuredList) fills them in. A plain `List` has no item
    kind to give."""
    item_kind = context.kind[:-4]
    api_version = context.api_version if isinstance(context.api_version, str) else ""
    for i, item in enumerate(items):
        if isinstance(item, dict):
            if (item_kind and _text(item.get("kind")) == ""
                    and _text(item.get("apiVersion")) == ""):
                item["kind"] = item_kind
                item["apiVersion"] = api_version
            if nested_duplicates and isinstance(item, Located):
                item.nested_duplicates = True
        line = item.line if isinstance(item, Located) else doc.line
        _expand(Document(doc.file, doc.index, item, line, _item_path(doc.prefix, f"items[{i}]")),
                result)


def _item_path(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def _text(value: Any) -> str:
    """A string field as apimachinery's unstructured getters read it ("" if not a string)."""
    return value if isinstance(value, str) else ""


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


def read_yaml_file(path: str) -> Any:
    """The one YAML document of a small file that is not a manifest (a lint config), read as
    manifests are: UTF-8 checked, aliases bounded, scalars typed as kubectl types them. Raises
    InputError with a one-line message (file:line: problem)."""
    problems: list[Diagnostic] = []
    text = read_stdin(problems) if path == "-" else read_text_file(Path(path), problems)
    if text is None:
        raise InputError(str(problems[0]))
    try:
        values = list(_load_all(text))
    except yaml.YAMLError as exc:
        raise InputError(str(_yaml_error(path, exc, 0, text))) from None
    except RecursionError:
        raise InputError(f"{path}: YAML nests too deeply") from None
    if len(values) > 1:
        raise InputError(f"{path}: one YAML document expected, found {len(values)}")
    return values[0] if values else None
