"""The block-style YAML reader reads what libyaml reads: same documents, values, lines of every
mapping, key and item, same duplicate keys; what it does not take, libyaml reads."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.manifests import blockyaml
from podwall.manifests import documents as docs
from podwall.manifests.located import Located, LocatedList


def by_libyaml(text: str) -> list[Any] | str:
    try:
        return list(docs._load_all(text))
    except (yaml.YAMLError, RecursionError) as exc:
        return type(exc).__name__


def by_blockyaml(text: str) -> tuple[list[Any] | str | None, int]:
    """(documents, how many of them libyaml read instead); an error's name; None: not taken."""
    declined = [0]

    def fallback(chunk: str, first_line: int) -> list[Any]:
        declined[0] += 1
        return docs._read_declined(chunk, first_line)

    try:
        return blockyaml.read_stream(text, fallback), declined[0]
    except (yaml.YAMLError, RecursionError) as exc:
        return type(exc).__name__, declined[0]


def difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two read documents differ (types, values, lines, duplicates), or None."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if isinstance(a, Located):
        if (a.line, a.key_lines, list(a.duplicates), a.nested_duplicates, list(a)) != (
                b.line, b.key_lines, list(b.duplicates), b.nested_duplicates, list(b)):
            return (f"{path}: {(a.line, a.key_lines, a.duplicates, a.nested_duplicates)} != "
                    f"{(b.line, b.key_lines, b.duplicates, b.nested_duplicates)}")
        return next((d for k in a if (d := difference(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, LocatedList):
        if (a.line, a.item_lines, len(a)) != (b.line, b.item_lines, len(b)):
            return f"{path}: {(a.line, a.item_lines, len(a))} != {(b.line, b.item_lines, len(b))}"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True))
                     if (d := difference(x, y, f"{path}[{i}]"))), None)
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def assert_same_as_libyaml(text: str) -> int:
    """The block reader agrees with libyaml on `text`; returns how many documents it read
    itself (-1: it did not take the text)."""
    fast, declined = by_blockyaml(text)
    if fast is None:
        return -1
    slow = by_libyaml(text)
    if isinstance(slow, str) or isinstance(fast, str):
        assert isinstance(slow, str) and isinstance(fast, str), (text, slow, fast)
        return 0
    assert len(fast) == len(slow), (text, fast, slow)
    for i, (x, y) in enumerate(zip(fast, slow, strict=True)):
        diff = difference(x, y, f"document {i}")
        assert diff is None, (text, diff)
    return len(fast) - declined


CASES = {
    "kubectl-style pod": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: web\n"
        "spec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 80\n"
        "      protocol: TCP\n    - {}\n    - []\nstatus: {}\n"),
    "indented sequences": "a:\n  - x\n  -\n    - 1\n  - b: 2\n    c:\n      - d\n",
    "empty documents": "---\n---\n# only a comment\n---\na: 1\n---\n",
    "no content before the first marker": "# c\n\n---\na: 1\n--- # a comment\nb: 2\n",
    "content before the first marker": "a: 1\n---\nb: 2\n",
    "nothing at all": "\n# c\n",
    "typed values": ("i: 12\nf: 1.5\nb: yes\nn: ~\ne:\nd: 2001-12-14\nt: 2001-12-14 21:59:43.10 -5\n"
                     "o: 012\nh: 0x1F\ns: 1:20\nbad-date: 2001-13-45\nstr: 10.0.0.1\n"
                     "y: y\ne3: 1e3\nf0: 80.0\noct: 0o17\nbig: 0xffffffffffffffffffff\n"),
    "typed keys": "1: a\ntrue: b\n1.5: d\n2001-01-01: e\non: f\n1.0: g\n",
    "values kubectl refuses go to libyaml": "inf: .inf\nnull: c\n",
    "quoted": "a: 'it''s'\nb: \"plain\"\nc: 'x: y' # c\nd: \"\"\ne: ''\n",
    "comments": "a: 1 # one\n# between\n  # indented\nb: x#y\nc: 'q' #z\nd: # nothing\n",
    "duplicate keys": "a: 1\nb:\n  c: 2\n  c: 3\na: 4\n",
    "colons": "url: http://x:80/y\nimage: nginx:1.27\nk:v: w\n",
    "a block scalar before a marker keeps its line break": "a: >\n  text\n---\nb: 1\n",
    "flow collections go to libyaml": "a: {b: 1, c: [2, 3]}\nd: [x]\n",
    "anchors and aliases go to libyaml": "a: &x {b: 1}\nc: *x\nd: &y v\ne: *y\n",
    "merge keys go to libyaml": "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",
    "multi-line scalars go to libyaml": "a: one\n  two\nb: 'x\n  y'\n",
    "tags go to libyaml": "a: !!str 1\nb: !!binary aGk=\n",
    "errors": "a: b: c\n",
    "bad indentation": "a:\n    b: 1\n  c: 2\n",
    "a sequence where a key belongs": "a: 1\n- b\n",
    "a nested sequence on one line": "- - a\n  - b\n",
    "a key too long for libyaml": "k" * 1100 + ": v\n",
    "an invalid value for a tag": "a: !!int x\n",
    "text after a mapping": "a: 1\n  b\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases(name: str) -> None:
    assert_same_as_libyaml(CASES[name])


def test_it_reads_plain_manifests_itself() -> None:
    """The common shape is read here, not handed to libyaml (the point of the module)."""
    text = CASES["kubectl-style pod"] * 1 + "---\n" + CASES["typed values"] + "---\n" + (
        CASES["indented sequences"])
    assert assert_same_as_libyaml(text) == 3


@pytest.mark.parametrize("text", ["a: \tb\n", "a: b\r\n", "a: é\n", "a: 1\n...\n", "%YAML 1.1\n---\na: 1\n",
                                  "--- a\n", "--- !tag\na: 1\n", "a: \x7f\n"])
def test_texts_it_leaves_to_libyaml_entirely(text: str) -> None:
    assert by_blockyaml(text)[0] is None


def test_dates_are_strings_as_kubectl_sends_them() -> None:
    (data,) = docs._load_all("when: 2001-13-45\nok: 2001-12-14\n")
    assert data == {"when": "2001-13-45", "ok": "2001-12-14"}
    with pytest.raises(yaml.YAMLError):
        list(docs._load_all("a: !!int x\n"))


def test_line_numbers_start_at_the_offset() -> None:
    text = "a:\n  b: 1\n---\nc: [1]\n"
    data = blockyaml.read_stream(text, docs._read_declined, line_offset=10)
    assert data is not None
    first, second = data
    assert (first.line, first.key_lines, first["a"].key_lines) == (11, {"a": 11}, {"b": 12})
    assert (second.line, second.key_lines, second["c"].line) == (14, {"c": 14}, 14)


# -- against libyaml on generated input -------------------------------------------------------------

SCALARS = st.one_of(
    st.sampled_from(["v", "1", "1.5", "yes", "no", "on", "null", "~", "", "x: y", "x:y", "a #c",
                     "a#c", "it's", 'say "hi"', "2001-12-14", "2001-13-45", "1:20", "0x1f", "012",
                     "-1", "- a", "http://x", "a  b", " lead", "trail ", "#c", ":", "-", "?",
                     "[x]", "{y}", "*a", "&b", "!t", "|", ">", "%p", "@x", "=", "<<", ".nan",
                     "10.0.0.1", "::1", "a,b", "x" * 70, "multi\nline", "tab\there", "é"]),
    st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.dates(), st.text(max_size=6))
KEYS = st.one_of(st.sampled_from(["a", "b", "name", "on", "1", "null", "x:y", "k k", "yes", "~",
                                  "a#b", "-a", "ports", "2001-01-01"]), st.text(max_size=4),
                 st.integers(-5, 5), st.booleans())
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(KEYS, inner, max_size=4), max_leaves=25)


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """Documents as PyYAML writes them (block style, assorted indents), then lightly damaged:
    lines shifted, repeated (duplicate keys), commented or given a trailing comment."""
    trees = draw(st.lists(st.dictionaries(KEYS, TREES, min_size=1, max_size=4) | TREES,
                          min_size=1, max_size=3))
    try:
        text = yaml.safe_dump_all(trees, default_flow_style=draw(st.sampled_from([False, None])),
                                  indent=draw(st.sampled_from([2, 3, 4])),
                                  explicit_start=draw(st.booleans()),
                                  allow_unicode=draw(st.booleans()))
    except yaml.YAMLError:
        text = "a: 1\n"
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["indent", "dedent", "repeat", "comment", "tail"]))
        if op == "indent":
            lines[at] = " " + lines[at]
        elif op == "dedent":
            lines[at] = lines[at][1:]
        elif op == "repeat":
            lines.insert(at, lines[at])
        elif op == "comment":
            lines.insert(at, " " * draw(st.integers(0, 4)) + "# c")
        else:
            lines[at] += draw(st.sampled_from([" ", " # x", ":", " :"]))
    return "\n".join(lines)


LINE_SHAPES = ["{i}{k}: {v}", "{i}{k}:", "{i}- {v}", "{i}- {k}: {v}", "{i}-", "{i}- {k}:",
               "{i}# c", "", "---", "--- # c", "{i}{k}: {v} # c", "{i}{k}: {{}}", "{i}- []"]


@st.composite
def line_soups(draw: st.DrawFn) -> str:
    """Lines of the shapes the reader knows, at random indentation: mostly nonsense, often
    valid, and every indentation rule gets tried."""
    keys = st.sampled_from(["a", "b", "on", "1", "x:y", "-a", "a#b", "'q'", "<<"])
    values = st.sampled_from(["v", "1", "~", "x: y", "'s'", '"d"', "{}", "[a]", "|", "&x v", "*x",
                              "- a", "a #c", "2001-13-45", "=", "'open"])
    lines = [draw(st.sampled_from(LINE_SHAPES)).format(
        i=" " * draw(st.sampled_from([0, 0, 1, 2, 2, 3, 4, 6])), k=draw(keys), v=draw(values))
        for _ in range(draw(st.integers(1, 10)))]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_texts())
def test_generated_documents_read_as_libyaml_reads_them(text: str) -> None:
    assert_same_as_libyaml(text)


@settings(max_examples=600, deadline=None)
@given(line_soups())
def test_any_arrangement_of_lines_reads_as_libyaml_reads_it(text: str) -> None:
    assert_same_as_libyaml(text)
