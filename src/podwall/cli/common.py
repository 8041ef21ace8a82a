"""What every verb shares: reading the input, printing diagnostics, exit codes.

Exit codes: 0 success; 1 the answer is "no" (invalid input, an `--expect` that failed, a
disagreement); 2 the command could not run (bad arguments, missing path, no permission).
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn, TypeVar

import click

from podwall.errors import Diagnostic, PodwallError, Severity, has_errors, printable
from podwall.model import DEFAULT_POD_CIDR, PortQuery

EXIT_OK, EXIT_NO, EXIT_CANNOT = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


def input_options(func: F) -> F:
    """PATH... plus the options that shape how manifests become a cluster."""
    func = click.option("-v", "--verbose", is_flag=True,
                        help="Also report skipped objects and other notes.")(func)
    func = click.option("--pod-cidr", default=DEFAULT_POD_CIDR, show_default=True,
                        help="Where pods without status.podIP get their (deterministic) IP.")(func)
    func = click.option("-n", "--namespace", default="default", show_default=True,
                        help="Namespace for objects that do not name one.")(func)
    func = click.argument("paths", nargs=-1, required=True,
                          type=click.Path(allow_dash=True))(func)
    return func


def fail(message: str, code: int = EXIT_CANNOT) -> NoReturn:
    click.echo(f"podwall: {printable(message)}", err=True)
    sys.exit(code)


def handles_errors(func: F) -> F:
    """Turn PodwallError into a one-line message and exit 2: never a traceback.

    Output that cannot be written is such an error too: a full disk (`> /dev/full`) says so
    and exits 2; a reader that went away (`| head`) ends the command quietly, as the pipe's
    other tools do. Standard output is flushed here, so that failure shows up here and not as
    an "Exception ignored" message when the interpreter exits.
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
            sys.stdout.flush()
            return result
        except PodwallError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            _drop_stdout()
            sys.exit(EXIT_NO)
        except OSError as exc:
            if exc.filename is not None:
                fail(f"{exc.filename}: {exc.strerror or exc}")
            if exc.errno in _OUTPUT_ERRNOS:
                _drop_stdout()
                fail(f"cannot write output: {exc.strerror}")
            fail(str(exc))
    return wrapper  # type: ignore[return-value]


_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _drop_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of what is still
    buffered cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


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
