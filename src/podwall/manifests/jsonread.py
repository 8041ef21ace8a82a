"""JSON as kubectl reads it: numbers as Go decodes them, and, when a file needs it, the line of
every key and item.

Numbers: Go reads a JSON number into an untyped value as an int64 when it is one and as a
float64 otherwise; a number beyond float64 is an error ("json: cannot unmarshal number ... into
Go value of type float64"), and NaN or Infinity are not JSON. Python would build an integer of
any size (and raise a ValueError past 4300 digits, a traceback once), so every number goes
through the hooks here, which never convert long text.

Lines: the fast path (json.loads, in C) knows no positions. When a file's objects have anything
to report, `locate` reads it again here, keeping the line of every mapping, key and item, so its
diagnostics carry lines as YAML's do. It runs only then, so valid inputs pay nothing for it.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Callable
from typing import Any

from podwall.manifests import scalars
from podwall.manifests.located import Located, LocatedList

_SHORT_INT = 18  # digits: always an int64


class NumberError(ValueError):
    """A number kubectl refuses; `text` is the number as written (to find its line)."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(message)
        self.text = text


def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _too_large(text: str) -> NumberError:
    return NumberError(text, f"json: cannot unmarshal number {_shown(text)} into Go value of "
                             "type float64")


def parse_int(text: str) -> int | float:
    if len(text) <= _SHORT_INT:
        return int(text)
    value = scalars.go_parse_int(text)
    if value is not None:
        return value
    if len(text) > 330:  # past 1e309: beyond float64 (JSON integers have no leading zeros)
        raise _too_large(text)
    return parse_float(text)


def parse_float(text: str) -> int | float:
    number = float(text)  # (CPython reads long mantissas in linear time)
    if math.isinf(number):
        raise _too_large(text)
    return scalars.json_number(number)


def parse_constant(text: str) -> Any:
    raise NumberError(text, f"invalid character {text[0]!r} looking for beginning of value")


PairsHook = Callable[[list[tuple[str, Any]]], Any]


def decoder(object_pairs_hook: PairsHook | None = None) -> json.JSONDecoder:
    return json.JSONDecoder(object_pairs_hook=object_pairs_hook, parse_int=parse_int,
                            parse_float=parse_float, parse_constant=parse_constant)


def line_of_number(text: str, number: str) -> int | None:
    at = text.find(number)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


# -- reading with lines ----------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")


class _Locator:
    """A small recursive reader: structure here, every scalar by the C decoder."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.scalar = decoder().raw_decode
        self.breaks = [m.start() for m in re.finditer("\n", text)]
        self.first_line = first_line
        self.duplicates = False

    def line(self, at: int) -> int:
        return bisect.bisect_left(self.breaks, at) + self.first_line

    def ws(self, at: int) -> int:
        m = _WS.match(self.text, at)
        return m.end() if m is not None else at

    def value(self, at: int) -> tuple[Any, int]:
        text = self.text
        c = text[at:at + 1]
        if c == "{":
            out = Located(self.line(at))
            at = self.ws(at + 1)
            if text[at:at + 1] == "}":
                return out, at + 1
            while True:
                if text[at:at + 1] != '"':
                    raise ValueError("expected a key")
                line = self.line(at)
                key, at = self.scalar(text, at)
                at = self.ws(at)
                if text[at:at + 1] != ":":
                    raise ValueError("expected ':'")
                item, at = self.value(self.ws(at + 1))
                if key in out:
                    out.add_duplicate(key, line)
                    self.duplicates = True
                out[key] = item
                out.key_lines[key] = line
                at = self.ws(at)
                if text[at:at + 1] == "}":
                    return out, at + 1
                if text[at:at + 1] != ",":
                    raise ValueError("expected ',' or '}'")
                at = self.ws(at + 1)
        if c == "[":
            seq = LocatedList(self.line(at))
            at = self.ws(at + 1)
            if text[at:at + 1] == "]":
                return seq, at + 1
            while True:
                seq.item_lines.append(self.line(at))
                item, at = self.value(at)
                seq.append(item)
                at = self.ws(at)
                if text[at:at + 1] == "]":
                    return seq, at + 1
                if text[at:at + 1] != ",":
                    raise ValueError("expected ',' or ']'")
                at = self.ws(at + 1)
        return self.scalar(text, at)


def locate(text: str, start: int = 0, end: int | None = None, items: bool = False,
           first_line: int = 1) -> list[Any] | None:
    """The JSON values on text[start:end] (one, or a stream of them one after another as kubectl
    reads them; `items`: the comma-separated values there, as a part of a List's items is) as
    Located/LocatedList with lines counted from `first_line` at the start of `text`; None when
    they cannot be read so (they were read without lines already, so this only gives up on
    lines, never on content)."""
    end = len(text) if end is None else end
    reader = _Locator(text[:end], first_line)
    out: list[Any] = []
    try:
        at = reader.ws(start)
        while at < end:
            value, at = reader.value(at)
            out.append(value)
            at = reader.ws(at)
            if not items:
                continue  # the next value of a stream
            if text[at:at + 1] == ",":
                at = reader.ws(at + 1)
            elif at < end:
                break  # the `]` that ends the last part
    except (ValueError, IndexError, RecursionError):
        return None
    if reader.duplicates:
        for value in out:
            if isinstance(value, Located):
                value.nested_duplicates = True
    return out
