#!/usr/bin/env python3
"""podwall vs network-config-analyzer (nca): whole-process time for all-pairs connectivity.

    python3 benchmarks/bench_nca.py [--sizes 1000,5000] [--repeat 1] [--timeout 1800]

Why: the targets are podwall >= 50x faster than nca at 1k pods and >= 100x at 5k. This runs
both command-line tools on the same generated manifests (benchmarks/generate.py via
bench_engine.ensure_input: Namespaces, Pods and NetworkPolicies in multi-document YAML, which
nca reads as is) and times each whole process, wall clock, one after the other.

  podwall: `podwall matrix DIR -o json` > /dev/null — the verdict of every pod pair on every
           port that any container or policy names (podwall's default port set).
  nca:     `nca --connectivity -r DIR` > file — the connectivity map over all protocols and
           ports (policies and pods both read from DIR), printed as firewall rules.

nca is installed with pip into its own venv (default benchmarks/out/nca-venv, created on first
run and reused while `nca --version` works), never into podwall's environment. podwall is the
one a user installs: `.venv/bin/podwall` from `bash scripts/install.sh` (a regular install, its
bytecode compiled), else `--podwall`, else `podwall` on PATH. Figures are medians of --repeat runs; an nca
run longer than --timeout seconds is killed and reported as a lower bound on the ratio. Logs
and nca's output go to benchmarks/out/nca-bench/.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import OUT, ensure_input  # noqa: E402

TARGETS = {1000: 50.0, 5000: 100.0}  # pods -> required speed-up (nca time / podwall time)
KIND = re.compile(r"^kind: (\S+)$", re.MULTILINE)
ENDPOINTS = re.compile(r"cluster has (\d+) unique endpoints")


@dataclass
class Row:
    pods: int
    counts: Counter[str]
    podwall: list[tuple[float, float]] = field(default_factory=list)  # (wall, CPU) per run
    nca: list[tuple[float, float]] = field(default_factory=list)
    timed_out: bool = False
    nca_endpoints: int | None = None


def ensure_nca(venv: Path, spec: str) -> tuple[Path, str]:
    """The nca executable in `venv` (created and installed if needed) and its version line."""
    nca = venv / "bin" / "nca"
    probe = [str(nca), "--version"]
    if nca.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        print(f"reusing nca venv {venv}", file=sys.stderr)
    else:
        print(f"installing {spec} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", spec], check=True)
    return nca, subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def timed(cmd: list[str], stdout: Path, stderr: Path,
          timeout: float | None) -> tuple[float, float] | None:
    """(wall-clock, CPU) seconds of the whole process; None if it ran past `timeout` (killed).

    CPU (user+sys, children included) is reported too: it is what contention from other work
    on the machine disturbs least.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise SystemExit(f"{shlex.join(cmd)} exited {rc}; see {stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def kinds(directory: Path) -> Counter[str]:
    return Counter(k for f in sorted(directory.glob("*.yaml"))
                   for k in KIND.findall(f.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--sizes", default="1000,5000", help="pod counts (default 1000,5000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and size (median)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds before an nca run is killed (default 1800)")
    parser.add_argument("--venv", type=Path, default=OUT / "nca-venv", help="venv for nca")
    parser.add_argument("--nca-spec", default="network-config-analyzer",
                        help="what pip installs into the venv (e.g. network-config-analyzer==2.1.0)")
    parser.add_argument("--podwall", help="the podwall executable (default: .venv/bin/podwall "
                        "from scripts/install.sh, else podwall on PATH)")
    args = parser.parse_args(argv)
    installed = HERE.parent / ".venv" / "bin" / "podwall"
    podwall = args.podwall or (str(installed) if installed.exists() else shutil.which("podwall"))
    if podwall is None:
        parser.error("no podwall: run `bash scripts/install.sh` first")
    nca, nca_version = ensure_nca(args.venv, args.nca_spec)
    logs = OUT / "nca-bench"
    logs.mkdir(parents=True, exist_ok=True)

    rows: list[Row] = []
    commands: list[str] = []
    for pods in (int(s) for s in args.sizes.split(",")):
        data = ensure_input(pods, "yaml")
        pw_cmd = [podwall, "matrix", str(data), "-o", "json"]
        nca_cmd = [str(nca), "--connectivity", "-r", str(data)]
        nca_out = logs / f"nca-{pods}.txt"
        commands += [f"{shlex.join(pw_cmd)} > /dev/null", f"{shlex.join(nca_cmd)} > {nca_out}"]
        row = Row(pods, kinds(data))
        for i in range(args.repeat):
            pw = timed(pw_cmd, Path(os.devnull), logs / f"podwall-{pods}.err", None)
            assert pw is not None  # podwall runs without a timeout
            row.podwall.append(pw)
            nc = timed(nca_cmd, nca_out, logs / f"nca-{pods}.err", args.timeout)
            print(f"{pods} pods, run {i + 1}: podwall {pw[0]:.2f} s, nca "
                  f"{'timed out' if nc is None else f'{nc[0]:.2f} s'}", file=sys.stderr)
            if nc is None:
                row.timed_out = True
                break  # more runs would only time out again
            row.nca.append(nc)
        seen = ENDPOINTS.search(nca_out.read_text(encoding="utf-8", errors="replace"))
        row.nca_endpoints = int(seen[1]) if seen else None
        rows.append(row)

    print(f"podwall vs {nca_version}: whole process, wall clock, median of {args.repeat} "
          f"(CPU = user+sys), on {os.cpu_count()} CPUs\n")
    print("| pods | policies | podwall s | nca s | ratio (nca/podwall) | target | met? "
          "| podwall CPU s | nca CPU s | CPU ratio |")
    print("|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|")
    for row in rows:
        pw_wall, pw_cpu = (statistics.median(r[k] for r in row.podwall) for k in (0, 1))
        target = TARGETS.get(row.pods)
        if row.timed_out:
            ratio = args.timeout / pw_wall
            cells = [f"timed out after {args.timeout:g} s", f"≥ {ratio:.1f}×"]
            cpu_cells = ["—", "—"]
        else:
            nca_wall, nca_cpu = (statistics.median(r[k] for r in row.nca) for k in (0, 1))
            ratio = nca_wall / pw_wall
            cells = [f"{nca_wall:.2f}", f"{ratio:.1f}×"]
            cpu_cells = [f"{nca_cpu:.2f}", f"{nca_cpu / pw_cpu:.1f}×"]
        met = ("—" if target is None else "yes" if ratio >= target else
               "unknown" if row.timed_out else "no")
        print(f"| {row.pods} | {row.counts['NetworkPolicy']} | {pw_wall:.2f} | {cells[0]} "
              f"| {cells[1]} | {'—' if target is None else f'≥ {target:g}×'} | {met} "
              f"| {pw_cpu:.2f} | {cpu_cells[0]} | {cpu_cells[1]} |")

    print("\nWhat each tool computes:")
    print("- podwall: `matrix -o json`, the verdict for every ordered pod pair on every port any "
          "container or policy names (its default ports), written to /dev/null.")
    print("- nca: `--connectivity`, the connectivity map over all protocols and ports "
          "(firewall-rule form). Its 'Missing named port X in the pod P. Ignoring the pod' "
          "warnings mean that one rule's named port does not apply to P, not that P is dropped.")
    print("Inputs: the generated directories as they are, for both tools (nca reads "
          "multi-document YAML; nothing dropped):")
    for row in rows:
        note = "" if row.nca_endpoints == row.counts["Pod"] else " (differs from the pod count!)"
        print(f"- {row.pods} pods: " + ", ".join(f"{k} {n}" for k, n in sorted(row.counts.items()))
              + f"; nca reported {row.nca_endpoints or '?'} endpoints{note}")
    print("\nCommands (podwall first, then nca, never concurrently):")
    for command in commands:
        print(f"    {command}")
    print(f"Logs and nca output: {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
