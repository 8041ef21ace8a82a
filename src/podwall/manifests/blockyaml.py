"""A reader for the plain block-style YAML that kubectl, Helm and PyYAML write: several times
faster than libyaml through PyYAML, and it produces exactly what that reader produces.

Why it exists: libyaml parses in C, but PyYAML then makes a Python node (and two Mark objects) for
every scalar, and our constructor walks those nodes again in Python. On a 10k-pod input that was
about three quarters of loading. Most manifests use a small, regular part of YAML: block mappings and
sequences, one-line plain or quoted scalars, `{}` and `[]`, comments. This module reads exactly
that part, line by line, straight into Located/LocatedList. Anything else in a document (flow
collections with content, block scalars, anchors, aliases, tags, multi-line or escaped scalars,
keys that are not plain, odd indentation, anything that could be an error) makes it decline that
document, which libyaml then reads as before; a text with tabs, carriage returns, control or
non-ASCII characters, directives or `...` is not read here at all.

What it accepts it reads as the libyaml path does (tests/manifests/test_blockyaml.py holds it to
that): the same values (scalars typed as kubectl types them, see scalars.py), the same line for
every mapping, key and item, the same duplicate keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from podwall.manifests import scalars
from podwall.manifests.located import Located, LocatedList

# Characters libyaml reads differently or rejects (non-ASCII, tabs, CR, other controls, DEL):
# a text with any goes to libyaml whole. Found by deleting them from the text's bytes (C, about
# three times faster than a regular expression search).
_ODD = bytes([*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F])
# A value that starts with one of these is not a plain scalar (YAML's indicators).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Possessive repeats (`*+`, `++`): a repeated group that may backtrack costs the regex engine
# over a hundred bytes of stack per repetition (1.35 GB for a 10 MB quoted scalar); these never
# backtrack, so they cost nothing per character.
_SINGLE = re.compile(r"'((?:[^']++|'')*+)'(?: +#.*)?")
_DOUBLE = re.compile(r'"([^"\\]*)"(?: +#.*)?')
_EMPTY_MAP = re.compile(r"\{\}(?: +#.*)?")
_EMPTY_SEQ = re.compile(r"\[\](?: +#.*)?")
_MAX_KEY = 1000  # libyaml gives up on implicit keys longer than 1024 characters


class Decline(Exception):
    """This document is outside the subset read here: libyaml reads it instead."""


# -- scalars ---------------------------------------------------------------------------------------
# Typed as kubectl types them (see scalars.py); a value kubectl refuses is libyaml's to report.

_TYPED_CACHE: dict[str, Any] = {}  # plain scalars that look typed -> their value
_KEYS: dict[str, str] = {}  # valid plain keys as written -> as read
_CACHE_LIMIT = 1 << 16
_MISSING = object()


_TYPED_FIRST = scalars.TYPED_FIRST


def _plain(text: str) -> Any:
    """A one-line plain scalar as kubectl reads it (str, int, float, bool, None)."""
    if text[0] not in _TYPED_FIRST:  # (text is never empty here)
        return text
    value = _TYPED_CACHE.get(text, _MISSING)
    if value is _MISSING:
        if text == "<<":
            raise Decline  # a merge key: the libyaml path merges
        try:
            value = scalars.plain(text)
        except scalars.ScalarError:
            raise Decline from None  # `.inf`: the libyaml path reports it
        if len(_TYPED_CACHE) >= _CACHE_LIMIT:
            _TYPED_CACHE.clear()
        _TYPED_CACHE[text] = value
    return value


def _key(text: str) -> str:
    """A plain, one-line mapping key as text (a key `1` or `true` is read as "1" or "true",
    as kubectl writes keys in JSON). Keys repeat a lot: each is looked at once."""
    key = _KEYS.get(text)
    if key is None:
        if (text[0] in _INDICATORS or text[-1] == " " or text[-1] == ":" or " #" in text
                or len(text) > _MAX_KEY):
            raise Decline
        if text == "<<":
            raise Decline
        try:
            key = scalars.plain_key(text) if scalars.might_be_typed(text) else text
        except scalars.ScalarError:
            raise Decline from None  # `~: x` (a null key): the libyaml path reports it
        if len(_KEYS) >= _CACHE_LIMIT:
            _KEYS.clear()
        _KEYS[text] = key
    return key


_NEW_MAP = object()  # `{}`: a new, empty Located on the line where it is written
_NEW_SEQ = object()  # `[]`


def _value(text: str) -> Any:
    """A value written on the line of its key or dash (`text` has no surrounding spaces)."""
    first = text[0]
    if first in _INDICATORS:
        if first == "'":
            m = _SINGLE.fullmatch(text)
            if m is None:
                raise Decline
            return m.group(1).replace("''", "'")
        if first == '"':
            m = _DOUBLE.fullmatch(text)
            if m is None:
                raise Decline
            return m.group(1)
        if first == "{" and _EMPTY_MAP.fullmatch(text):
            return _NEW_MAP
        if first == "[" and _EMPTY_SEQ.fullmatch(text):
            return _NEW_SEQ
        raise Decline
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut].rstrip(" ")
    if ": " in text or text[-1] == ":":
        raise Decline  # `a: b: c` is an error; libyaml says which
    return _plain(text)


# -- lines -----------------------------------------------------------------------------------------
# Each distinct line is classified once (real inputs repeat most of their lines, `protocol: TCP`,
# `- name: http`, at the same indentation), as a marker or as (indentation, shape). Shapes:
_KEY = 0        # (_KEY, key, value): `key: scalar`
_KEY_MAP = 1    # (_KEY_MAP, key): `key: {}`
_KEY_SEQ = 2    # (_KEY_SEQ, key): `key: []`
_KEY_OPEN = 3   # (_KEY_OPEN, key): `key:`, its value on the next lines (or null)
_ITEM = 4       # (_ITEM, value): `- scalar`
_ITEM_MAP = 5   # (_ITEM_MAP,): `- {}`
_ITEM_SEQ = 6   # (_ITEM_SEQ,): `- []`
_ITEM_OPEN = 7  # (_ITEM_OPEN,): `-`, the item on the next lines (or null)
_ITEM_KEY = 8   # (_ITEM_KEY, offset, key shape): `- key: ...`, the first key of a mapping that
#                 starts `offset` columns right of the dash

_SKIP = object()      # blank or comment
_BOUNDARY = object()  # `---`: a new document
_FOREIGN = object()   # `...`, a directive, `--- content`: the whole text is libyaml's
_DECLINED = object()  # a line outside the subset: its document is libyaml's

_LINES: dict[str, Any] = {}


# The usual new line (a name, an IP, a hash): `key: value` or `- key: value` with a plain key and
# value of name-like characters only (so no quotes, colons, comments or spaces to think about).
_SIMPLE = re.compile(r"( *)(- +)?([A-Za-z_][-\w./]*): +([\w./][-\w./]*)", re.ASCII)


def _classify(raw: str) -> Any:
    m = _SIMPLE.fullmatch(raw)
    if m is not None and len(m.group(3)) <= _MAX_KEY:
        indent, dash, key, value = m.groups()
        try:
            shape = (_KEY, _key(key), _plain(value))
        except (Decline, yaml.YAMLError):
            return _DECLINED
        if dash is None:
            return len(indent), shape
        return len(indent), (_ITEM_KEY, len(dash), shape)
    s = raw.lstrip(" ")
    if not s or s[0] == "#":
        return _SKIP
    indent = len(raw) - len(s)
    s = s.rstrip(" ")
    if indent == 0 and (s[0] == "-" or s[0] == "." or s[0] == "%"):
        if s.startswith("---") and (len(s) == 3 or s[3] == " "):
            tail = s[3:].lstrip(" ")
            return _BOUNDARY if not tail or tail[0] == "#" else _FOREIGN
        if s.startswith("...") or s[0] == "%":
            return _FOREIGN
    try:
        return indent, _shape(s)
    except (Decline, yaml.YAMLError):
        return _DECLINED


def _shape(s: str) -> tuple[Any, ...]:
    if s[0] != "-" or (len(s) > 1 and s[1] != " "):
        return _key_shape(s)
    rest = s[1:].lstrip(" ")
    if not rest or rest[0] == "#":
        return (_ITEM_OPEN,)
    if rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
        raise Decline  # `- - x`
    if rest[0] != "'" and rest[0] != '"' and (": " in rest or rest[-1] == ":"):
        return (_ITEM_KEY, len(s) - len(rest), _key_shape(rest))
    value = _value(rest)
    if value is _NEW_MAP:
        return (_ITEM_MAP,)
    if value is _NEW_SEQ:
        return (_ITEM_SEQ,)
    return (_ITEM, value)


def _key_shape(s: str) -> tuple[Any, ...]:
    colon = s.find(": ")
    if colon > 0:
        key = _key(s[:colon])
        rest = s[colon + 2:].lstrip(" ")
    elif s[-1] == ":" and len(s) > 1:
        key = _key(s[:-1])
        rest = ""
    else:
        raise Decline  # a scalar where a key belongs, or a key that is not plain
    if not rest or rest[0] == "#":
        return (_KEY_OPEN, key)
    value = _value(rest)
    if value is _NEW_MAP:
        return (_KEY_MAP, key)
    if value is _NEW_SEQ:
        return (_KEY_SEQ, key)
    return (_KEY, key, value)


# -- block structure -------------------------------------------------------------------------------

_END = (-1, (-1,))  # after a document's last line: less indented than anything, so loops stop


class _Doc:
    """The content lines of one document as (indentation, shape), ending with `_END`; `num`
    holds their 1-based line numbers (a range when no blank or comment line is in between);
    `at` is the next line to read."""

    __slots__ = ("at", "dups", "ent", "num")

    def __init__(self, ent: list[tuple[int, tuple[Any, ...]]], num: range | list[int]) -> None:
        self.ent = ent
        self.num = num
        self.at = 0
        self.dups = 0


def _block(doc: _Doc, indent: int) -> Any:
    """The block collection whose first line is `doc.at`, indented by `indent`."""
    if doc.ent[doc.at][1][0] >= _ITEM:
        return _sequence(doc, indent)
    return _mapping(doc, indent)


def _mapping(doc: _Doc, indent: int) -> Located:
    ent, num = doc.ent, doc.num
    i = doc.at
    out = Located(num[i])
    key_lines = out.key_lines
    value: Any
    while True:
        n, shape = ent[i]
        if n != indent:
            if n > indent:
                raise Decline  # a continuation line, or bad indentation
            break
        kind = shape[0]
        if kind > _KEY_OPEN:
            raise Decline  # an item where a key belongs
        key = shape[1]
        line = num[i]
        i += 1
        if kind == _KEY_OPEN:
            n, shape = ent[i]
            if n > indent:
                doc.at = i
                value = _block(doc, n)
                i = doc.at
            elif n == indent and shape[0] >= _ITEM:  # a sequence at the key's indentation
                doc.at = i
                value = _sequence(doc, indent)
                i = doc.at
            else:
                value = None
        else:
            if kind == _KEY:
                value = shape[2]
            elif kind == _KEY_MAP:
                value = Located(line)
            else:
                value = LocatedList(line)
            if ent[i][0] > indent:
                raise Decline  # a multi-line scalar, or an error
        if key in out:
            out.add_duplicate(key, line)
            doc.dups += 1
        out[key] = value
        key_lines[key] = line
    doc.at = i
    return out


def _sequence(doc: _Doc, indent: int) -> LocatedList:
    ent, num = doc.ent, doc.num
    i = doc.at
    out = LocatedList(num[i])
    item_lines = out.item_lines
    value: Any
    while True:
        n, shape = ent[i]
        kind = shape[0]
        if n != indent or kind < _ITEM:
            break  # the end, or the next key of the mapping that holds this sequence
        line = num[i]
        if kind == _ITEM_KEY:
            column = indent + shape[1]
            ent[i] = (column, shape[2])  # the rest of the line: a mapping's first key
            doc.at = i
            value = _mapping(doc, column)
            i = doc.at
        elif kind == _ITEM_OPEN:
            i += 1
            n = ent[i][0]
            if n > indent:
                doc.at = i
                value = _block(doc, n)
                i = doc.at
                line = value.line
            else:
                value = None
        else:
            if kind == _ITEM:
                value = shape[1]
            elif kind == _ITEM_MAP:
                value = Located(line)
            else:
                value = LocatedList(line)
            i += 1
            if ent[i][0] > indent:
                raise Decline
        out.append(value)
        item_lines.append(line)
    doc.at = i
    return out


def _document(ent: list[tuple[int, tuple[Any, ...]]], num: range | list[int]) -> Any:
    if not ent:
        return None  # `---` and nothing else: an empty document
    ent.append(_END)
    doc = _Doc(ent, num)
    root = _block(doc, ent[0][0])
    if doc.at != len(ent) - 1:
        raise Decline  # something after the root collection ended: an error
    if doc.dups and isinstance(root, Located):
        root.nested_duplicates = True
    return root


# -- documents -------------------------------------------------------------------------------------

# (one document's text, the 0-based index of its first line) -> its documents
Fallback = Callable[[str, int], list[Any]]


def read_stream(text: str, fallback: Fallback, line_offset: int = 0) -> list[Any] | None:
    """Every document of a multi-document text (None for an empty one), in order; None when the
    text is not for this reader at all. Lines are numbered from `line_offset` + 1. A document
    outside the subset is read by `fallback`; a YAMLError from it propagates (the caller then
    reads the text the slow, careful way)."""
    if not text.isascii() or len(text.encode("ascii").translate(None, _ODD)) != len(text):
        return None
    lines = text.split("\n")
    cache = _LINES
    entries: list[Any] = list(map(cache.get, lines))  # one C-level pass for the repeated lines
    for i in [i for i, e in enumerate(entries) if e is None]:
        raw = lines[i]
        entry = cache.get(raw)  # the same line may have been new earlier in this text
        if entry is None:
            entry = _classify(raw)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[raw] = entry
        entries[i] = entry
    out: list[Any] = []
    start = 0  # the document's first line (its `---`, if it has one)
    skips = declined = explicit = False
    for i in [i for i, e in enumerate(entries) if type(e) is not tuple]:
        entry = entries[i]
        if entry is _SKIP:
            skips = True
        elif entry is _DECLINED:
            declined = True
        elif entry is _FOREIGN:
            return None
        else:  # `---`
            if explicit or declined or _content(entries, start, i):
                out.extend(_finish(lines, entries, start, i, explicit, skips, declined,
                                   fallback, line_offset))
            start, explicit = i, True
            skips = declined = False
    end = len(lines)
    if explicit or declined or _content(entries, start, end):
        out.extend(_finish(lines, entries, start, end, explicit, skips, declined, fallback,
                           line_offset))
    return out


def _content(entries: list[Any], start: int, end: int) -> bool:
    """Whether lines start..end hold anything but blanks and comments (before the first `---`:
    a document only if they do)."""
    return any(type(e) is tuple for e in entries[start:end])


def _finish(lines: list[str], entries: list[Any], start: int, end: int, explicit: bool,
            skips: bool, declined: bool, fallback: Fallback, line_offset: int) -> list[Any]:
    """The document on lines start..end (its `---` included, when `explicit`)."""
    if not declined:
        first = start + 1 if explicit else start
        number = line_offset + 1
        ent: list[Any]
        num: range | list[int]
        if skips:
            ent, num = [], []
            for i in range(first, end):
                e = entries[i]
                if type(e) is tuple:
                    ent.append(e)
                    num.append(i + number)
        else:
            ent = entries[first:end]
            num = range(first + number, end + number)
        try:
            return [_document(ent, num)]
        except (Decline, RecursionError):
            pass
    chunk = "\n".join(lines[start:end])
    if end < len(lines):
        chunk += "\n"  # the line break before the next `---` (a block scalar keeps it)
    return fallback(chunk, start + line_offset)
