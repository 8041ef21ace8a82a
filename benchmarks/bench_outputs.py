#!/usr/bin/env python3
"""Every output's cost as a multiple of `podwall matrix -o json`, whole processes, CPU time.

    python3 benchmarks/bench_outputs.py [--pods 1000] [--repeat 3] [--podwall PATH] [--only RE]

Why: the target is that no output costs more than 3x `matrix -o json` (the dense truth table,
the format everything else is measured against). Each output is one whole `podwall` command,
as a user runs it, on a cluster from benchmarks/generate.py (via bench_engine.ensure_input);
`diff` compares it with the same pods under more policies (`--policies-per-pod 0.25`: the same
pods, a quarter more policies, most of them different). Standard output goes to /dev/null, so
the figure is podwall's work, not a disk's or a terminal's.

The cost is CPU time (user + system, children included: graphviz's `dot` for svg and the
report), which contention from other work on a shared machine disturbs far less than wall
clock. Rounds run every command once, in turn, so drift hits them alike; figures are medians
of --repeat rounds. A first round, not timed, checks every command's exit status, counts its
output's bytes (through a pipe) and lets Python cache the bytecode: the children run without
PYTHONDONTWRITEBYTECODE, as an installed podwall does. The load average before and after is
printed: on a busy machine, trust the multiples more than the seconds.

podwall is `--podwall`, else `.venv/bin/podwall` (scripts/install.sh), else `.venv-test/bin/
podwall`, else `podwall` on PATH. The table goes to stdout as Markdown, the raw figures as JSON
to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import OUT, ensure_input  # noqa: E402

TARGET = 3.0  # no output may cost more than this multiple of `matrix -o json`
BASE = "matrix -o json"

# (name, arguments after `podwall`); {old} is the cluster, {new} the same pods, more policies
OUTPUTS: list[tuple[str, str]] = [
    (BASE, "matrix {old} -o json"),
    ("matrix (table, summary)", "matrix {old}"),
    ("matrix --full (table)", "matrix {old} --full"),
    ("matrix -o csv", "matrix {old} -o csv"),
    ("matrix -o md", "matrix {old} -o md"),
    ("explain (summary)", "explain {old}"),
    ("explain --full", "explain {old} --full"),
    ("explain -o json", "explain {old} -o json"),
    ("diff (summary)", "diff {old} {new}"),
    ("diff --full", "diff {old} {new} --full"),
    ("diff -o json", "diff {old} {new} -o json"),
    ("diff -o md", "diff {old} {new} -o md"),
    ("exposure (summary)", "exposure {old}"),
    ("exposure --full", "exposure {old} --full"),
    ("exposure -o json", "exposure {old} -o json"),
    ("lint", "lint {old} --fail-on never"),
    ("lint -o json", "lint {old} -o json --fail-on never"),
    ("lint -o sarif", "lint {old} -o sarif --fail-on never"),
    ("graph -o json", "graph {old} -o json"),
    ("graph -o svg", "graph {old} -o svg"),
    ("graph -o dot", "graph {old} -o dot"),
    ("graph -o mermaid", "graph {old} -o mermaid"),
    ("graph --namespaces -o svg", "graph {old} --namespaces -o svg"),
    ("report (html)", "report {old} --out -"),
    ("report -o json", "report {old} -o json --out -"),
]


@dataclass
class Row:
    name: str
    argv: list[str]
    size: int = 0
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.cpu)


def ensure_changed(pods: int) -> Path:
    """The same pods as ensure_input(pods, "yaml"), with a quarter more policies."""
    target = OUT / f"pods-{pods}-yaml-more-policies"
    marker = target / ".complete"
    if not marker.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--pods", str(pods),
                        "--out", str(target), "--policies-per-pod", "0.25"], check=True)
        marker.write_text("ok")
    return target


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict[str, str], count: bool) -> tuple[float, int]:
    """CPU seconds of the whole process (and its children), and the bytes it wrote when
    `count` (through a pipe; else stdout is /dev/null)."""
    before = child_cpu()
    size = 0
    if count:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 20):
            size += len(chunk)
        err = proc.stderr.read() if proc.stderr else b""
        rc = proc.wait()
    else:
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                              check=False)
        rc, err = done.returncode, done.stderr
    if rc != 0:
        raise SystemExit(f"{shlex.join(argv)} exited {rc}:\n{err.decode(errors='replace')}")
    return child_cpu() - before, size


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--pods", type=int, default=1000, help="pods (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (median; default 3)")
    parser.add_argument("--podwall", help="the podwall executable")
    parser.add_argument("--only", help="a regular expression: only the outputs it finds "
                        f"(and {BASE!r})")
    args = parser.parse_args(argv)
    podwall = args.podwall
    for candidate in (HERE.parent / ".venv" / "bin" / "podwall",
                      HERE.parent / ".venv-test" / "bin" / "podwall"):
        if podwall is None and candidate.exists():
            podwall = str(candidate)
    podwall = podwall or shutil.which("podwall")
    if podwall is None:
        raise SystemExit("no podwall: run scripts/install.sh or pass --podwall")
    old, new = ensure_input(args.pods, "yaml"), ensure_changed(args.pods)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    rows = [Row(name, [podwall, *(a.format(old=old, new=new) for a in line.split())])
            for name, line in OUTPUTS
            if name == BASE or args.only is None or re.search(args.only, name)]
    load_before = load()
    for row in rows:  # untimed: exit status, bytes, bytecode
        _, row.size = run(row.argv, env, count=True)
    for _ in range(args.repeat):
        for row in rows:
            row.cpu.append(run(row.argv, env, count=False)[0])
    load_after = load()

    base = next(r for r in rows if r.name == BASE).median
    print(f"{args.pods} pods; podwall {podwall}; CPU s (user+sys, children included), median "
          f"of {args.repeat}; load average {load_before} before, {load_after} after\n")
    print(f"| output | bytes | CPU s | × `{BASE}` | ≤ {TARGET:g}× |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        ratio = row.median / base
        print(f"| `{row.name}` | {row.size:,} | {row.median:.2f} | {ratio:.2f} | "
              f"{'yes' if ratio <= TARGET else '**no**'} |")
    print(json.dumps({"pods": args.pods, "podwall": podwall, "load_before": load_before,
                      "load_after": load_after,
                      "rows": [{"name": r.name, "argv": r.argv, "bytes": r.size, "cpu": r.cpu}
                               for r in rows]}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
