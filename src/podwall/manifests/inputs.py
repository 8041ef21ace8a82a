"""Where manifest text comes from: paths, directories, pipes and stdin, read as UTF-8.

Every problem here is a Diagnostic on the path it concerns, so one unreadable file or directory
is reported and the rest still load: a directory that cannot be listed is an error (it was once
skipped in silence, and the run said "valid"), and so is a file that cannot be opened or is not
UTF-8 (with the line of the first bad byte). Only a path that does not exist at all stops the run.

Paths that are neither files nor directories are read as streams: `/dev/stdin`, and the
/dev/fd/N pipes of a shell's process substitution (`podwall validate <(helm template ...)`).
Inside directories only regular files are read (a FIFO met while walking could block forever).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

from podwall.errors import Diagnostic, InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"


# What marks a directory as a source to render rather than manifests to read.
HELM_CHART = "Chart.yaml"
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def list_inputs(paths: list[str], problems: list[Diagnostic] | None = None,
                command: str = "podwall validate") -> list[str]:
    """Expand directories (recursively, sorted, hidden entries skipped) into manifest files.

    A path that does not exist raises InputError: nothing sensible can be said without it.
    Anything else that goes wrong is added to `problems` (when given) and the walk goes on.
    A Helm chart or a kustomize directory (passed, or met while walking) is one error that says
    how to render it and pipe it into `command`; nothing in it is read (its templates and patches
    are not manifests: they would be a pile of parse errors, or half-objects read as whole ones).
    """
    found: list[Diagnostic] = [] if problems is None else problems
    out: list[str] = []
    for raw in paths:
        if raw == "-":
            out.append(raw)
            continue
        try:
            mode = os.stat(raw).st_mode
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise InputError(f"{raw}: no such file or directory") from None
            found.append(Diagnostic(f"cannot read: {exc.strerror}", file=raw))
            continue
        if stat.S_ISDIR(mode):
            out.extend(_walk(raw, found, command))
            continue
        source = _renderable_file(raw)
        if source is not None:
            found.append(_render_first(*source, command))
            continue
        out.append(raw)  # a file, or a stream: /dev/stdin, a process substitution's pipe
    return out


def _renderable(directory: str, names: list[str] | set[str]) -> str | None:
    """'chart' or 'kustomization' when the directory is one (by the file that marks it)."""
    if HELM_CHART in names:
        return "chart"
    if any(k in names for k in KUSTOMIZATIONS):
        return "kustomization"
    return None


def _renderable_file(path: str) -> tuple[str, str, str | None] | None:
    """(kind, directory, file) when a file passed by name belongs to a chart or kustomization:
    the marker file itself, or a file in a chart's templates/."""
    name = os.path.basename(path)
    directory = os.path.dirname(path) or "."
    if name == HELM_CHART:
        return "chart", directory, None
    if name in KUSTOMIZATIONS:
        return "kustomization", directory, None
    parts = Path(path).parts
    if "templates" in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index("templates")
        chart = Path(*parts[:at])
        if (chart / HELM_CHART).is_file():
            return "chart", str(chart), path
    return None


def _render_first(kind: str, directory: str, file: str | None, command: str) -> Diagnostic:
    import shlex

    quoted = shlex.quote(directory)
    if kind == "chart":
        what, render = "a Helm chart", f"helm template RELEASE {quoted}"
    else:
        what, render = "a kustomization", f"kubectl kustomize {quoted}"
    where = f"part of {what} ({directory})" if file is not None else what
    return Diagnostic(f"{where}: podwall reads rendered manifests; render it first: "
                      f"{render} | {command} -", file=file or directory)


def _walk(root: str, problems: list[Diagnostic], command: str) -> list[str]:
    def unreadable(exc: OSError) -> None:
        problems.append(Diagnostic(f"cannot read directory: {exc.strerror}",
                                   file=exc.filename if exc.filename is not None else root))

    files: list[Path] = []
    for directory, subdirectories, names in os.walk(root, onerror=unreadable):
        kind = _renderable(directory, names)
        if kind is not None:
            problems.append(_render_first(kind, directory, None, command))
            subdirectories[:] = []
            continue
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
        for name in names:
            if name.startswith(".") or not name.lower().endswith(MANIFEST_SUFFIXES):
                continue
            path = os.path.join(directory, name)
            try:
                if stat.S_ISREG(os.stat(path).st_mode):
                    files.append(Path(path))
            except OSError as exc:
                if exc.errno != errno.ENOENT:  # a dangling link is not a manifest
                    problems.append(Diagnostic(f"cannot read: {exc.strerror}", file=path))
    return [str(p) for p in sorted(files)]


def decode(name: str, data: bytes, problems: list[Diagnostic]) -> str | None:
    """UTF-8 text with line breaks as Python's text files have them (\\r\\n and \\r are \\n), or
    None with a diagnostic at the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(Diagnostic(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} ({exc.reason})",
            file=name, line=line))
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text_file(path: Path, problems: list[Diagnostic]) -> str | None:
    """A file's (or stream's) text, or None with a diagnostic saying why it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        problems.append(Diagnostic(f"cannot read: {exc.strerror}", file=str(path)))
        return None
    return decode(str(path), data, problems)


def read_stdin(problems: list[Diagnostic]) -> str | None:
    """Standard input as UTF-8 text (read as bytes: a text stream would smuggle undecodable
    bytes in as surrogates, which nothing downstream can encode)."""
    stream = getattr(sys.stdin, "buffer", None)
    try:
        if stream is None:  # replaced by a text stream (tests, embedding programs)
            return str(sys.stdin.read())
        data = stream.read()
    except (OSError, ValueError) as exc:
        problems.append(Diagnostic(f"cannot read: {exc}", file=STDIN_NAME))
        return None
    return decode(STDIN_NAME, data, problems)
