#!/usr/bin/env python3
"""Engine benchmarks: load+validate, compile, full class-level matrix, single check, updates.

    python benchmarks/bench_engine.py [--sizes 1000,10000,100000] [--format yaml|json] [--repeat 3]
                                      [--changes 20] [--verify 2]

Each size runs in a fresh child process so that peak RSS is that size's own. Inputs come from
benchmarks/generate.py and are cached under benchmarks/out/. Figures are medians of --repeat runs.

matrix s: the class-level verdicts of every default port (both sides' bit rows), from a compiled
cluster, and their allowed-pair count.

Updates (policy change ms, pod relabel ms): a chain of --changes random changes of one kind,
applied to the computer whose default ports are all built, each timed from the call
(`MatrixComputer.with_policy` / `.with_endpoint`) until "updated verdicts" exist: the
class-level `PortVerdicts` of every default port of the changed cluster, ready to query. Policy
changes mix modified rules, selectors and types, removals and additions; relabels mix a pod taking
another pod's labels (often joining an existing class) and a pod gaining a new label value (a new
class). --verify states of each chain, evenly spaced from the first to the last, are checked
against recomputing the changed cluster from scratch, side by side for every endpoint pair and
port; a mismatch aborts. Figures are medians over the chain (max in the JSON; the first relabel
also builds the lookup tables that later ones reuse).
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
from collections.abc import Sequence
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


def measure(path: str, checks: int, changes: int, verify: int) -> dict[str, Any]:
    """Runs in the child: every figure for one input."""
    sys.path.insert(0, str(ROOT / "src"))
    from podwall.engine import Engine, default_ports
    from podwall.engine.matrix import MatrixComputer
    from podwall.errors import has_errors
    from podwall.manifests import load_cluster

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
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if changes:
        figures.update(measure_updates(computer, ports, changes, verify))
        figures["peak_rss_with_updates_mb"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def measure_updates(computer: Any, ports: Sequence[Any], changes: int,
                    verify: int) -> dict[str, Any]:
    """Chains of policy changes and of pod relabels from `computer` (every port built)."""
    from podwall.engine.matrix import MatrixComputer, same_verdicts
    from podwall.model import build_cluster

    cluster = computer.cluster
    rng = random.Random(7)
    figures: dict[str, Any] = {}
    for name, step in (("policy_change", _policy_change), ("pod_relabel", _pod_relabel)):
        current, state = cluster, computer
        samples: list[float] = []
        checked = 0
        checkpoints = {round(i * (changes - 1) / max(verify - 1, 1)) for i in range(verify)}
        for k in range(changes):
            apply, policies, endpoints = step(rng, current)
            t0 = time.perf_counter()
            state = apply(state)
            for port in ports:
                state.verdicts(port)
            samples.append((time.perf_counter() - t0) * 1e3)
            current = build_cluster(current.namespaces.values(), endpoints, policies,
                                    pod_cidr=current.pod_cidr)
            if k in checkpoints:
                checked += 1
                if (state.cluster.policies != current.policies
                        or state.cluster.endpoints != current.endpoints
                        or not same_verdicts(state, MatrixComputer(current), ports)):
                    raise SystemExit(f"{name} {k}: incremental verdicts differ from scratch")
        figures[f"{name}_ms"] = statistics.median(samples)
        figures[f"{name}_max_ms"] = max(samples)
        figures[f"{name}_verified"] = checked
    figures["updates_note"] = (f"chains of {changes}; time to PortVerdicts of all "
                               f"{len(ports)} default ports")
    return figures


def _policy_change(rng: random.Random, cluster: Any) -> tuple[Any, list[Any], list[Any]]:
    """One random policy change: (apply to a computer, the policies after, the endpoints)."""
    from dataclasses import replace

    from podwall.model import Direction

    policies = list(cluster.policies)
    victim = rng.choice(policies)
    donor = rng.choice(policies)
    kind = rng.choice(["rules", "selector", "types", "remove", "add"])
    if kind == "remove":
        after = [p for p in policies if p.key != victim.key]
        return (lambda s: s.with_policy(victim.key, None)), after, list(cluster.endpoints)
    if kind == "add":
        new = replace(donor, namespace=victim.namespace, name=f"bench-{rng.randrange(10**9)}")
        return (lambda s: s.with_policy(None, new)), [*policies, new], list(cluster.endpoints)
    if kind == "rules":
        changed = replace(victim, ingress=(*victim.ingress[1:], *donor.ingress[:1]),
                          egress=(*victim.egress, *donor.egress[:1]))
    elif kind == "selector":
        changed = replace(victim, pod_selector=donor.pod_selector)
    else:  # both directions -> ingress only; otherwise -> both
        types = frozenset({Direction.INGRESS}) if len(victim.policy_types) == 2 else frozenset(Direction)
        changed = replace(victim, policy_types=types)
    after = [changed if p.key == victim.key else p for p in policies]
    return (lambda s: s.with_policy(victim.key, changed)), after, list(cluster.endpoints)


def _pod_relabel(rng: random.Random, cluster: Any) -> tuple[Any, list[Any], list[Any]]:
    """One random relabel: another pod's labels (same namespace), or one label value changed."""
    from dataclasses import replace

    from podwall.model import Labels

    endpoints = list(cluster.endpoints)
    index = rng.randrange(len(endpoints))
    pod = endpoints[index]
    if rng.random() < 0.5:
        peers = [e for e in endpoints if e.namespace == pod.namespace] or endpoints
        labels = rng.choice(peers).labels
    else:
        key = rng.choice(sorted(pod.labels)) if len(pod.labels) else "app"
        labels = pod.labels.with_label(key, f"relabelled-{rng.randrange(10**6)}")
    moved = replace(pod, labels=Labels(labels))
    endpoints[index] = moved
    return (lambda s: s.with_endpoint(moved)), list(cluster.policies), endpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=20,
                        help="length of each update chain (0: no update figures)")
    parser.add_argument("--verify", type=int, default=2,
                        help="states of each chain checked against recomputing from scratch")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.checks, args.changes, args.verify)))
        return 0
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        path = ensure_input(size, args.format)
        runs = []
        for _ in range(args.repeat):
            proc = subprocess.run([sys.executable, __file__, "--child", str(path),
                                   "--checks", str(args.checks), "--changes", str(args.changes),
                                   "--verify", str(args.verify)],
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
    if args.changes:
        cols += [("policy_change_ms", "policy change ms"), ("pod_relabel_ms", "pod relabel ms")]
    print(f"engine benchmark ({args.format} input, median of {args.repeat})")
    print("| " + " | ".join(c[1] for c in cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        cells = [f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k, _ in cols]
        print("| " + " | ".join(cells) + " |")
    if args.changes:
        print(f"updates: median of chains of {args.changes} changes, each until the PortVerdicts "
              f"of every default port exist; {args.verify} states per chain verified against a "
              "from-scratch computation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
