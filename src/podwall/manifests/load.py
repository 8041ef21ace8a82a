"""Paths -> validated cluster snapshot with every diagnostic.

Large inputs are read on every core: YAML is cut at `---` lines and large JSON Lists at item
boundaries (see documents.split_json_items) into pieces of about a megabyte; forked workers take
pieces from the front of the list while this process takes them from the back, so the cores stay
busy to the end and what this process reads never has to be shipped. A worker's result comes back
pickled with a pickler that writes each model object as its class and field values (a frozen
dataclass's own pickling calls `dataclasses.fields` for every object, several times slower).
Results are merged in input order, so the outcome is identical to a sequential load.

The cyclic garbage collector is paused while loading (nothing loaded forms cycles; walking
millions of objects again and again would only cost time).
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import gc
import io
import json
import operator
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from podwall.errors import Diagnostic, InputError
from podwall.manifests.convert import Converted, convert, deduplicate
from podwall.manifests.documents import (
    JsonSplit,
    ListContext,
    ReadResult,
    json_root_is_list,
    list_context,
    looks_like_json,
    read_json_located,
    read_json_part,
    read_source,
    split_documents,
    split_json_items,
)
from podwall.manifests.fields import FieldValidation
from podwall.manifests.inputs import STDIN_NAME, list_inputs, read_stdin, read_text_file
from podwall.model import (
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
    Cluster,
    ContainerPort,
    Endpoint,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Service,
    ServicePort,
    Source,
    build_cluster,
)

PARALLEL_MIN_BYTES = 2_000_000  # below this, starting workers costs more than it saves
PIECE_BYTES = 1_000_000  # the unit of work: small enough to balance, large enough to be cheap


@dataclass(frozen=True, slots=True)
class LoadResult:
    cluster: Cluster
    diagnostics: tuple[Diagnostic, ...]
    documents: int


@dataclass(frozen=True, slots=True)
class _Unit:
    """One piece of work: source `source` (an index into the sources), characters start..end.

    `json` pieces are item ranges of a JSON List; YAML pieces begin at line `line_offset` with
    document number `first_index`; a whole-file unit (end None) reads the file as ever, and the
    small files after it up to `last_source` too (one unit, not one task per small file).
    """

    source: int
    start: int = 0
    end: int | None = None
    line_offset: int = 0
    first_index: int = 0
    json: bool = False
    last_source: int | None = None
    of_list: ListContext | None = None  # a JSON piece: the List it is items of (as guessed)


@dataclass(frozen=True, slots=True)
class _Done:
    documents: int
    converted: Converted
    json_end: int | None = None  # a JSON piece: where it ended (None: it did not end as cut)
    json_duplicates: bool = False
    failed: bool = False  # lost with a worker that died: reported, not to be read again
    json_items: int = 0  # a JSON piece: how many items it held


_Source = tuple[str, str]  # (name as reported, text)


class _Settings(NamedTuple):
    """How documents become objects: convert()'s arguments after the documents."""

    namespace: str
    validation: FieldValidation


def _work(unit: _Unit, sources: list[_Source], settings: _Settings) -> _Done:
    if unit.json:
        name, text = sources[unit.source]
        assert unit.end is not None
        read = ReadResult()
        ended = read_json_part(name, text, unit.start, unit.end, read, unit.of_list)
        converted = convert(read.documents, *settings)
        if ended is None:
            return _Done(len(read.documents), converted)
        json_end, duplicates, items = ended
        if _needs_lines(converted):
            again = ReadResult()
            if read_json_located(name, text, again, unit.start, json_end, items=True,
                                 of_list=unit.of_list):
                converted = convert(again.documents, *settings)
        return _Done(len(read.documents), converted, json_end, duplicates, json_items=items)
    if unit.end is not None:
        name, text = sources[unit.source]
        return _read_one(name, text[unit.start:unit.end], settings, unit.line_offset,
                         unit.first_index)
    last = unit.source if unit.last_source is None else unit.last_source
    done = [_read_one(name, text, settings) for name, text in sources[unit.source:last + 1]]
    if len(done) == 1:
        return done[0]
    merged = Converted()
    for part in done:
        merged.namespaces += part.converted.namespaces
        merged.endpoints += part.converted.endpoints
        merged.policies += part.converted.policies
        merged.cluster_policies += part.converted.cluster_policies
        merged.services += part.converted.services
        merged.diagnostics += part.converted.diagnostics
    return _Done(sum(d.documents for d in done), merged)


def _read_one(name: str, text: str, settings: _Settings, line_offset: int = 0,
              first_index: int = 0) -> _Done:
    """One file (or a slice of one) read and converted on its own: whatever happens in it, the
    files beside it still load. A JSON file whose objects have something to report is read again
    with lines, so its diagnostics point at them."""
    read = ReadResult()
    try:
        read_source(name, text, read, line_offset, first_index)
        converted = convert(read.documents, *settings)
        if _is_json(name, text) and _needs_lines(converted):
            again = ReadResult()
            if read_json_located(name, text, again):
                converted = convert(again.documents, *settings)
    except RecursionError:
        return _Done(0, Converted(diagnostics=[Diagnostic("nests too deeply to read", file=name)]))
    except Exception as exc:  # pragma: no cover - a bug: this file says so, the others load
        return _Done(0, Converted(diagnostics=[Diagnostic(
            f"podwall could not read this file (a bug, please report it): "
            f"{type(exc).__name__}: {exc}", file=name)]))
    converted.diagnostics[:0] = read.diagnostics
    return _Done(len(read.documents), converted)


def _needs_lines(converted: Converted) -> bool:
    return any(d.line is None for d in converted.diagnostics)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def load_cluster(paths: list[str], *, namespace: str = "default",
                 pod_cidr: str = DEFAULT_POD_CIDR, stdin_text: str | None = None,
                 jobs: int | None = None,
                 field_validation: FieldValidation = FieldValidation.STRICT,
                 command: str = "podwall validate", service_cidr: str = DEFAULT_SERVICE_CIDR,
                 implied: bool = False) -> LoadResult:
    """Read, validate and assemble. Raises InputError only when the input cannot be used at all
    (a missing path, an unusable --pod-cidr); every problem inside the input is a diagnostic.

    `jobs` caps the processes for large inputs (default: the usable cores, at most 8).
    `field_validation` says what an unknown field is (see fields.py): an error by default.
    `command` is how messages that suggest a pipe into podwall spell the command.
    `implied` adds the kube-dns every cluster has when the input has none (model.implied).
    """
    # Loading allocates millions of objects and frees none of them in cycles: the cyclic
    # collector would only walk them again and again (it more than doubles the time of a 100k-pod
    # load). It is off while loading and restored afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(paths, _Settings(namespace, field_validation), pod_cidr, stdin_text, jobs,
                     command, service_cidr, implied)
    finally:
        if collecting:
            gc.enable()


def _load(paths: list[str], settings: _Settings, pod_cidr: str, stdin_text: str | None,
          jobs: int | None, command: str, service_cidr: str, implied: bool) -> LoadResult:
    read_problems = ReadResult()
    sources: list[_Source] = []
    for name in list_inputs(paths, read_problems.diagnostics, command):
        if name == "-":
            text = stdin_text if stdin_text is not None else read_stdin(read_problems.diagnostics)
            name = STDIN_NAME
        else:
            text = read_text_file(Path(name), read_problems.diagnostics)
        if text is not None:
            sources.append((name, text))

    workers = jobs if jobs is not None else _workers()
    size = sum(len(text) for _, text in sources)
    if workers > 1 and size >= PARALLEL_MIN_BYTES and _can_fork():
        parts = _load_parallel(sources, settings, workers)
    else:
        parts = [_work(_Unit(0, last_source=len(sources) - 1), sources, settings)] if sources else []

    merged = deduplicate([p.converted for p in parts])
    diagnostics = [*read_problems.diagnostics, *merged.diagnostics]
    try:
        cluster = build_cluster(merged.namespaces, merged.endpoints, merged.policies,
                                pod_cidr=pod_cidr, diagnostics=diagnostics,
                                cluster_policies=merged.cluster_policies,
                                services=merged.services, service_cidr=service_cidr,
                                implied=implied)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    diagnostics.sort(key=lambda x: (x.file or "", x.line or 0))
    return LoadResult(cluster, tuple(diagnostics), sum(p.documents for p in parts))


def _can_fork() -> bool:
    import multiprocessing  # here, not at the top: small inputs never start a pool

    return "fork" in multiprocessing.get_all_start_methods()


def _is_json(name: str, text: str) -> bool:
    return looks_like_json(name, text)


# -- the parallel load -----------------------------------------------------------------------------

def _plan(sources: list[_Source]) -> tuple[list[_Unit], dict[int, tuple[JsonSplit, list[int]]]]:
    """The pieces of every source, in input order, and for each JSON file read in parts its
    split and the indexes of its pieces."""
    units: list[_Unit] = []
    json_files: dict[int, tuple[JsonSplit, list[int]]] = {}
    batch: list[int] = []  # consecutive small files, read as one unit
    batch_size = 0

    def flush() -> None:
        nonlocal batch_size
        if batch:
            units.append(_Unit(batch[0], last_source=batch[-1]))
            batch.clear()
            batch_size = 0

    for index, (name, text) in enumerate(sources):
        if len(text) < PIECE_BYTES // 2:
            batch.append(index)
            batch_size += len(text)
            if batch_size >= PIECE_BYTES:
                flush()
            continue
        flush()
        pieces = max(1, round(len(text) / PIECE_BYTES))
        if _is_json(name, text):
            split = split_json_items(text, pieces) if pieces > 1 else None
            if split is None:
                units.append(_Unit(index))
                continue
            first = len(units)
            of_list = _guess_list(text, split)
            units.extend(_Unit(index, start, end, json=True, of_list=of_list)
                         for start, end in split.parts)
            json_files[index] = (split, list(range(first, len(units))))
            continue
        for line, start, end, document in split_documents(text, pieces):
            units.append(_Unit(index, start, end, line, document))
    flush()
    return units, json_files


def _load_parallel(sources: list[_Source], settings: _Settings, workers: int) -> list[_Done]:
    units, json_files = _plan(sources)
    results = _run(units, sources, settings, workers)
    # A JSON file read in parts counts only if every part ended where the next began and the
    # root is a plain List without duplicate keys; otherwise it is read whole, here.
    for index, (split, members) in json_files.items():
        done = [results[i] for i in members]
        if any(d.failed for d in done):
            continue  # reported; reading it whole here could only fail the same way
        last = done[-1].json_end
        guessed = units[members[0]].of_list
        if (any(d.json_end is None or d.json_duplicates for d in done) or last is None
                or not json_root_is_list(sources[index][1], split, last, guessed)):
            whole = _work(_Unit(index), sources, settings)
            results[members[0]] = whole
            for i in members[1:]:
                results[i] = _Done(0, Converted())
            continue
        offset = 0
        for part in done:
            if offset:
                _move_items(part.converted, offset)
            offset += part.json_items
    return results


_KIND_MEMBER = re.compile(r'"(kind|apiVersion)"[ \t\n\r]*:[ \t\n\r]*"((?:[^"\\]|\\.)*)"')
_TAIL = 4096  # where a List's members after its items are looked for


def _guess_list(text: str, split: JsonSplit) -> ListContext:
    """The List's kind and apiVersion, which its items may take (see documents._expand_items):
    from its members before `items` or, as `kubectl get -o json` writes them (sorted: items
    before kind), from the last ones in its text. Only a guess: json_root_is_list holds it to
    the root as read, and the file is read whole when it was wrong."""
    members = dict(split.head)
    for key, value in reversed(_KIND_MEMBER.findall(text[-_TAIL:])):  # the root's come last
        with contextlib.suppress(ValueError):
            members.setdefault(key, json.loads(f'"{value}"'))
    return list_context(members.items())


_ITEM_PATH = re.compile(r"items\[([0-9]+)\]")


def _move_items(converted: Converted, offset: int) -> None:
    """A part's diagnostics count its items from 0 (`items[0]`): move them after the parts
    before it."""
    def moved(match: re.Match[str]) -> str:
        return f"items[{int(match.group(1)) + offset}]"

    converted.diagnostics[:] = [
        dataclasses.replace(d, path=_ITEM_PATH.sub(moved, d.path, count=1))
        if d.path and d.path.startswith("items[") else d for d in converted.diagnostics]


_SOURCES: list[_Source] = []  # a worker's copy of the sources (inherited when it is forked)
_SETTINGS = _Settings("default", FieldValidation.STRICT)


def _adopt(sources: list[_Source], settings: _Settings) -> None:
    """Worker initializer: forked workers receive the sources without any pickling."""
    global _SOURCES, _SETTINGS
    _SOURCES, _SETTINGS = sources, settings
    gc.disable()  # as in the parent: nothing read here forms cycles


def _work_remote(unit: _Unit) -> bytes:
    return _dumps(_work(unit, _SOURCES, _SETTINGS))


def _run(units: list[_Unit], sources: list[_Source], settings: _Settings,
         workers: int) -> list[_Done]:
    """Every unit's result, in order: pool workers take units from the front (a few queued
    each), this process takes them from the back.

    A worker that dies (the kernel's OOM killer, say) takes the pool with it: the units it had
    not returned are reported as errors, never read again here. An input that exhausted a
    worker's memory would exhaust this process too, and lose every result with it."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    results: list[_Done | None] = [None] * len(units)
    helpers = workers - 1
    context = multiprocessing.get_context("fork")
    lo, hi = 0, len(units)
    broken: str | None = None
    try:
        with ProcessPoolExecutor(max_workers=helpers, mp_context=context, initializer=_adopt,
                                 initargs=(sources, settings)) as pool:
            pending: dict[Future[bytes], int] = {}
            while lo < hi or pending:
                while lo < hi and len(pending) < 2 * helpers:
                    pending[pool.submit(_work_remote, units[lo])] = lo
                    lo += 1
                if lo < hi:
                    hi -= 1
                    results[hi] = _work(units[hi], sources, settings)
                else:
                    wait(pending, return_when=FIRST_COMPLETED)
                for future in [f for f in pending if f.done()]:
                    results[pending.pop(future)] = pickle.loads(future.result())
    except BrokenProcessPool as exc:
        broken = str(exc) or "a worker process died"
    for i, result in enumerate(results):
        if result is None:  # never started, or lost with a dead worker
            name = sources[units[i].source][0]
            results[i] = _Done(0, Converted(diagnostics=[Diagnostic(
                f"not read: {broken or 'a worker process died'} (killed for lack of memory?)",
                file=name)]), failed=True)
    return [r for r in results if r is not None]


# -- shipping results from workers -----------------------------------------------------------------

def _field_reducer(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """(cls, field values): unpickling calls the class, as code does."""
    names = [f.name for f in dataclasses.fields(cls)]
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (cls, (get(obj),))
    return lambda obj: (cls, get(obj))


_REDUCERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    cls: _field_reducer(cls)
    for cls in (Endpoint, Namespace, NetworkPolicy, Rule, Peer, IPBlock, LabelSelector,
                Requirement, PolicyPort, ContainerPort, Source, Diagnostic, Converted, _Done,
                Service, ServicePort)
}


class _Pickler(pickle.Pickler):
    """Writes the model's dataclasses as (class, field values)."""

    dispatch_table = copyreg.dispatch_table

    def reducer_override(self, obj: Any) -> Any:
        reduce = _REDUCERS.get(type(obj))
        return NotImplemented if reduce is None else reduce(obj)


def _dumps(obj: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()
