"""Scalars mean what they mean to kubectl (goyaml.v2 + JSON), not to PyYAML; explicit tags that do
not fit are errors with goyaml's words, never a traceback. Held to kubectl itself when it is
installed (`kubectl label --local` decodes a file as the API server's client does)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from podwall.manifests import blockyaml, scalars
from podwall.manifests import documents as docs
from tests.manifests.helpers import errors_of, load_text

# value as written -> what kubectl sends (checked against kubectl 1.32 when it is installed)
EXPECTED: dict[str, Any] = {
    "1:20": "1:20", "190:20:30": "190:20:30", "1:20.5": "1:20.5",  # no sexagesimal
    "y": True, "n": False, "Y": True, "yes": True, "on": True, "off": False, "True": True,
    "0o17": 15, "017": 15, "0b101": 5, "1_000": 1000, "0x1F": 31, "+12": 12, "-0b11": -3,
    ".5": 0.5, "1e3": 1000, "1.0e+3": 1000, "80.0": 80, "-0": 0, "-0.0": 0, "00": 0, "08": 8,
    "~": None, "Null": None, "0o8": "0o8", "0x": "0x", "0_": 0, "_1": "_1", "1_2.5": 12.5,
    "2001-12-14": "2001-12-14", "2001-13-45": "2001-13-45", "1e400": "1e400",
    ".5e400": ".5e400", ".iNf": ".iNf", "=": "=", "0e": "0e",
    "12345678901234567890123": 1.2345678901234568e+22, "1e21": 1e21, "1e20": 10 ** 20,
    "9007199254740993": 9007199254740993, "9223372036854775808": 9223372036854776000,
    "0x" + "f" * 40: "0x" + "f" * 40, "0x" + "f" * 4000: "0x" + "f" * 4000,
    "!!int 0x1F": 31, "!!float 1": 1, "!!str 12": "12", "!!bool y": True, "!!int '12'": 12,
    "!!timestamp 2001-12-14": "2001-12-14", "!!binary aGVsbG8=": "hello", "!custom foo": "foo",
    "!!set x": "x", "!!null ''": None, "!!float 0x10": 16,
    "!!python/name:os.system x": "x",
}
# value as written -> kubectl's complaint
REFUSED = {
    "!!int ''": "cannot decode !!null `` as a !!int",
    "!!float ''": "cannot decode !!null `` as a !!float",
    "!!bool maybe": "cannot decode !!str `maybe` as a !!bool",
    "!!timestamp nope": "cannot decode !!str `nope` as a !!timestamp",
    "!!int 1:20": "cannot decode !!str `1:20` as a !!int",
    "!!int 1.0": "cannot decode !!float `1.0` as a !!int",
    "!!null x": "cannot decode !!str `x` as a !!null",
    ".inf": "json: unsupported value: +Inf",
    "-.Inf": "json: unsupported value: -Inf",
    ".nan": "json: unsupported value: NaN",
}


def _configmap(value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata2:\n  k: {value}\n"


def _podwall(value: str) -> Any:
    (data,) = docs._load_all(_configmap(value))
    return data["data2"]["k"]


@pytest.mark.parametrize("value", sorted(EXPECTED), ids=lambda v: v[:40])
def test_values_are_what_kubectl_sends(value: str) -> None:
    read = _podwall(value)
    assert read == EXPECTED[value] and type(read) is type(EXPECTED[value]), (value, read)


@pytest.mark.parametrize("value", sorted(EXPECTED), ids=lambda v: v[:40])
def test_the_block_reader_types_plain_values_the_same(value: str) -> None:
    if value.startswith("!"):
        return  # tags are libyaml's to read
    fallback_used = []

    def fallback(text: str, first_line: int) -> list[Any]:
        fallback_used.append(text)
        return docs._read_declined(text, first_line)

    (data,) = blockyaml.read_stream(_configmap(value), fallback) or [None]
    assert data["data2"]["k"] == EXPECTED[value]


@pytest.mark.parametrize("value", sorted(REFUSED))
def test_values_kubectl_refuses_are_errors_with_its_words_not_tracebacks(value: str) -> None:
    (error,) = errors_of(_configmap(value) + "---\napiVersion: v1\nkind: Namespace\n"
                         "metadata:\n  name: beside\n")
    assert REFUSED[value] in error.message and error.line == 6, str(error)
    # the valid document beside it still loads
    assert "beside" in load_text(_configmap(value) + "---\napiVersion: v1\nkind: Namespace\n"
                                 "metadata:\n  name: beside\n").cluster.namespaces


def test_keys_are_written_as_kubectl_writes_them() -> None:
    (data,) = docs._load_all("true: 1\n1.0: 2\n1e3: 3\n0x1F: 4\n.inf: 5\n'1:20': 6\n")
    assert list(data) == ["true", "1", "1000", "31", ".inf", "1:20"]


# key as written -> the JSON key kubectl writes (sigs.k8s.io/yaml: floats as float32 %g)
KEYS = {"on": "true", "yes": "true", "n": "false", "~x": "~x", "1e3": "1000", "1e20": "1e+20",
        "685230.15": "685230.1", "-0.0": "-0", "0.0001": "0.0001", "1e-5": "1e-05",
        "1.5e6": "1.5e+06", "+9223372036854775808": "9.223372e+18", "1e39": ".inf",
        "!!float 685230.15": "685230.1", "!!float 2": "2", "0o17": "15", "-0x1F": "-31"}


@pytest.mark.parametrize("key", sorted(KEYS))
def test_each_key_is_what_kubectl_writes(key: str) -> None:
    (data,) = docs._load_all(f"{key}: 1\n")
    assert list(data) == [KEYS[key]]
    if not key.startswith("!"):
        (block,) = blockyaml.read_stream(f"{key}: 1\n", docs._read_declined) or [None]
        assert list(block) == [KEYS[key]]


def test_a_key_beyond_int64_is_kubectls_error() -> None:
    (error,) = errors_of("9223372036854775808: 1\n")
    assert "unsupported map key of type: uint64" in error.message and error.line == 1


def test_a_sexagesimal_port_is_a_named_port_as_kubectl_reads_it() -> None:
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
            "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 1:20\n")
    errors = errors_of(text)
    assert errors and all(e.path == "spec.ingress[0].ports[0].port" and '"1:20"' in e.message
                          and e.line == 9 for e in errors), [str(e) for e in errors]


def test_a_4000_digit_hex_port_is_a_validation_error_not_a_bug() -> None:
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
            "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0x" + "f" * 4000 + "\n")
    errors = errors_of(text)
    assert errors and all("bug" not in e.message for e in errors), [str(e) for e in errors]
    assert {e.path for e in errors} == {"spec.ingress[0].ports[0].port"}
    assert any("no more than 15 characters" in e.message for e in errors)


def test_go_parse_int_never_converts_long_text() -> None:
    assert scalars.go_parse_int("0x" + "0" * 10_000 + "1") == 1
    assert scalars.go_parse_int("9" * 10_000) is None
    assert scalars.go_parse_int("-9223372036854775808") == -(2 ** 63)
    assert scalars.go_parse_int("+1", signed=False) is None


# -- against kubectl itself ------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")


def _kubectl(text: str, tmp_path: Path) -> tuple[Any, str]:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    run = subprocess.run([str(KUBECTL), "label", "--local", "-f", str(path), "x=1", "-o", "json"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "KUBECONFIG": os.devnull})
    if run.returncode != 0:
        return None, run.stderr
    return json.loads(run.stdout), ""


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: the oracle test is "
                    "SKIPPED (apt-get install kubernetes-client to run it)")
def test_agrees_with_kubectl(tmp_path: Path) -> None:
    values = sorted(EXPECTED)
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata2:\n"
            + "".join(f"  k{i}: {v}\n" for i, v in enumerate(values)))
    sent, err = _kubectl(text, tmp_path)
    assert sent is not None, err
    (ours,) = docs._load_all(text)
    for i, value in enumerate(values):
        assert json.loads(json.dumps(ours["data2"][f"k{i}"])) == sent["data2"][f"k{i}"], value
    for value, words in REFUSED.items():
        sent, err = _kubectl(_configmap(value), tmp_path)
        assert sent is None and words in err, (value, err)


def _words(text: str) -> list[str]:
    return text.split()


def spellings() -> list[str]:
    """A few hundred ways to write a scalar: every word goyaml.v2 gives a meaning, numbers in
    every base with signs, underscores, exponents and overflow, sexagesimals, dates, and text
    that only looks like any of these."""
    words = _words("y Y yes Yes YES yEs n N no No NO nO true True TRUE tRue false False FALSE on On ON "
             "oN off Off OFF ofF ~ null Null NULL nUll .inf .Inf .INF +.inf -.inf .nan .NaN .NAN "
             ".iNf .nAn -.Nan")
    numbers = _words("0 1 7 007 08 09 010 0o17 0O17 0o8 0x1F 0X1F 0x1f 0xg 0b101 0B101 0b2 1_000 1__0 1_ "
               "0x_1F 0b_1 0o_7 0_7 1.5 1. 1.e3 1e3 1E3 1e+3 1e-3 1.5e3 .5 .5e3 1_0.5 "
               "685.230_15e+03 685_230.15 6.8523015e+5 0.0 00.5 1e 1e400 .5e400 "
               "9223372036854775807 9223372036854775808 18446744073709551615 18446744073709551616 "
               "99999999999999999999999 1:20 1:20:30 190:20:30.15 1:20.5 0x 0o 0b 1e21 1e20 "
               "123456789012345678901 9007199254740993 0.1 3.14159 1_2.5 12abc 0x1.8p1 1.2.3 0. "
               "00")
    others = ["2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10",
              "2001-12-14T21:59:43Z", "2001-1-1", "1-1-1", "2001-13-45", "2001-02-29",
              "2000-02-29", "20011214", "=", "<<", "-a", "a", "abc", "yes please", "on-call",
              "true!", "_", "_1", "-_1", "+", ".", "..", "._", "e3", "E3", "0e", "0e0", "-0e-0",
              "0x0", "-0x0", "0b0", "0o0", "+0o0", "1 2", "1\t2"]
    out = [*words, *(sign + n for n in numbers for sign in ("", "+", "-")), *others]
    return list(dict.fromkeys(out))


def _ours(text: str) -> Any:
    try:
        (data,) = docs._load_all(text)
    except yaml.YAMLError:
        return None
    return json.loads(json.dumps(data["data2"]))


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: the oracle test is "
                    "SKIPPED (apt-get install kubernetes-client to run it)")
def test_hundreds_of_values_and_keys_agree_with_kubectl(tmp_path: Path) -> None:
    """Every spelling as a value and as a key, typed as kubectl types it: those both accept in
    one file each, those podwall refuses one by one (kubectl must refuse them too)."""
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata2:\n"
    all_spellings = spellings()
    assert len(all_spellings) > 250
    for form in ("  k{i}: {s}\n", "  k{i}: {{{s}: 1}}\n"):
        accepted = [s for s in all_spellings
                    if _ours(head + form.format(i=0, s=s)) is not None]
        text = head + "".join(form.format(i=i, s=s) for i, s in enumerate(accepted))
        sent, err = _kubectl(text, tmp_path)
        assert sent is not None, err
        ours = _ours(text)
        for i, s in enumerate(accepted):
            assert ours[f"k{i}"] == sent["data2"][f"k{i}"], (form, s)
        for s in all_spellings:
            if s not in accepted:
                refused, err = _kubectl(head + form.format(i=0, s=s), tmp_path)
                assert refused is None, (form, s, refused)


JSON_NUMBERS = ["80", "80.0", "1e3", "1.5", "-0", "9007199254740993", "9223372036854775807",
                "99999999999999999999", "1e20", "1e21", "1.5e300"]


def test_json_numbers_are_what_kubectl_sends(tmp_path: Path) -> None:
    expected = {"80": 80, "80.0": 80, "1e3": 1000, "1.5": 1.5, "-0": 0,
                "9007199254740993": 9007199254740993,
                "9223372036854775807": 9223372036854775807,
                "99999999999999999999": 10 ** 20, "1e20": 10 ** 20, "1e21": 1e21,
                "1.5e300": 1.5e300}
    text = ('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data2": {'
            + ", ".join(f'"k{i}": {n}' for i, n in enumerate(JSON_NUMBERS)) + "}}")
    result = docs.ReadResult()
    docs.read_source("x.json", text, result)
    (doc,) = result.documents
    for i, number in enumerate(JSON_NUMBERS):
        value = doc.data["data2"][f"k{i}"]
        assert value == expected[number] and type(value) is type(expected[number]), number
    if KUBECTL is not None:  # and kubectl agrees
        path = tmp_path / "in.json"
        path.write_text(text)
        run = subprocess.run([KUBECTL, "label", "--local", "-f", str(path), "x=1", "-o", "json"],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "KUBECONFIG": os.devnull})
        sent = json.loads(run.stdout)["data2"]
        for i, number in enumerate(JSON_NUMBERS):
            assert sent[f"k{i}"] == expected[number], number
