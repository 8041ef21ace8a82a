"""Hostile and broken input: bounded cost, a diagnostic instead of a traceback, nothing half done
(the valid files beside a bad one still load). Issue 15, the readers' side."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podwall.errors import Severity
from podwall.manifests import documents as docs
from podwall.manifests import load as load_module
from podwall.manifests import load_cluster
from tests.manifests.helpers import errors_of, load_text

MAIN = "from podwall.cli.main import main; main()"
VALID = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: beside\n"
LAUGHS = "".join(
    f"  {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True))
BOMB = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n"
        '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + LAUGHS)


def _write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def test_a_billion_laughs_is_refused_quickly_with_a_diagnostic(tmp_path: Path) -> None:
    assert len(BOMB) < 600
    started = time.process_time()
    result = load_cluster([_write(tmp_path, "bomb.yaml", BOMB), _write(tmp_path, "ok.yaml", VALID)])
    assert time.process_time() - started < 10  # it was 114 s and 5.9 GB, then a MemoryError
    (error,) = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert "excessive aliasing" in error.message and error.file and error.file.endswith("bomb.yaml")
    assert "beside" in result.cluster.namespaces


def test_merge_keys_cannot_multiply_either() -> None:
    text = "a0: &a0 {k: v}\n" + "".join(
        f"a{i}: &a{i}\n  <<: [{', '.join([f'*a{i - 1}'] * 4)}]\n  k{i}: v\n" for i in range(1, 30))
    started = time.process_time()
    (data,) = docs._load_all(text)
    assert time.process_time() - started < 10
    assert list(data["a29"]) == ["k", *(f"k{i}" for i in range(1, 30))]
    assert docs._merged_size(docs._Loader(text).get_single_node(), {}) < 1000


def test_aliases_within_bounds_still_read() -> None:
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
            "spec:\n  podSelector: &sel {matchLabels: {app: db}}\n  ingress:\n"
            "  - from:\n    - podSelector: *sel\n")
    result = load_text(text)
    assert not result.diagnostics and len(result.cluster.policies) == 1


def test_a_huge_json_integer_is_a_diagnostic_and_the_files_beside_it_load(tmp_path: Path) -> None:
    big = ('{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "x", "n": '
           + "1" * 5001 + "}}")
    result = load_cluster([_write(tmp_path, "big.json", big), _write(tmp_path, "ok.yaml", VALID)])
    (error,) = result.diagnostics
    assert error.line == 2 and "cannot unmarshal number" in error.message
    assert len(error.message) < 200
    assert "beside" in result.cluster.namespaces


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_does_not_have_are_errors(tmp_path: Path, number: str) -> None:
    text = ('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "n": '
            + number + '}}')
    (error,) = load_cluster([_write(tmp_path, "n.json", text)]).diagnostics
    assert error.severity is Severity.ERROR and error.line == 1


def test_integral_json_floats_are_integers_as_kubectl_sends_them(tmp_path: Path) -> None:
    text = json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                       "metadata": {"name": "p"}, "spec": {"podSelector": {},
                                                           "ingress": [{"ports": [{"port": 80.0}]}]}})
    result = load_cluster([_write(tmp_path, "p.json", text)])
    assert not result.diagnostics and result.cluster.policies[0].ingress[0].ports[0].port == 80


def test_non_utf8_stdin_is_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \xff\n")))
    (error,) = load_cluster(["-"]).diagnostics
    assert error.file == "<stdin>" and error.line == 4 and "not UTF-8" in error.message


def test_a_non_utf8_file_is_a_diagnostic_and_the_others_load(tmp_path: Path) -> None:
    result = load_cluster([_write(tmp_path, "bad.yaml", b"a: 1\nb: \xc3\x28\n"),
                           _write(tmp_path, "ok.yaml", VALID)])
    (error,) = result.diagnostics
    assert error.line == 2 and "not UTF-8" in error.message
    assert "beside" in result.cluster.namespaces


@pytest.mark.parametrize("char", ["\x0c", "\x1c", "\x1d", "\x1e", "\x0b"])
def test_characters_str_splitlines_breaks_at_do_not_shift_line_numbers(char: str) -> None:
    text = (f"a: 1\n# {char}{char}{char}\n---\n" + VALID + "---\n"
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad\n")
    result = load_text(text)
    lines = sorted((d.line, d.message[:10]) for d in result.diagnostics)
    assert [line for line, _ in lines] == [2, 12], lines  # the character; the bad name
    assert "beside" in result.cluster.namespaces


def test_json_diagnostics_carry_lines(tmp_path: Path) -> None:
    text = ('{\n  "apiVersion": "networking.k8s.io/v1",\n  "kind": "NetworkPolicy",\n'
            '  "metadata": {"name": "p"},\n  "spec": {\n    "podSelector": {},\n'
            '    "ingress": [\n      {"ports": [{"port": 0}]}\n    ],\n    "bogus": 1,\n'
            '    "bogus": 2\n  }\n}\n')
    result = load_cluster([_write(tmp_path, "p.json", text)])
    found = sorted((d.line, d.path) for d in result.diagnostics)
    assert found == [(8, "spec.ingress[0].ports[0].port"), (11, "spec.bogus"),
                     (11, "spec.bogus")], found  # unknown (the value used), duplicate


def test_json_list_diagnostics_carry_lines_when_read_in_parallel(tmp_path: Path) -> None:
    items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
              "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 0 if i == 300
                                                               else 80}]}]}} for i in range(600)]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
    path = _write(tmp_path, "list.json", text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if '"containerPort": 0' in ln)
    saved = load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES
    load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES = 1, 5000
    try:
        for jobs in (1, 2):
            (error,) = load_cluster([path], jobs=jobs).diagnostics
            assert error.line == line and error.obj == "Pod default/p300", (jobs, str(error))
    finally:
        load_module.PARALLEL_MIN_BYTES, load_module.PIECE_BYTES = saved


def test_a_killed_worker_is_reported_and_its_work_is_not_redone(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker the OOM killer ended must not have its job re-run here (where it would take the
    whole run down): its part is an error diagnostic."""
    docs = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n" for i in range(400))
    path = _write(tmp_path, "pods.yaml", docs)
    parent = os.getpid()
    calls: list[int] = []
    real = load_module._work

    def work(unit: load_module._Unit, sources: list[tuple[str, str]], namespace: str
             ) -> load_module._Done:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
        calls.append(unit.start)
        return real(unit, sources, namespace)

    monkeypatch.setattr(load_module, "_work", work)
    monkeypatch.setattr(load_module, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(load_module, "PIECE_BYTES", 2000)
    result = load_cluster([path], jobs=2)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert errors and all("not read" in d.message and d.file == path for d in errors)
    units, _ = load_module._plan([(path, docs)])
    assert len(calls) + len(errors) == len(units)  # each unit read once, or reported
    assert 0 < len(result.cluster.endpoints) < 400


def _without_root_powers(args: list[str]) -> list[str]:
    """Run as root but without the capabilities that ignore file permissions."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", *args]


def _validate(paths: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_without_root_powers([sys.executable, "-c", MAIN, "validate", *paths]),
                          capture_output=True, text=True, timeout=120)


def test_an_unreadable_subdirectory_is_an_error_not_valid(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path, "ok.yaml", VALID)
    _write(tmp_path / "sub", "hidden.yaml", VALID.replace("beside", "inside"))
    (tmp_path / "sub").chmod(0)
    try:
        run = _validate([str(tmp_path)])
    finally:
        (tmp_path / "sub").chmod(0o755)
    assert run.returncode == 1, run.stderr
    assert f"{tmp_path / 'sub'}: cannot read directory: Permission denied" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_directory_that_cannot_be_searched_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "ok.yaml", VALID)
    tmp_path.chmod(0o644)  # listable, but its files cannot be opened
    try:
        run = _validate([str(tmp_path)])
    finally:
        tmp_path.chmod(0o755)
    assert run.returncode == 1, run.stderr
    assert "ok.yaml: cannot read: Permission denied" in run.stderr


def test_dev_stdin_and_process_substitution_are_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.yaml", VALID)
    bash = shutil.which("bash")
    assert bash is not None
    for command in (f"{sys.executable} -c '{MAIN}' validate <(cat {path})",
                    f"cat {path} | {sys.executable} -c '{MAIN}' validate /dev/stdin"):
        run = subprocess.run([bash, "-c", command], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "1 namespace," in run.stdout, (command, run.stderr)


def test_a_name_with_a_newline_cannot_forge_a_diagnostic_line() -> None:
    text = ('apiVersion: v1\nkind: Namespace\nmetadata:\n'
            '  name: "bad\\nok.yaml:1: forged\\e[31mred"\n')
    (error,) = errors_of(text)
    shown = str(error)
    assert "\n" not in shown and "\x1b" not in shown
    assert "bad\\nok.yaml:1: forged\\x1b[31mred" in shown


def test_a_json_object_without_problems_still_has_its_line(tmp_path: Path) -> None:
    text = '\n\n{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}\n'
    first = _write(tmp_path, "a.json", text)
    second = _write(tmp_path, "b.json", text)
    (warning,) = load_cluster([first, second]).diagnostics
    assert "duplicate object" in warning.message and warning.line == 3
    assert f"{first}:3" in warning.message
