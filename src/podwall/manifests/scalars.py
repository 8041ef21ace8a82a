"""What a YAML or JSON scalar means, as kubectl sends it to the API server.

kubectl reads YAML with sigs.k8s.io/yaml: goyaml.v2 resolves each scalar, and the result is
converted to JSON before the API server sees it. PyYAML's YAML 1.1 schema differs in ways that
change meaning (`port: 1:20` is 80 to PyYAML, the text "1:20" to kubectl; `y` is a string to
PyYAML, true to kubectl; `1e3` is a string to PyYAML, 1000 to kubectl), and its constructors
raise KeyError or IndexError on explicit tags such as `!!bool maybe`. So both YAML readers resolve
scalars here, with goyaml.v2's rules (resolve.go), and explicit tags are checked as goyaml checks
them, with its words ("cannot decode !!str `maybe` as a !!bool").

Numbers end as JSON numbers do: a float with an integral value below 1e21 is written by Go as an
integer (`80.0` reaches the API server as `80`), an int64 overflow becomes a float, and infinity
or NaN cannot be sent at all. Every conversion here is bounded: no text is handed to `int()`
before its length is known to be small (Python refuses integers of more than 4300 digits, and
converting them is quadratic).

Tested against kubectl itself in tests/manifests/test_scalars.py (skipped when it is absent).
"""

from __future__ import annotations

import base64
import binascii
import decimal
import functools
import math
import re
from typing import Any

TAG = "tag:yaml.org,2002:"
STR_TAG = TAG + "str"
NULL_TAG = TAG + "null"
BOOL_TAG = TAG + "bool"
INT_TAG = TAG + "int"
FLOAT_TAG = TAG + "float"
TIMESTAMP_TAG = TAG + "timestamp"
BINARY_TAG = TAG + "binary"
MERGE_TAG = TAG + "merge"
_RESOLVABLE = frozenset({STR_TAG, NULL_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG, TIMESTAMP_TAG})

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


class ScalarError(ValueError):
    """A scalar kubectl refuses; the message is goyaml's (or Go's JSON encoder's)."""


_WORDS: dict[str, Any] = {}
for _value, _words in (
        (True, "y Y yes Yes YES true True TRUE on On ON"),
        (False, "n N no No NO false False FALSE off Off OFF"),
        (None, "~ null Null NULL"),
        (math.nan, ".nan .NaN .NAN"),
        (math.inf, ".inf .Inf .INF +.inf +.Inf +.INF"),
        (-math.inf, "-.inf -.Inf -.INF")):
    for _word in _words.split():
        _WORDS[_word] = _value
_WORDS[""] = None

# resolve.go's first-character hints: only text starting with one of these can be anything but
# a string ('M': only the exact words above; '.': a float; 'D'/'S': a number).
_HINTS = {**dict.fromkeys("yYnNtTfFoO~", "M"), ".": ".", "+": "S", "-": "S",
          **dict.fromkeys("0123456789", "D")}
TYPED_FIRST = frozenset(_HINTS)  # the first characters of scalars that may not be strings
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_LEADING_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 10: frozenset("0123456789"),
           8: frozenset("01234567"), 2: frozenset("01")}
_MAX_DIGITS = 64  # significant digits of a uint64 in base 2, the widest: longer is out of range
_MISSING = object()


def go_parse_int(text: str, signed: bool = True) -> int | None:
    """strconv.ParseInt(text, 0, 64) (or ParseUint): a sign (signed only), a base prefix (0x,
    0o, 0b, or a leading 0 for octal), digits; None when invalid or out of range."""
    negative = False
    if text[:1] in ("+", "-"):
        if not signed:
            return None
        negative = text[0] == "-"
        text = text[1:]
    base = 10
    if len(text) > 1 and text[0] == "0":
        base = _BASES.get(text[1], 8)
        text = text[1:] if base == 8 and text[1] not in "oO" else text[2:]
    if not text or not _DIGITS[base].issuperset(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return None
    value = int(significant or "0", base)
    if negative:
        value = -value
    low, high = (INT64_MIN, INT64_MAX) if signed else (0, UINT64_MAX)
    return value if low <= value <= high else None


def json_number(value: float) -> int | float:
    """A float as the API server receives it from kubectl (Go's JSON encoder): integral values
    below 1e21 are written without a fraction (so they read back as integers, spelled as Go
    spells them: 2**63 is 9223372036854775808.0, written 9223372036854776000)."""
    if math.isnan(value) or math.isinf(value):
        sign = "" if math.isnan(value) else "+" if value > 0 else "-"
        raise ScalarError(f"json: unsupported value: {sign}{'NaN' if math.isnan(value) else 'Inf'}")
    if value.is_integer() and abs(value) < 1e21:
        return int(value) if abs(value) < 2 ** 53 else int(decimal.Decimal(repr(value)))
    return value


def _number(text: str) -> tuple[str, Any]:
    """resolve.go's 'D'/'S' case: (tag, value), STR_TAG when it is not a number."""
    plain = text.replace("_", "")
    if plain:
        value = go_parse_int(plain)
        if value is not None:
            return INT_TAG, value
        value = go_parse_int(plain, signed=False)
        if value is not None:
            return INT_TAG, json_number(float(value))  # a uint64 beyond int64: a float in JSON
        if _YAML_FLOAT.fullmatch(plain):
            number = float(plain)
            if not math.isinf(number):  # Go's ParseFloat: out of range is an error
                return FLOAT_TAG, number
        # (resolve.go's own 0b/-0b case after this never succeeds where ParseInt failed.)
    return STR_TAG, text


def _resolve(text: str) -> tuple[str, Any]:
    """goyaml.v2's resolve() for a scalar that is not tagged !!str: (tag, value).
    Timestamps are left out: kubectl sends them as their text (a string either way)."""
    hint = _HINTS.get(text[0]) if text else "M"
    if hint is None:
        return STR_TAG, text
    word = _WORDS.get(text, _MISSING)
    if word is not _MISSING:
        if word is None:
            return NULL_TAG, None
        if isinstance(word, bool):
            return BOOL_TAG, word
        return FLOAT_TAG, word
    if hint == "M":
        return STR_TAG, text
    if hint == ".":
        if _LEADING_DOT_FLOAT.fullmatch(text):
            number = float(text)
            if not math.isinf(number):
                return FLOAT_TAG, number
        return STR_TAG, text
    return _number(text)


def _sendable(tag: str, value: Any) -> Any:
    return json_number(value) if tag == FLOAT_TAG else value


@functools.lru_cache(maxsize=65536)
def plain(text: str) -> Any:
    """An untagged plain scalar: None, bool, int, float or the text itself. (Cached: real
    inputs repeat the same scalars thousands of times.)"""
    tag, value = _resolve(text)
    return _sendable(tag, value)


def might_be_typed(text: str) -> bool:
    """False when `plain(text)` is certainly `text` (the usual case, told by one character)."""
    return not text or text[0] in TYPED_FIRST


def plain_key(text: str) -> str:
    """An untagged plain mapping key as JSON text, as sigs.k8s.io/yaml writes keys: `true` is
    "true", an integer its decimal digits, a float as Go's FormatFloat(f, 'g', -1, 32) writes it
    (`1.0` is "1", `1e20` is "1e+20", `685230.15` is "685230.1": float32 precision), `.inf` is
    ".inf"; an integer beyond int64 (goyaml's uint64) is an error, as kubectl's ("unsupported
    map key of type: uint64")."""
    tag, value = _resolve(text)
    if tag == FLOAT_TAG:
        return go_float32_key(value)
    if tag == INT_TAG and go_parse_int(text.replace("_", "")) is None:
        raise ScalarError(f"unsupported map key of type: uint64, key: {text}")
    return key_text(value)


def tagged_key(tag: str, text: str) -> str:
    """A mapping key with an explicit tag, as sigs.k8s.io/yaml writes it (see plain_key)."""
    value = tagged(tag, text)
    if tag == FLOAT_TAG and isinstance(value, int | float):
        return go_float32_key(float(value))
    return key_text(value)


def go_float32_key(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 32), with goyaml's words for infinities and NaN:
    the shortest digits that read back as the same float32, in %e form when the exponent is
    below -4 or at least 6 (Go's rule for the shortest precision)."""
    import numpy as np

    with np.errstate(over="ignore"):
        single = np.float32(value)
    if np.isnan(single):
        return ".nan"
    if np.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    mantissa, _, exponent_text = np.format_float_scientific(single, unique=True).partition("e")
    negative = mantissa.startswith("-")
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exponent = int(exponent_text)
    sign = "-" if negative else ""
    if digits == "0":
        return sign + "0"
    if exponent < -4 or exponent >= 6:
        fraction = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    point = exponent + 1  # digits before the decimal point
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _short(tag: str) -> str:
    return "!!" + tag[len(TAG):] if tag.startswith(TAG) else tag


def tagged(tag: str, text: str) -> Any:
    """A scalar with an explicit tag, as goyaml decodes it into an untyped value: !!str and
    unknown tags (`!custom`, `!!python/...`) keep the text; !!binary is base64; the typed
    tags must fit ("cannot decode !!str `maybe` as a !!bool")."""
    if tag == BINARY_TAG:
        try:
            raw = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ScalarError("!!binary value contains invalid base64 data") from None
        return raw.decode("utf-8", "replace")  # Go's JSON encoder replaces invalid UTF-8
    if tag == STR_TAG or tag not in _RESOLVABLE:
        return text
    resolved, value = _resolve(text)
    if tag == TIMESTAMP_TAG and resolved == STR_TAG and _is_timestamp(text):
        return text  # goyaml hands a timestamp to an untyped value as its text
    if resolved == tag:
        return _sendable(tag, value)
    if tag == FLOAT_TAG and resolved == INT_TAG:
        return json_number(float(value))
    raise ScalarError(f"cannot decode {_short(resolved)} `{text}` as a {_short(tag)}")


_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]{1,9})?(?:Z|[-+][0-9]{2}:[0-9]{2}))"
    r"|(?: [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]{1,9})?))?")


def _is_timestamp(text: str) -> bool:
    """goyaml's parseTimestamp formats (time.Parse with short fields): the shape, then the
    date must exist."""
    if not _TIMESTAMP.fullmatch(text):
        return False
    import datetime

    year, month, day = (int(x) for x in re.split(r"[-Tt ]", text)[:3])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def key_text(value: Any) -> str:
    """A mapping key as sigs.k8s.io/yaml writes it in JSON (`true: x` is "true", `1.0: x` "1")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise ScalarError("unsupported map key: null")
