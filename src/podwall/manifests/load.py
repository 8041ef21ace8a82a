"""Paths -> validated cluster snapshot with every diagnostic.

Large inputs are parsed and converted in worker processes (one per core): libyaml parses in C
but building objects and validating them is Python, and CPU-bound. Results are merged in input
order, so the outcome is identical to a sequential load.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from podwall.errors import Diagnostic, InputError
from podwall.manifests.convert import Converted, convert, deduplicate
from podwall.manifests.documents import (
    Document,
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


_FORKED_DOCUMENTS: list[Document] = []


def _convert_range(bounds: tuple[int, int, str]) -> _Done:
    start, end, namespace = bounds
    docs = _FORKED_DOCUMENTS[start:end]
    return _Done(len(docs), convert(docs, namespace))


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
    (a missing path, an unusable --pod-cidr); every problem inside the input is a diagnostic."""
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
    total = sum(len(text) for _, text in sources)
    parallel = workers > 1 and total >= PARALLEL_MIN_BYTES and _can_fork()
    parts: list[_Done]
    if not parallel:
        parts = [_work(_Unit(name, text, 0, namespace)) for name, text in sources]
    else:
        parts = _load_parallel(sources, namespace, workers, total)

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


def _load_parallel(sources: list[tuple[str, str]], namespace: str, workers: int,
                   total: int) -> list[_Done]:
    global _FORKED_DOCUMENTS
    yaml_units: list[_Unit] = []
    json_docs: list[Document] = []
    json_problems = ReadResult()
    order: list[tuple[str, int]] = []  # ("yaml", unit index) or ("json", -1), in input order
    for name, text in sources:
        if name.endswith(".json") and text.lstrip().startswith(("{", "[")):
            read_source(name, text, json_problems)  # json.loads is C: parse here, convert there
            order.append(("json", -1))
            continue
        pieces = max(1, round(len(text) / total * workers * 4))
        for offset, chunk in split_documents(text, pieces):
            order.append(("yaml", len(yaml_units)))
            yaml_units.append(_Unit(name, chunk, offset, namespace))
    json_docs = json_problems.documents
    context = multiprocessing.get_context("fork")
    _FORKED_DOCUMENTS = json_docs
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yaml_done = list(pool.map(_work, yaml_units, chunksize=1))
            step = max(1, len(json_docs) // (workers * 4) + 1)
            ranges = [(i, min(i + step, len(json_docs)), namespace)
                      for i in range(0, len(json_docs), step)]
            json_done = list(pool.map(_convert_range, ranges, chunksize=1))
    finally:
        _FORKED_DOCUMENTS = []
    parts: list[_Done] = []
    json_emitted = False
    for kind, index in order:
        if kind == "yaml":
            parts.append(yaml_done[index])
        elif not json_emitted:
            json_emitted = True
            parts.append(_Done(0, Converted(diagnostics=list(json_problems.diagnostics))))
            parts.extend(json_done)
    return parts
