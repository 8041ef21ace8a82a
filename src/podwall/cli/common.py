"""What every verb shares: reading the input, printing diagnostics, exit codes.

Exit codes: 0 success; 1 the answer is "no" (invalid input, an `--expect` that failed, a
disagreement); 2 the command could not run (bad arguments, missing path, no permission).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn, TypeVar

import click

from podwall.cli.options import namespace_callback
from podwall.errors import Diagnostic, PodwallError, Severity, has_errors
from podwall.model import DEFAULT_POD_CIDR, PortQuery

EXIT_OK, EXIT_NO, EXIT_CANNOT = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


def input_options(func: F) -> F:
    """PATH... plus the options that shape how manifests become a cluster.

    No PATH: the live cluster of the current kubeconfig context (see cli/live.py).
    """
    from podwall.cli.live import cluster_options

    func = cluster_options(func)
    func = click.option("-v", "--verbose", is_flag=True,
                        help="Also report skipped objects and other notes.")(func)
    func = click.option("--pod-cidr", default=DEFAULT_POD_CIDR, show_default=True,
                        help="Where pods without status.podIP get their (deterministic) IP.")(func)
    func = click.option("-n", "--namespace", default="default", show_default=True,
                        callback=namespace_callback,
                        help="Namespace for objects that do not name one.")(func)
    func = click.argument("paths", nargs=-1, required=False,
                          type=click.Path(allow_dash=True))(func)
    return func


def fail(message: str, code: int = EXIT_CANNOT) -> NoReturn:
    click.echo(f"podwall: {message}", err=True)
    sys.exit(code)


def handles_errors(func: F) -> F:
    """Turn PodwallError into a one-line message and exit 2: never a traceback."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PodwallError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)
    return wrapper  # type: ignore[return-value]


def print_diagnostics(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], *,
                      verbose: bool) -> None:
    for d in diagnostics:
        if d.severity is Severity.INFO and not verbose:
            continue
        click.echo(str(d), err=True)


def summary(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], documents: int) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return (f"{plural(errors, 'error')}, {plural(warnings, 'warning')} "
            f"in {plural(documents, 'document')}")


def load(paths: tuple[str, ...], namespace: str, pod_cidr: str, verbose: bool) -> Any:
    """Load and validate; on any error print every diagnostic and exit 1."""
    result = load_with_progress(paths, namespace, pod_cidr)
    print_diagnostics(result.diagnostics, verbose=verbose)
    if has_errors(result.diagnostics):
        click.echo(f"podwall: invalid input: {summary(result.diagnostics, result.documents)}",
                   err=True)
        sys.exit(EXIT_NO)
    return result


def load_with_progress(paths: tuple[str, ...], namespace: str, pod_cidr: str) -> Any:
    """Load; on a terminal, show a spinner while it takes (large clusters take seconds)."""
    from podwall.manifests import load_cluster

    if not paths:
        from podwall.cli.live import load_live

        return load_live(pod_cidr)
    if not sys.stderr.isatty():
        return load_cluster(list(paths), namespace=namespace, pod_cidr=pod_cidr)
    with Spinner("reading and validating manifests"):
        return load_cluster(list(paths), namespace=namespace, pod_cidr=pod_cidr)


class Spinner:
    """A one-line spinner on stderr while slow work runs, erased when it ends.

    Shown only after half a second, so quick runs print nothing; a thread, because the work
    it waits for is one long call.
    """

    FRAMES = "|/-\\"

    def __init__(self, message: str) -> None:
        import threading

        self.message = message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._shown = False

    def __enter__(self) -> Spinner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    def _spin(self) -> None:
        if self._stop.wait(0.5):
            return
        frame = 0
        while True:
            self._shown = True
            sys.stderr.write(f"\r{self.FRAMES[frame % len(self.FRAMES)]} {self.message}…")
            sys.stderr.flush()
            frame += 1
            if self._stop.wait(0.1):
                return


def binary_stdout() -> BinaryIO:
    """Standard output as bytes, for the streamed renderers (click 8.5 deprecates its helper)."""
    sys.stdout.flush()
    return sys.stdout.buffer


def parse_port(text: str) -> PortQuery:
    try:
        return PortQuery.parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


class PortParam(click.ParamType):  # type: ignore[type-arg]
    name = "PROTO/PORT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> PortQuery:
        if isinstance(value, PortQuery):
            return value
        try:
            return PortQuery.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


PORT = PortParam()


def output_option(*choices: str, default: str) -> Callable[[F], F]:
    return click.option("-o", "--output", "output", type=click.Choice(choices),
                        default=default, show_default=True, help="Output format.")
