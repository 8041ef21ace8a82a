"""Fuzzing the readers with a fixed budget (derandomized, so CI runs the same examples every
time, in a few seconds each): whatever the bytes, reading ends in documents and diagnostics,
never an exception; every diagnostic is one printable line; nothing is called a bug.

Inputs are built from manifest-shaped pieces (keys, indicators, anchors, tags, quotes, numbers,
control and non-ASCII characters), then cut, repeated and mutated at the byte level, because
uniformly random text almost never gets past a YAML reader's first line."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwall.manifests import documents as docs
from podwall.manifests import load_cluster, scalars
from tests.manifests.test_blockyaml import assert_same_as_libyaml

BUDGET = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.function_scoped_fixture])

VALID = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
         "  namespace: shop\nspec:\n  podSelector:\n    matchLabels: {app: db}\n  ingress:\n"
         "  - from:\n    - podSelector: {matchLabels: {app: web}}\n    ports:\n    - port: 5432\n"
         "      protocol: TCP\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
         "  labels: {app: web}\nspec:\n  containers:\n  - name: c\n    ports:\n"
         "    - containerPort: 80\n      name: http\n")
PIECES = ["apiVersion: v1\n", "kind: Pod\n", "kind: List\nitems:\n", "metadata:\n", "  name: ",
          "  labels:\n", "spec:\n", "  podSelector: ", "- ", "  - ", "port: ", "---\n", "...\n",
          "%YAML 1.1\n", "&a ", "*a", "<<: *a\n", "!!int ", "!!bool ", "!!float ", "!!timestamp ",
          "!!binary ", "!custom ", "'", "''", '"', "\\", "\\x1b", "{", "}", "[", "]", ",", ":", "?",
          "#", "|", ">", "0x", "1:20", "1e400", ".inf", "~", "y", "n", "2001-13-45",
          "9" * 30, "\t", "\r", "\r\n", "\x0c", "\x1c", "\x85", "\u2028", "\x00", "\x7f", "é", "日",
          "\ufeff", "\ud800", "   ", "\n", "a", "b.c", "-", "0", "true"]


@st.composite
def yaml_soups(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from([VALID, "", "a: 1\n"]))
    text = base + "".join(draw(st.lists(st.sampled_from(PIECES), max_size=40)))
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 4))):  # byte-level mutations
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:at] + draw(st.binary(max_size=3)) + data[at + draw(st.integers(0, 3)):]
    return data


def _read(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    ok = tmp_path / "zz-beside.yaml"
    ok.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: beside\n")
    result = load_cluster([str(path), str(ok)])
    for d in result.diagnostics:
        shown = str(d)
        assert shown.isprintable(), shown
        assert "bug" not in shown and "not read" not in shown, shown
    assert "beside" in result.cluster.namespaces  # the valid file beside still loads


@BUDGET
@given(yaml_soups())
def test_yaml_reader_never_raises(tmp_path: Path, data: bytes) -> None:
    _read(tmp_path, "input.yaml", data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats()
    | st.text(max_size=8) | st.sampled_from(["v1", "Pod", "NetworkPolicy", "List", "TCP"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["apiVersion", "kind", "metadata", "name", "items", "spec", "ports",
                         "port", "labels", "x"]) | st.text(max_size=4), inner, max_size=5),
    max_leaves=30)


@st.composite
def json_soups(draw: st.DrawFn) -> bytes:
    text = json.dumps(draw(json_values), indent=draw(st.sampled_from([None, 1])))
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:at] + draw(st.sampled_from(
            [b"", b"1" * 5000, b"NaN", b"1e999", b"\xff", b",", b"{", b"]", b'"', b"\\u"])) + data[at:]
    return data


@BUDGET
@given(json_soups())
def test_json_reader_never_raises(tmp_path: Path, data: bytes) -> None:
    _read(tmp_path, "input.json", data)


@settings(max_examples=500, derandomize=True, deadline=None, database=None)
@given(st.text(max_size=30) | st.from_regex(r"[-+]?(0[xob])?[0-9a-fA-F_.:eE+-]{0,25}",
                                              fullmatch=True))
def test_scalars_are_values_or_scalar_errors(text: str) -> None:
    for read in (lambda: scalars.plain(text), lambda: scalars.plain_key(text),
                 *(lambda tag=tag: scalars.tagged(tag, text) for tag in (
                     scalars.INT_TAG, scalars.FLOAT_TAG, scalars.BOOL_TAG, scalars.NULL_TAG,
                     scalars.TIMESTAMP_TAG, scalars.BINARY_TAG, scalars.STR_TAG, "!x"))):
        try:
            value = read()
        except scalars.ScalarError:
            continue
        assert value is None or isinstance(value, bool | int | float | str)
        if isinstance(value, int) and not isinstance(value, bool):
            assert value.bit_length() <= 64  # an int64, or a float's integral value below 1e21


@BUDGET
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_both_yaml_readers_agree(pieces: list[str]) -> None:
    """The block-style reader (fast path) and libyaml read every text alike, hostile or not."""
    text = VALID + "".join(pieces)
    if any(c in text for c in "\x00\ud800"):
        return  # not text libyaml can take at all (the loader reports those as diagnostics)
    assert_same_as_libyaml(text)
    docs.yaml_lines(text)
