"""Paths -> validated cluster snapshot with every diagnostic."""

from __future__ import annotations

from dataclasses import dataclass

from podwall.errors import Diagnostic, InputError
from podwall.manifests.convert import convert
from podwall.manifests.documents import read_paths
from podwall.model import DEFAULT_POD_CIDR, Cluster, build_cluster


@dataclass(frozen=True, slots=True)
class LoadResult:
    cluster: Cluster
    diagnostics: tuple[Diagnostic, ...]
    documents: int


def load_cluster(paths: list[str], *, namespace: str = "default",
                 pod_cidr: str = DEFAULT_POD_CIDR, stdin_text: str | None = None) -> LoadResult:
    """Read, validate and assemble. Raises InputError only when the input cannot be used at all
    (a missing path, an unusable --pod-cidr); every problem inside the input is a diagnostic."""
    read = read_paths(paths, stdin_text=stdin_text)
    converted = convert(read.documents, namespace)
    diagnostics = [*read.diagnostics, *converted.diagnostics]
    try:
        cluster = build_cluster(converted.namespaces, converted.endpoints, converted.policies,
                                pod_cidr=pod_cidr, diagnostics=diagnostics)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    diagnostics.sort(key=lambda x: (x.file or "", x.line or 0))
    return LoadResult(cluster, tuple(diagnostics), len(read.documents))
