"""The live-cluster options every understanding verb takes, and the live load behind no PATH.

`--kubeconfig` and `--context` are accepted on the command and before it (`kubectl podwall
--context prod check ...`, which is how kubectl passes flags to a plugin). Their values go to
the click context's `meta`, which nested contexts share, so no verb's signature has to carry
them: `load` reads them when it is given no PATH.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_META = "podwall.cluster"


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:  # a value given before the verb stays unless the verb repeats it
        ctx.meta.setdefault(_META, {})[param.name or ""] = value


def cluster_options(func: F) -> F:
    """--kubeconfig and --context (read only when no PATH is given)."""
    func = click.option("--context", "context", metavar="NAME", expose_value=False,
                        callback=_remember, is_eager=True,
                        help="With no PATH: the kubeconfig context to read (default: the "
                             "current context).")(func)
    func = click.option("--kubeconfig", "kubeconfig", metavar="FILE", expose_value=False,
                        callback=_remember, is_eager=True,
                        help="With no PATH: the kubeconfig to use (default: $KUBECONFIG, "
                             "then ~/.kube/config, then the in-cluster service account).")(func)
    return func


def chosen() -> tuple[str | None, str | None]:
    """(kubeconfig, context) as given on the command line, if at all."""
    ctx = click.get_current_context(silent=True)
    given: dict[str, str] = ctx.meta.get(_META, {}) if ctx is not None else {}
    return given.get("kubeconfig"), given.get("context")


def read_live() -> Any:
    """Resolve the target and read it, with a progress line on a terminal (a large cluster
    takes seconds). Returns the LiveRead."""
    from podwall.cluster import read_cluster, resolve

    kubeconfig, context = chosen()
    target = resolve(kubeconfig, context)
    if not sys.stderr.isatty():
        return read_cluster(target)
    line = _ProgressLine(f"reading cluster {target.context}")
    try:
        return read_cluster(target, progress=line.update)
    finally:
        line.clear()


def load_live(pod_cidr: str, *, service_cidr: str | None = None, implied: bool = False) -> Any:
    """The live cluster as a LoadResult, as files would give it."""
    from podwall.cli.common import Spinner
    from podwall.cluster import to_cluster
    from podwall.model import DEFAULT_SERVICE_CIDR

    read = read_live()
    with Spinner("validating what was read"):
        return to_cluster(read, pod_cidr=pod_cidr, service_cidr=service_cidr or DEFAULT_SERVICE_CIDR,
                          implied=implied)


class _ProgressLine:
    """`reading cluster kind-dev: 4/11 kinds, 12,345 objects…` on stderr, erased at the end."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.shown = False

    def update(self, progress: Any) -> None:
        self.shown = True
        sys.stderr.write(f"\r\x1b[K{self.message}: {progress.kinds_done}/{progress.kinds} kinds, "
                         f"{progress.objects:,} objects…")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
