"""The connectivity matrix as a grid (table), CSV, Markdown or JSON.

The grid numbers the columns and groups rows and columns by namespace, so it stays legible for
50+ endpoints: each cell is one character wide.
"""

from __future__ import annotations

import csv
import io
import json
from itertools import groupby
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from podwall.engine import Matrix

ALLOW, DENY = "✓", "·"


def _namespace(name: str) -> str:
    return name.split("/", 1)[0] if "/" in name else "(outside the cluster)"


def matrix_table(matrix: Matrix) -> str:
    names = matrix.endpoints
    n = len(names)
    width = len(str(n))
    label_width = max((len(nm) for nm in names), default=0) + width + 3
    groups = [(ns, [i for i, _ in items])
              for ns, items in groupby(enumerate(names), key=lambda t: _namespace(t[1]))]
    out: list[str] = []
    for port in matrix.ports:
        dense = matrix.dense(port)
        allowed = int(dense.sum())
        out.append(f"{port}: {allowed} of {n * n} pairs allowed  "
                   f"(row = from, column = to; {ALLOW} allowed, {DENY} denied)")
        # Column header: the numbers, written vertically, with a gap between namespaces.
        digits = [str(j + 1).rjust(width) for j in range(n)]
        for k in range(width):
            line = " " * label_width
            for _, members in groups:
                line += " " + "".join(digits[j][k] for j in members)
            out.append(line.rstrip())
        for ns, members in groups:
            out.append(f"{ns}")
            for i in members:
                label = f"  {str(i + 1).rjust(width)} {names[i]}".ljust(label_width)
                row = label
                for _, cols in groups:
                    row += " " + "".join(ALLOW if dense[i, j] else DENY for j in cols)
                out.append(row.rstrip())
        out.append("")
    return "\n".join(out)


def matrix_json(matrix: Matrix) -> str:
    buffer = io.BytesIO()
    write_json(matrix, buffer)
    return buffer.getvalue().decode()


# Each verdict as its JSON token with the comma after it, NUL-padded to eight bytes: a row is
# one numpy select of 64-bit words and one C-level deletion of the padding.
_FALSE_WORD = np.frombuffer(b"false,\0\0", dtype=np.uint64)[0]
_TRUE_WORD = np.frombuffer(b"true,\0\0\0", dtype=np.uint64)[0]
_TOKEN_LENGTHS = np.array([6, 5], dtype=np.int64)


def write_json(matrix: Matrix, out: BinaryIO) -> None:
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
    for k, port in enumerate(matrix.ports):
        if k:
            out.write(b",")
        out.write(json.dumps(str(port)).encode() + b":[")
        by_class = matrix.verdicts[port].dense(classes.astype(np.int64))
        rows: dict[int, tuple[memoryview, npt.NDArray[np.int64]]] = {}
        for i, c in enumerate(inverse.tolist()):
            encoded = rows.get(c)
            if encoded is None:
                encoded = rows[c] = _encode_row(by_class[c][inverse])
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
    out.write(b"}}\n")


def _encode_row(row: npt.NDArray[np.bool_]) -> tuple[memoryview, npt.NDArray[np.int64]]:
    """`true,false,...,` for one row, and where each token starts (offsets[j]..offsets[j+1])."""
    body = np.where(row, _TRUE_WORD, _FALSE_WORD).tobytes().translate(None, b"\0")
    offsets = np.zeros(len(row) + 1, dtype=np.int64)
    np.cumsum(_TOKEN_LENGTHS[row.view(np.uint8)], out=offsets[1:])
    return memoryview(body), offsets


def matrix_csv(matrix: Matrix) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["port", "from", "to", "allowed"])
    for port in matrix.ports:
        dense = matrix.dense(port)
        for i, src in enumerate(matrix.endpoints):
            for j, dst in enumerate(matrix.endpoints):
                writer.writerow([str(port), src, dst, "true" if dense[i, j] else "false"])
    return buffer.getvalue()


def matrix_markdown(matrix: Matrix) -> str:
    names = matrix.endpoints
    out: list[str] = []
    for port in matrix.ports:
        dense = matrix.dense(port)
        out.append(f"### {port}\n")
        out.append("| from \\ to | " + " | ".join(f"`{nm}`" for nm in names) + " |")
        out.append("|---|" + "---|" * len(names))
        for i, src in enumerate(names):
            cells = " | ".join("✅" if dense[i, j] else "❌" for j in range(len(names)))
            out.append(f"| `{src}` | {cells} |")
        out.append("")
    return "\n".join(out)


RENDERERS = {
    "table": matrix_table,
    "json": matrix_json,
    "csv": matrix_csv,
    "md": matrix_markdown,
}


def write_matrix(matrix: Matrix, output: str, out: BinaryIO) -> None:
    """Render `matrix` as `output` onto a byte stream; JSON is streamed (it can be gigabytes)."""
    if output == "json":
        write_json(matrix, out)
    else:
        out.write(RENDERERS[output](matrix).encode())
    out.flush()
