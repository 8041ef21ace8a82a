"""Paths -> validated cluster snapshot with every diagnostic.

Large YAML inputs are parsed and converted in worker processes (one per core): libyaml parses in
C but building objects and validating them is Python, and CPU-bound. Results are merged in input
order, so the outcome is identical to a sequential load. The cyclic garbage collector is paused
while loading (nothing loaded forms cycles; walking millions of objects again and again would
only cost time).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from podwall.errors import Diagnostic, InputError
from podwall.manifests.convert import Converted, convert, deduplicate
from podwall.manifests.documents import (
    ReadResult,
    list_inputs,
    read_source,
    read_text_file,
    split_documents,
)
from podwall.model import DEFAULT_POD_CIDR, Cluster, build_cluster

PARALLEL_MIN_BYTES = 2_000_000  # below this, starting workers costs more than it saves


@dataclass(frozen=True, slots=True)
class LoadResult:
    cluster: Cluster
    diagnostics: tuple[Diagnostic, ...]
    documents: int


@dataclass(frozen=True, slots=True)
class _Unit:
    name: str
    text: str
    line_offset: int
    namespace: str


@dataclass(frozen=True, slots=True)
class _Done:
    documents: int
    converted: Converted


def _work(unit: _Unit) -> _Done:
    read = ReadResult()
    read_source(unit.name, unit.text, read, unit.line_offset)
    converted = convert(read.documents, unit.namespace)
    converted.diagnostics[:0] = read.diagnostics
    return _Done(len(read.documents), converted)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def load_cluster(paths: list[str], *, namespace: str = "default",
                 pod_cidr: str = DEFAULT_POD_CIDR, stdin_text: str | None = None,
                 jobs: int | None = None) -> LoadResult:
    """Read, validate and assemble. Raises InputError only when the input cannot be used at all
    (a missing path, an unusable --pod-cidr); every problem inside the input is a diagnostic.

    `jobs` caps the worker processes for large inputs (default: the usable cores, at most 8).
    """
    # Loading allocates millions of objects and frees none of them in cycles: the cyclic
    # collector would only walk them again and again (it more than doubles the time of a 100k-pod
    # load). It is off while loading and restored afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(paths, namespace, pod_cidr, stdin_text, jobs)
    finally:
        if collecting:
            gc.enable()


def _load(paths: list[str], namespace: str, pod_cidr: str, stdin_text: str | None,
          jobs: int | None) -> LoadResult:
    read_problems = ReadResult()
    sources: list[tuple[str, str]] = []
    for name in list_inputs(paths):
        if name == "-":
            sources.append(("<stdin>", stdin_text if stdin_text is not None else sys.stdin.read()))
            continue
        text = read_text_file(Path(name), read_problems)
        if text is not None:
            sources.append((name, text))

    workers = jobs if jobs is not None else _workers()
    yaml_bytes = sum(len(text) for name, text in sources if not _is_json(name, text))
    parallel = workers > 1 and yaml_bytes >= PARALLEL_MIN_BYTES and _can_fork()
    parts: list[_Done]
    if not parallel:
        parts = [_work(_Unit(name, text, 0, namespace)) for name, text in sources]
    else:
        parts = _load_parallel(sources, namespace, workers, yaml_bytes)

    merged = deduplicate([p.converted for p in parts])
    diagnostics = [*read_problems.diagnostics, *merged.diagnostics]
    try:
        cluster = build_cluster(merged.namespaces, merged.endpoints, merged.policies,
                                pod_cidr=pod_cidr, diagnostics=diagnostics)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    diagnostics.sort(key=lambda x: (x.file or "", x.line or 0))
    return LoadResult(cluster, tuple(diagnostics), sum(p.documents for p in parts))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _is_json(name: str, text: str) -> bool:
    return name.endswith(".json") and text.lstrip().startswith(("{", "["))


def _load_parallel(sources: list[tuple[str, str]], namespace: str, workers: int,
                   yaml_bytes: int) -> list[_Done]:
    """YAML is cut at `---` lines into pieces that forked workers parse and convert, while this
    process converts the JSON files (json.loads is C already, and shipping the objects back from
    a worker costs more than converting them here). Results keep the input order."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        remote: list[Future[_Done] | None] = []
        local: list[tuple[int, _Unit]] = []
        for name, text in sources:
            if _is_json(name, text):
                local.append((len(remote), _Unit(name, text, 0, namespace)))
                remote.append(None)
                continue
            pieces = max(1, round(len(text) / yaml_bytes * workers * 4))
            for offset, chunk in split_documents(text, pieces):
                remote.append(pool.submit(_work, _Unit(name, chunk, offset, namespace)))
        done: dict[int, _Done] = {index: _work(unit) for index, unit in local}
        return [done[i] if future is None else future.result() for i, future in enumerate(remote)]
