#!/usr/bin/env python3
"""Engine benchmarks: load+validate, compile, full class-level matrix, single check, updates.

    python benchmarks/bench_engine.py [--sizes 1000,10000,100000] [--format yaml|json] [--repeat 3]

Each size runs in a fresh child process so that peak RSS is that size's own. Inputs come from
benchmarks/generate.py and are cached under benchmarks/out/. Figures are medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"


def ensure_input(pods: int, fmt: str) -> Path:
    target = OUT / f"pods-{pods}-{fmt}"
    marker = target / ".complete"
    if not marker.exists():
        print(f"generating {pods} pods ({fmt}) into {target} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--pods", str(pods),
                        "--out", str(target), "--format", fmt], check=True)
        marker.write_text("ok")
    return target


def measure(path: str, checks: int) -> dict[str, Any]:
    """Runs in the child: every figure for one input."""
    sys.path.insert(0, str(ROOT / "src"))
    from podwall.engine import Engine, default_ports
    from podwall.engine.matrix import MatrixComputer
    from podwall.errors import has_errors
    from podwall.manifests import load_cluster
    from podwall.model import PortQuery

    figures: dict[str, Any] = {}
    t0 = time.perf_counter()
    loaded = load_cluster([path], pod_cidr="10.0.0.0/8")
    figures["load_validate_s"] = time.perf_counter() - t0
    if has_errors(loaded.diagnostics):
        raise SystemExit(f"generated input is invalid: {loaded.diagnostics[:3]}")
    cluster = loaded.cluster
    figures["pods"] = len(cluster.endpoints)
    figures["policies"] = len(cluster.policies)

    t0 = time.perf_counter()
    computer = MatrixComputer(cluster)
    engine = Engine(cluster)
    figures["compile_s"] = time.perf_counter() - t0
    figures["classes"] = computer.classes.size

    ports = default_ports(cluster)
    figures["ports"] = len(ports)
    t0 = time.perf_counter()
    allowed_pairs = 0
    for port in ports:
        allowed_pairs += computer.verdicts(port).count_allowed()
    figures["matrix_s"] = time.perf_counter() - t0
    figures["allowed_class_pairs"] = allowed_pairs

    rng = random.Random(1)
    eps = cluster.endpoints
    queries = [(rng.choice(eps), rng.choice(eps), rng.choice(ports)) for _ in range(checks)]
    for src, dst, port in queries[:200]:  # warm the per-endpoint selection caches
        engine.check(src, dst, port)
    samples = []
    for src, dst, port in queries:
        t = time.perf_counter_ns()
        engine.check(src.key, dst.key, port)
        samples.append((time.perf_counter_ns() - t) / 1e6)
    samples.sort()
    figures["check_p50_ms"] = samples[len(samples) // 2]
    figures["check_p99_ms"] = samples[int(len(samples) * 0.99)]
    figures["check_cold_note"] = "after 200 warm-up queries"
    _ = PortQuery
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.checks)))
        return 0
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        path = ensure_input(size, args.format)
        runs = []
        for _ in range(args.repeat):
            proc = subprocess.run([sys.executable, __file__, "--child", str(path),
                                   "--checks", str(args.checks)],
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        med = {k: (statistics.median(r[k] for r in runs) if isinstance(runs[0][k], float)
                   else runs[0][k]) for k in runs[0]}
        rows.append(med)
        print(json.dumps(med), file=sys.stderr)
    cols = [("pods", "pods"), ("policies", "policies"), ("classes", "classes"),
            ("ports", "ports"), ("load_validate_s", "load+validate s"),
            ("compile_s", "compile s"), ("matrix_s", "matrix s"),
            ("check_p50_ms", "check p50 ms"), ("check_p99_ms", "check p99 ms"),
            ("peak_rss_mb", "peak RSS MB")]
    print(f"engine benchmark ({args.format} input, median of {args.repeat})")
    print("| " + " | ".join(c[1] for c in cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        cells = [f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k, _ in cols]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
