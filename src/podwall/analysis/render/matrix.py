"""The connectivity matrix as a grid (table), CSV, Markdown or JSON.

The grid numbers the columns and groups rows and columns by namespace, so it stays legible for
50+ endpoints: each cell is one character wide.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from podwall.analysis import wording
from podwall.analysis.filters import SUMMARY_THRESHOLD, MatrixView
from podwall.analysis.render.tokens import Joined, Tokens
from podwall.engine import Matrix
from podwall.engine.classes import BoolArray, IntArray
from podwall.model import Port

ALLOW, DENY, ALL, SOME = "✓", "·", "█", "▒"
OUTSIDE = "(outside the cluster)"
# Class rows kept while rows are written: a class's endpoints are close together (one namespace,
# in name order), so a few dozen rows suffice, and memory stays ROW_CACHE x one row.
ROW_CACHE = 64
# Cells of the class rows computed at once (one byte each, and up to eight for CSV's cells).
BLOCK_CELLS = 1 << 20


def _namespace(name: str) -> str:
    return name.split("/", 1)[0] if "/" in name else OUTSIDE


def write_table(mv: MatrixView, out: BinaryIO) -> None:
    """One grid per port, or beyond SUMMARY_THRESHOLD endpoints one namespace grid per port."""
    if len(mv.in_view) > SUMMARY_THRESHOLD and not mv.view.full:
        _write_summary(mv, out)
        return
    matrix = mv.matrix
    names = [f"{name} (implied)" if i in mv.implied else name
             for i, name in enumerate(matrix.endpoints)]
    shown = mv.in_view.tolist()
    number = {i: k + 1 for k, i in enumerate(shown)}
    n = len(shown)
    width = len(str(n))
    label_width = max((len(names[i]) for i in mv.rows.tolist()), default=0) + width + 3
    col_list = mv.cols.tolist()
    col_groups = [[j for j in items] for _, items in
                  groupby(col_list, key=lambda j: _namespace(names[j]))]
    row_groups = [(ns, list(items)) for ns, items in
                  groupby(mv.rows.tolist(), key=lambda i: _namespace(names[i]))]
    # code points of the grid: one cell per column, a space between namespaces
    position = np.zeros(len(col_list), dtype=np.int64)
    at = 0
    k = 0
    for group in col_groups:
        at += 1
        for _ in group:
            position[k] = at
            at += 1
            k += 1
    grid_width = at
    column_of = {j: k for k, j in enumerate(col_list)}
    vc = mv.classes
    view_note = f"; {mv.view.flags()}" if mv.view.active else ""
    for k_port, port in enumerate(matrix.ports):
        if k_port:
            out.write(b"\n")
        allowed_count, shown_count = _counts(mv, port)
        out.write((f"{port}: {allowed_count} of {shown_count} pairs allowed  "
                   f"(row = from, column = to; {ALLOW} allowed, {DENY} denied{view_note})\n"
                   ).encode())
        digits = [str(number[j]).rjust(width) for j in col_list]
        for d in range(width):
            line = " " * label_width
            k = 0
            for group in col_groups:
                line += " " + "".join(digits[k + m][d] for m in range(len(group)))
                k += len(group)
            out.write((line.rstrip() + "\n").encode())
        rows = _ClassRows(mv, port)
        rows_by_class: dict[int, str] = {}
        for ns, members in row_groups:
            out.write(f"{ns}\n".encode())
            for i in members:
                v = int(vc.of[i])
                row = rows_by_class.get(v)
                if row is None:
                    if len(rows_by_class) >= ROW_CACHE:
                        rows_by_class.clear()
                    allowed, shown = rows.row(v)
                    cells = np.where(allowed, ord(ALLOW), ord(DENY))
                    if shown is not None:
                        cells[~shown] = ord(" ")
                    codes = np.full(grid_width, ord(" "), dtype="<u4")
                    codes[position] = cells
                    row = rows_by_class[v] = codes.tobytes().decode("utf-32-le")
                own = column_of.get(i)
                if own is not None and row[position[own]] == DENY:
                    p = int(position[own])
                    row = row[:p] + ALLOW + row[p + 1:]
                label = f"  {str(number[i]).rjust(width)} {names[i]}".ljust(label_width)
                out.write(((label + row).rstrip() + "\n").encode())


def matrix_table(matrix: Matrix) -> str:
    buffer = io.BytesIO()
    write_table(MatrixView(matrix), buffer)
    return buffer.getvalue().decode()


def _counts(mv: MatrixView, port: Port) -> tuple[int, int]:
    """(allowed, shown) pairs of the grid, an endpoint with itself included (as it is drawn)."""
    single = np.zeros(mv.classes.count, dtype=np.int64)
    (allowed,), shown = mv.pair_counts([port], single, 1)
    vc = mv.classes
    diagonal = int(vc.size[vc.shown & mv.shown_diagonal()].sum())
    return int(allowed[0, 0]) + diagonal, int(shown[0, 0]) + diagonal


def _write_summary(mv: MatrixView, out: BinaryIO) -> None:
    """Namespace x namespace per port: each cell says whether none, some or all of the pairs
    (of distinct endpoints, within the view) are allowed; counts beside each row."""
    matrix = mv.matrix
    names = matrix.endpoints
    vc = mv.classes
    ns_names = sorted({_namespace(names[int(r)]) for r in vc.rep.tolist()},
                      key=lambda ns: (ns == OUTSIDE, ns))
    ns_id = {ns: k for k, ns in enumerate(ns_names)}
    group = np.array([ns_id[_namespace(names[int(r)])] for r in vc.rep.tolist()],
                     dtype=np.int64)
    in_view = np.zeros(len(ns_names), dtype=np.bool_)
    in_view[group[vc.of[mv.in_view]]] = True
    row_ns = sorted(set(group[vc.of[mv.rows]].tolist()))
    col_ns = sorted(set(group[vc.of[mv.cols]].tolist()))
    number = {g: k + 1 for k, g in enumerate(sorted(set(row_ns) | set(col_ns)))}
    width = len(str(max(number.values(), default=0)))
    sizes = np.bincount(group[vc.of[mv.in_view]], minlength=len(ns_names))
    labels = {g: f"  {str(number[g]).rjust(width)} {ns_names[g]} ({sizes[g]})" for g in row_ns}
    label_width = max((len(t) for t in labels.values()), default=0)
    view_note = f" with {mv.view.flags()}" if mv.view.active else ""
    out.write((f"{len(mv.in_view)} endpoints in {int(in_view.sum())} namespaces"
               f"{view_note}: more than {SUMMARY_THRESHOLD}, so namespace by namespace.\n"
               f"Cells: {ALL} every pair allowed, {SOME} some, {DENY} none, blank no pair in view; "
               f"pairs of distinct endpoints.\n").encode())
    per_port, shown = mv.pair_counts(matrix.ports, group, len(ns_names))
    for port, allowed in zip(matrix.ports, per_port, strict=True):
        out.write((f"\n{port}: {int(allowed.sum())} of {int(shown.sum())} pairs allowed  "
                   "(row = from, column = to)\n").encode())
        for d in range(width):
            head = "".join(str(number[g]).rjust(width)[d] for g in col_ns)
            out.write((" " * label_width + " " + head).rstrip().encode() + b"\n")
        for g in row_ns:
            cells = "".join(
                " " if shown[g, h] == 0 else
                ALL if allowed[g, h] == shown[g, h] else SOME if allowed[g, h] else DENY
                for h in col_ns)
            total_a, total_s = int(allowed[g, col_ns].sum()), int(shown[g, col_ns].sum())
            out.write((f"{labels[g].ljust(label_width)} {cells}  "
                       f"{total_a}/{total_s}\n").encode())
    out.write((f"\n{wording.matrix_drill_down_words(mv.view.flags(), mv.view.focus)}\n").encode())


def matrix_json(matrix: Matrix) -> str:
    buffer = io.BytesIO()
    write_json(matrix, buffer)
    return buffer.getvalue().decode()


# Each verdict as its JSON token with the comma after it, NUL-padded to eight bytes: a row is
# one numpy select of 64-bit words and one C-level deletion of the padding.
_FALSE_WORD = np.frombuffer(b"false,\0\0", dtype=np.uint64)[0]
_TRUE_WORD = np.frombuffer(b"true,\0\0\0", dtype=np.uint64)[0]
_TOKEN_LENGTHS = np.array([6, 5], dtype=np.int64)


def write_json(matrix: Matrix, out: BinaryIO, extra: bytes = b"",
               outside: Sequence[tuple[str, str]] = ()) -> None:
    """The -o json contract, streamed: the same bytes as `json.dumps(matrix.to_json(),
    separators=(",", ":"))` and a newline, without ever holding n x n Python booleans.

    Rows of endpoints of one class are equal but for the diagonal (an endpoint may always reach
    itself), so each class's row is encoded once, with numpy, and each endpoint's row is written
    as three slices of it around its own `true`. 5k pods x 17 ports is 425M verdicts: as lists
    of bools they took 9 GB and 85 s; this writes them at the speed of the output.
    """
    compact = (",", ":")
    out.write(b'{"endpoints":' + json.dumps(list(matrix.endpoints), separators=compact).encode()
              + b',"ports":' + json.dumps([str(p) for p in matrix.ports], separators=compact).encode()
              + b',"allowed":{')
    classes, inverse = np.unique(matrix.class_of, return_inverse=True)
    # A class row often reads the same on several ports: encode each distinct one once, keeping
    # about 64 MB of encoded rows (up to six bytes a verdict).
    encoded_rows: dict[bytes, tuple[memoryview, npt.NDArray[np.int64]]] = {}
    keep = max(ROW_CACHE, (64 << 20) // (6 * max(1, len(inverse))))
    for k, port in enumerate(matrix.ports):
        if k:
            out.write(b",")
        out.write(json.dumps(str(port)).encode() + b":[")
        by_class = matrix.verdicts[port].dense(classes.astype(np.int64))
        rows: dict[int, tuple[memoryview, npt.NDArray[np.int64]]] = {}
        for i, c in enumerate(inverse.tolist()):
            encoded = rows.get(c)
            if encoded is None:
                key = np.packbits(by_class[c]).tobytes()
                encoded = encoded_rows.get(key)
                if encoded is None:
                    if len(encoded_rows) >= keep:
                        encoded_rows.clear()
                    encoded = encoded_rows[key] = _encode_row(by_class[c][inverse])
                rows[c] = encoded
            body, offsets = encoded
            if i:
                out.write(b",")
            out.write(b"[")
            out.write(body[:offsets[i]])
            tail = body[offsets[i + 1]:]
            if len(tail):
                out.write(b"true,")
                out.write(tail[:-1])
            else:
                out.write(b"true")
            out.write(b"]")
        out.write(b"]")
    out.write(b"}")
    if matrix.resolved:  # what a named port is at each endpoint (null: no such port there)
        out.write(b',"resolved":' + json.dumps(matrix.resolved_json(), separators=compact).encode())
    if outside:  # `--outside`: the addresses each representative stands for
        out.write(b',"outside":' + json.dumps(dict(outside), separators=compact).encode())
    out.write(extra)  # more members, pre-encoded with their leading comma (matrix --services)
    out.write(b"}\n")


def _encode_row(row: npt.NDArray[np.bool_]) -> tuple[memoryview, npt.NDArray[np.int64]]:
    """`true,false,...,` for one row, and where each token starts (offsets[j]..offsets[j+1])."""
    body = np.where(row, _TRUE_WORD, _FALSE_WORD).tobytes().translate(None, b"\0")
    offsets = np.zeros(len(row) + 1, dtype=np.int64)
    np.cumsum(_TOKEN_LENGTHS[row.view(np.uint8)], out=offsets[1:])
    return memoryview(body), offsets


def write_csv(mv: MatrixView, out: BinaryIO) -> None:
    """`port,from,to,allowed` for every shown pair.

    The lines of one row share their start (`TCP/80,ns/from,`) and end in one of two cells per
    column (`ns/to,true\n`, `ns/to,false\n`): a class row's cells are picked once, as a list of
    shared bytes objects, and each endpoint's row is one C-level `prefix.join(cells)` (a copy
    loop, about 0.3 ns a byte here: the old numpy gather and newline replace took 2), with its
    own cell set to true. Memory: one row and one block of class rows.
    """
    out.write(b"port,from,to,allowed\n")
    names = mv.matrix.endpoints
    quoted = [_csv_field(names[j]).encode() for j in mv.cols.tolist()]
    # object arrays of shared bytes: a class row is one numpy select, no bytes are copied
    denied = np.empty(len(quoted), dtype=object)
    denied[:] = [q + b",false\n" for q in quoted]
    allowed = np.empty(len(quoted), dtype=object)
    allowed[:] = [q + b",true\n" for q in quoted]
    column_of = {j: k for k, j in enumerate(mv.cols.tolist())}
    sources = {i: _csv_field(names[i]) for i in mv.rows.tolist()}
    for port in mv.matrix.ports:
        rows = _ClassRows(mv, port)
        last = -1
        cells: list[bytes] = []
        at: IntArray = np.zeros(0, dtype=np.int64)
        ok: BoolArray = np.zeros(0, dtype=np.bool_)
        shown: BoolArray | None = None
        for i in mv.rows.tolist():
            v = int(mv.classes.of[i])
            if v != last:  # a class's rows mostly follow each other: pick its cells once
                ok, shown = rows.row(v)
                picked = np.where(ok, allowed, denied)
                # a leading empty cell puts the prefix before the first line too
                cells = [b"", *(picked if shown is None else picked[shown]).tolist()]
                at = np.arange(1, len(ok) + 1) if shown is None else np.cumsum(shown)
                last = v
            if len(cells) == 1:
                continue
            prefix = f"{port},{sources[i]},".encode()
            own = column_of.get(i)
            if own is None or ok[own] or (shown is not None and not shown[own]):
                out.write(prefix.join(cells))
            else:  # itself: always allowed
                k = int(at[own])
                cells[k] = allowed[own]
                out.write(prefix.join(cells))
                cells[k] = denied[own]


def write_markdown(mv: MatrixView, out: BinaryIO) -> None:
    """One Markdown table per port over the shown rows and columns (blank: not shown)."""
    names = mv.matrix.endpoints
    cols = mv.cols.tolist()
    n = len(cols)
    tokens = Tokens.of([[b"  |"] * n, [" ❌ |".encode()] * n, [" ✅ |".encode()] * n])

    def name(i: int) -> str:  # `kube-system/coredns` (implied)
        return f"`{names[i]}`" + (" (implied)" if i in mv.implied else "")

    header = ("| from \\ to | " + " | ".join(name(j) for j in cols) + " |\n"
              + "|---|" + "---|" * n + "\n").encode()
    _write_rows(mv, out, tokens, lambda port, i: f"| {name(i)} |".encode(),
                heading=lambda port: f"### {port}\n\n".encode() + header, between=b"\n")


class _ClassRows:
    """One port's class rows over the shown columns: (allowed, shown or None when everything
    is), computed for a block of classes at once. Rows come in class order (classes are
    numbered in endpoint order), so each block is computed about once per port; one call per
    class cost more than the rows' own output for small rows."""

    def __init__(self, mv: MatrixView, port: Port) -> None:
        self.mv = mv
        self.port = port
        self.col_class = mv.classes.of[mv.cols]
        self.step = max(1, BLOCK_CELLS // max(1, len(mv.cols)))
        self.first = 0
        self.allowed: BoolArray = np.zeros((0, len(mv.cols)), dtype=np.bool_)
        self.shown: BoolArray | None = None

    def row(self, v: int) -> tuple[BoolArray, BoolArray | None]:
        if not self.first <= v < self.first + len(self.allowed):
            vs = np.arange(v, min(v + self.step, self.mv.classes.count), dtype=np.int64)
            self.first = v
            self.allowed = self.mv.allowed(self.port, vs)[:, self.col_class]
            self.shown = (self.mv.shown(vs)[:, self.col_class] if self.mv.view.active
                          else None)
        k = v - self.first
        return self.allowed[k], None if self.shown is None else self.shown[k]


def _write_rows(mv: MatrixView, out: BinaryIO, tokens: Tokens,
                prefix: Callable[[Port, int], bytes], *,
                heading: Callable[[Port], bytes] | None = None,
                between: bytes = b"") -> None:
    """Per port, per shown row: the prefix, then the row's class row (token 0 not shown, 1
    denied, 2 allowed) joined once per class, the endpoint's own cell set to allowed."""
    vc = mv.classes
    cols = mv.cols
    column_of = {j: k for k, j in enumerate(cols.tolist())}
    for k_port, port in enumerate(mv.matrix.ports):
        if k_port:
            out.write(between)
        if heading is not None:
            out.write(heading(port))
        rows = _ClassRows(mv, port)
        rows_by_class: dict[int, Joined] = {}
        for i in mv.rows.tolist():
            v = int(vc.of[i])
            joined = rows_by_class.get(v)
            if joined is None:
                if len(rows_by_class) >= ROW_CACHE:
                    rows_by_class.clear()
                allowed, shown = rows.row(v)
                choice = 1 + allowed.astype(np.int64)
                if shown is not None:
                    choice[~shown] = 0
                joined = rows_by_class[v] = tokens.join(choice)
            own = column_of.get(i)
            body = joined.body
            if own is not None and (joined.body[joined.offsets[own]:joined.offsets[own + 1]]
                                    == tokens.token(1, own)):  # itself: always allowed
                body = joined.with_cell(own, tokens.token(2, own))
            out.write(prefix(port, i) + body + b"\n")


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def matrix_csv(matrix: Matrix) -> str:
    buffer = io.BytesIO()
    write_csv(MatrixView(matrix), buffer)
    return buffer.getvalue().decode()


def matrix_markdown(matrix: Matrix) -> str:
    buffer = io.BytesIO()
    write_markdown(MatrixView(matrix), buffer)
    return buffer.getvalue().decode()


RENDERERS = {
    "table": matrix_table,
    "json": matrix_json,
    "csv": matrix_csv,
    "md": matrix_markdown,
}

WRITERS: dict[str, Callable[[MatrixView, BinaryIO], None]] = {
    "table": write_table, "csv": write_csv, "md": write_markdown,
}


def write_matrix(matrix: Matrix, output: str, out: BinaryIO,
                 view: MatrixView | None = None, extra: bytes = b"",
                 outside: Sequence[tuple[str, str]] = ()) -> None:
    """Render `matrix` as `output` onto a byte stream; every format is streamed.

    With a view, JSON keeps its contract over the endpoints in view (the square matrix among
    them); the other formats show only the pairs in view. `outside`: (address, addresses it
    stands for) of hosts that represent blocks of the outside (`matrix --outside`): JSON maps
    them under "outside", the table and Markdown say it under the matrix, CSV names the address.
    """
    mv = view if view is not None else MatrixView(matrix)
    if output == "json":
        if mv.view.active:
            keep = mv.in_view
            matrix = Matrix(tuple(matrix.endpoints[i] for i in keep.tolist()), matrix.ports,
                            matrix.class_of[keep], matrix.verdicts,
                            {q: numbers[keep] for q, numbers in matrix.resolved.items()})
        write_json(matrix, out, extra, outside)
    else:
        WRITERS[output](mv, out)
        if outside and output in ("table", "md"):
            out.write(("\n" + "\n".join(wording.matrix_outside_words(address, block)
                                        for address, block in outside) + "\n").encode())
    out.flush()
