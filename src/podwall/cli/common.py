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

from podwall.cli.options import namespace_callback
from podwall.errors import Diagnostic, PodwallError, Severity, has_errors, printable
from podwall.model import (
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
    NamedPortQuery,
    PortQuery,
    parse_port_or_name,
)

EXIT_OK, EXIT_NO, EXIT_CANNOT = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


def input_options(func: F) -> F:
    """PATH... plus the options that shape how manifests become a cluster.

    No PATH: the live cluster of the current kubeconfig context (see cli/live.py).
    """
    from podwall.cli.live import cluster_options

    func = cluster_options(func)
    func = field_validation_option(func)
    func = click.option("--no-implied", "no_implied", is_flag=True, expose_value=False,
                        callback=_remember_input, is_eager=True,
                        help="Do not imply the kube-dns every cluster runs (CoreDNS pods "
                             "k8s-app=kube-dns in kube-system, Service kube-dns at the service "
                             "CIDR's .10) when the input has none.")(func)
    func = click.option("--service-cidr", "service_cidr", default=None, metavar="CIDR",
                        expose_value=False, callback=_remember_input, is_eager=True,
                        help="Where Services without a clusterIP get theirs, and kube-dns its "
                             f".10 (default: {DEFAULT_SERVICE_CIDR}).")(func)
    func = click.option("-v", "--verbose", is_flag=True,
                        help="Also report skipped objects and other notes.")(func)
    func = click.option("--pod-cidr", default=DEFAULT_POD_CIDR, show_default=True,
                        help="Where pods without status.podIP get their (deterministic) IP.")(func)
    func = click.option("-n", "--namespace", default=None, metavar="NS",
                        callback=namespace_callback,
                        help="Namespace for objects that do not name one (default: default); "
                             "commands that show answers then also show only NS's, as kubectl "
                             "-n does.")(func)
    func = click.argument("paths", nargs=-1, required=False,
                          type=click.Path(allow_dash=True))(func)
    return func


FIELD_VALIDATION = click.Choice(["strict", "warn", "ignore", "true", "false"],
                                case_sensitive=False)
_FIELD_VALIDATION_KEY = "podwall.field_validation"


def field_validation_option(func: F) -> F:
    """`--field-validation` (also spelled as kubectl spells it, `--validate`), for every verb that
    reads manifests; load() applies it."""
    return click.option("--field-validation", "--validate", type=FIELD_VALIDATION,
                        default="strict", show_default=True, expose_value=False,
                        is_eager=True, callback=_remember_field_validation,
                        help="An unknown field in an object podwall reads (spec.ingres) is an "
                             "error (strict), a warning (warn), or ignored, as kubectl's "
                             "--validate (which this also accepts, with true/false).")(func)


def _remember_field_validation(ctx: click.Context, param: click.Parameter, value: str) -> None:
    """Kept in the context, so every verb's load() applies it without passing it along."""
    from podwall.manifests.fields import FieldValidation

    word = {"true": "strict", "false": "ignore"}.get(value.lower(), value.lower())
    ctx.meta[_FIELD_VALIDATION_KEY] = FieldValidation(word)
_INPUT_META = "podwall.input"


def _remember_input(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """--service-cidr and --no-implied go to the context's meta (as --kubeconfig does), so that
    every verb's `load` reads them without one more parameter in every signature."""
    if param.name == "service_cidr" and value is not None:
        import ipaddress

        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a CIDR (e.g. 10.96.0.0/12)", ctx,
                                     param) from None
        if network.num_addresses < 16:
            raise click.BadParameter(f"{value!r} is too small for Services (at least a /28)",
                                     ctx, param)
        ctx.meta.setdefault(_INPUT_META, {})["service_cidr"] = str(network)
    elif param.name == "no_implied" and value:
        ctx.meta.setdefault(_INPUT_META, {})["implied"] = False


def input_settings() -> tuple[str, bool]:
    """(service CIDR, imply kube-dns) as given on the command line."""
    ctx = click.get_current_context(silent=True)
    given: dict[str, Any] = ctx.meta.get(_INPUT_META, {}) if ctx is not None else {}
    return given.get("service_cidr", DEFAULT_SERVICE_CIDR), given.get("implied", True)


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
    from podwall.analysis.wording import plural

    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    return (f"{plural(errors, 'error')}, {plural(warnings, 'warning')} "
            f"in {plural(documents, 'document')}")


def view_options(func: F) -> F:
    """`--focus EP`, `--from SEL`, `--to SEL`, `-A`: what to show (never what is evaluated).

    Goes below `input_options`; the command receives `view: View` (built with the explicitly
    given `-n`) instead of these options. Filter semantics live in `podwall.analysis.filters`.
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from podwall.analysis.filters import View

        all_namespaces = kwargs.pop("all_namespaces")
        namespace = kwargs.get("namespace")
        kwargs["view"] = View(
            namespace=None if all_namespaces else namespace,
            focus=kwargs.pop("focus"),
            sources=kwargs.pop("from_selector"),
            destinations=kwargs.pop("to_selector"),
            full=kwargs.pop("full", False))
        return func(*args, **kwargs)

    command: Any = wrapper
    command = click.option("--to", "to_selector", type=SELECTOR, metavar="SEL",
                           help="Show only connections to endpoints whose labels match SEL "
                                "(kubectl -l syntax: 'app=db,tier!=cache,env in (a,b),!x').")(command)
    command = click.option("--from", "from_selector", type=SELECTOR, metavar="SEL",
                           help="Show only connections from endpoints whose labels match SEL.")(command)
    command = click.option("--focus", metavar="NS/NAME",
                           help="Show only this endpoint: what it reaches and what reaches it.")(command)
    command = click.option("-A", "--all-namespaces", "all_namespaces", is_flag=True,
                           help="Show every namespace (the default; -n then only names the "
                                "namespace of objects that do not name one).")(command)
    return command  # type: ignore[no-any-return]


def audit_option(func: F) -> F:
    return click.option(
        "--audit", is_flag=True,
        help="Show the audit view: policies annotated podwall.io/enforcement: audit are "
             "enforced too (what enforcing them would change). A note on stderr says whether "
             "it differs from the enforced view, the default.")(func)


def print_audit_note(note: str | None) -> None:
    """Audit mode's word about the view shown, on stderr (stdout stays the answer)."""
    if note is not None:
        click.echo(f"podwall: {note}", err=True)


def full_option(func: F) -> F:
    return click.option("--full", is_flag=True,
                        help="Never summarise: every endpoint in full, however many.")(func)


class SelectorParam(click.ParamType):  # type: ignore[type-arg]
    """A label selector in kubectl's `-l` syntax."""

    name = "SELECTOR"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        from podwall.analysis.filters import parse_selector
        from podwall.model import LabelSelector

        if isinstance(value, LabelSelector):
            return value
        try:
            return parse_selector(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SELECTOR = SelectorParam()


def load(paths: tuple[str, ...], namespace: str | None, pod_cidr: str, verbose: bool,
         imply: bool = True) -> Any:
    """Load and validate; on any error print every diagnostic and exit 1. `imply` False: no
    implied components whatever the flags say (the lab and the data plane run what the input
    holds)."""
    result = load_with_progress(paths, namespace, pod_cidr, imply)
    print_diagnostics(result.diagnostics, verbose=verbose)
    if has_errors(result.diagnostics):
        click.echo(f"podwall: invalid input: {summary(result.diagnostics, result.documents)}",
                   err=True)
        sys.exit(EXIT_NO)
    return result


def load_with_progress(paths: tuple[str, ...], namespace: str | None, pod_cidr: str,
                       imply: bool = True) -> Any:
    """Load; on a terminal, show a spinner while it takes (large clusters take seconds).
    `imply` False: never imply components (validate judges the input as it is)."""
    from podwall.manifests import load_cluster

    service_cidr, implied = input_settings()
    implied = implied and imply
    if not paths:
        from podwall.cli.live import load_live

        return load_live(pod_cidr, service_cidr=service_cidr, implied=implied)
    from podwall.manifests.fields import FieldValidation

    namespace = namespace or "default"
    context = click.get_current_context(silent=True)
    validation = FieldValidation.STRICT
    command = "podwall validate"
    if context is not None:
        validation = context.meta.get(_FIELD_VALIDATION_KEY, validation)
        command = " ".join(["podwall", *context.command_path.split()[1:]])
    with Spinner("reading and validating manifests"):
        return load_cluster(list(paths), namespace=namespace, pod_cidr=pod_cidr,
                            field_validation=validation, command=command,
                            service_cidr=service_cidr, implied=implied)


class Spinner:
    """A one-line spinner on stderr while slow work runs, erased when it ends.

    Only on a terminal, and only after half a second, so pipes and quick runs get nothing; a
    thread, because the work it waits for is one long call.
    """

    FRAMES = "|/-\\"

    def __init__(self, message: str) -> None:
        import threading

        self.message = message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._shown = False

    def __enter__(self) -> Spinner:
        if sys.stderr.isatty():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
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


class PortOrNameParam(click.ParamType):  # type: ignore[type-arg]
    """A port number (`TCP/80`, `80`) or a container-port name (`http`, `udp/dns`)."""

    name = "PROTO/PORT|NAME"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> PortQuery | NamedPortQuery:
        if isinstance(value, PortQuery | NamedPortQuery):
            return value
        try:
            return parse_port_or_name(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


PORT_OR_NAME = PortOrNameParam()


def chosen_ports(cluster: Any, queries: tuple[PortQuery | NamedPortQuery, ...]
                 ) -> list[PortQuery | NamedPortQuery] | None:
    """The --port list of a whole-cluster verb, in the order given, without repeats. A name
    stays a name: the engine resolves it at each destination (a column `TCP/http`), as a
    policy's named port resolves; a name that no container of `cluster` (anything with
    `.endpoints`) has is an error. None: no --port given (every port)."""
    from podwall.errors import QueryError

    for q in queries:
        if isinstance(q, NamedPortQuery) and not any(
                q.resolve(ep.ports) is not None for ep in cluster.endpoints):
            raise QueryError(f"--port {q}: no container port is named {q.name!r} "
                             f"({q.protocol}) in the input")
    return list(dict.fromkeys(queries)) or None


def output_option(*choices: str, default: str) -> Callable[[F], F]:
    return click.option("-o", "--output", "output", type=click.Choice(choices),
                        default=default, show_default=True, help="Output format.")
