"""The loader under a memory cap: each hostile input of a few megabytes is read in a child process
whose address space is limited (RLIMIT_AS) to what it had after its imports plus a linear budget,
32 bytes per input byte and 200 MB. A reader whose memory grows faster than the input (a 10 MB
quoted scalar once cost 1.35 GB, a long dotted name 120 bytes per byte, a 478-byte alias bomb
5.9 GB) fails here, as a test, instead of on a machine."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SIZE = 4_000_000
BYTES_PER_BYTE = 32
SLACK = 200 << 20
LAUGHS = "".join(f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
                 for p, n in zip("abcdefgh", "bcdefghi", strict=True))

CASES = {
    "single-quoted.yaml": "a: '" + "x''" * (SIZE // 3) + "'\n",
    "double-quoted.yaml": 'a: "' + "\\n" * (SIZE // 2) + '"\n',
    "plain.yaml": "a: " + "x" * SIZE + "\n",
    "key.yaml": "k" * SIZE + ": v\n",
    "flow.yaml": "[" * SIZE,
    "block-nesting.yaml": "".join(" " * i + "a:\n" for i in range(2800)),
    "dotted-name.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + "a." * (SIZE // 2)
                         + "a\n"),
    "label-key.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    "
                       + "a." * (SIZE // 4) + "a/b: " + "c" * (SIZE // 2) + "\n"),
    "empty-documents.yaml": "---\n" * (SIZE // 32),
    "alias-bomb.yaml": "data:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + LAUGHS,
    "json-first-key.json": ('{"kind": "List", "apiVersion": "v1", "items": [{"' + "a" * SIZE
                            + '": 1}, {"b": 2}]}'),
    "json-escapes.json": ('{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "'
                          + "\\u0041" * (SIZE // 6) + '"}}'),
    "json-digits.json": '{"kind": "Namespace", "apiVersion": "v1", "n": ' + "7" * SIZE + "}",
    "json-nesting.json": "[" * SIZE,
}

PARALLEL = {"single-quoted.yaml", "json-first-key.json", "dotted-name.yaml"}  # its cutting code

CHILD = textwrap.dedent("""
    import json, os, resource, sys, time
    from podwall.manifests import load_cluster
    path, jobs = sys.argv[1], int(sys.argv[2])
    with open("/proc/self/status") as status:
        vm = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmSize:"))
    limit = vm + int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.process_time()
    result = load_cluster([path], jobs=jobs)
    print(json.dumps({"cpu": time.process_time() - started,
                      "diagnostics": [str(d)[:300] for d in result.diagnostics]}))
""")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_read_within_a_linear_memory_budget(tmp_path: Path, name: str) -> None:
    text = CASES[name]
    path = tmp_path / name
    path.write_text(text)
    budget = SLACK + BYTES_PER_BYTE * len(text)
    for jobs in (1, 2) if name in PARALLEL else (1,):
        run = subprocess.run([sys.executable, "-c", CHILD, str(path), str(jobs), str(budget)],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (name, jobs, run.stderr[-2000:])
        report = json.loads(run.stdout)
        assert report["cpu"] < 30, (name, jobs, report["cpu"])
        assert not any("bug" in d or "not read" in d for d in report["diagnostics"]), (
            name, jobs, report["diagnostics"])
