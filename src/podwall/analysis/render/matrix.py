"""The connectivity matrix as a grid (table), CSV, Markdown or JSON.

The grid numbers the columns and groups rows and columns by namespace, so it stays legible for
50+ endpoints: each cell is one character wide.
"""

from __future__ import annotations

import csv
import io
import json
from itertools import groupby

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
    return json.dumps(matrix.to_json(), separators=(",", ":")) + "\n"


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
