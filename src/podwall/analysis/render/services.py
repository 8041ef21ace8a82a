"""`matrix --services`: Services as destinations, after their DNAT, beside the endpoint grid.

A Service is a column only: it never opens a connection (a pod behind it does, as itself).
A cell reads ✓ when the source may reach every pod behind the Service on the port's targetPort
(so the Service works whichever pod kube-proxy picks), ▒ when it may reach some of them (it
works some of the time: a finding in itself), · when none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import BinaryIO

import numpy as np

from podwall.analysis import wording
from podwall.analysis.filters import MatrixView
from podwall.analysis.render.matrix import ALLOW, DENY, SOME
from podwall.engine import ServiceColumn


def shown_columns(columns: Sequence[ServiceColumn], mv: MatrixView) -> list[ServiceColumn]:
    """With -n NS given, the Services of NS; with --to SEL, those with a pod SEL matches."""
    view = mv.view
    out = []
    for col in columns:
        if view.namespace is not None and col.service.namespace != view.namespace:
            continue
        if view.destinations is not None and not any(
                bool(mv.col_ok[i]) for i in (*col.pods, *col.unserved)):
            continue
        out.append(col)
    return out


def column_words(col: ServiceColumn, names: Sequence[str]) -> str:
    svc = col.service
    notes = ["implied"] if svc.implied else []
    if svc.cluster_ip is not None:
        notes.append(f"{svc.cluster_ip}, assigned" if svc.cluster_ip_assigned
                     else str(svc.cluster_ip))
    else:
        notes.append("headless")
    pods = [names[i] for i in col.pods]
    target = f"{col.port.protocol}/{col.port.target_port}"
    served = (f"{wording.plural(len(pods), 'pod')} on {target}" if pods
              else "no pod serves it")
    missing = (f"; {wording.plural(len(col.unserved), 'pod')} without {target}"
               if col.unserved else "")
    return f"{col.name} ({'; '.join(notes)}) → {served}{missing}"


def write_service_table(columns: Sequence[ServiceColumn], mv: MatrixView, out: BinaryIO) -> None:
    cols = shown_columns(columns, mv)
    out.write(b"\n")
    if not cols:
        out.write(b"Services: none in view\n")
        return
    names = [f"{name} (implied)" if i in mv.implied else name
             for i, name in enumerate(mv.matrix.endpoints)]
    rows = [i for i in mv.rows.tolist() if i < len(names)]
    out.write(f"Services, after DNAT  (row = from, column = Service port; {ALLOW} every pod "
              f"behind it, {SOME} some, {DENY} none)\n".encode())
    width = len(str(len(cols)))
    label_width = max((len(names[i]) for i in rows), default=0) + 4
    header = " ".join(str(k + 1).rjust(width) for k in range(len(cols)))
    out.write((" " * label_width + header + "\n").encode())
    for namespace, items in groupby(rows, key=lambda i: names[i].split("/", 1)[0]):
        out.write(f"{namespace}\n".encode())
        for i in items:
            cells = " ".join((ALLOW if col.every[i] else SOME if col.some[i] else DENY)
                             .rjust(width) for col in cols)
            out.write(f"  {names[i]}".ljust(label_width).encode() + cells.encode() + b"\n")
    for k, col in enumerate(cols):
        out.write(f"  {str(k + 1).rjust(width)} {column_words(col, names)}\n".encode())


def services_json(columns: Sequence[ServiceColumn], mv: MatrixView) -> bytes:
    """`,"services":[...]` for the matrix's JSON: per Service port, over the endpoints the JSON
    lists (those in view), `allowed` (every pod behind it) and `someAllowed`."""
    names = mv.matrix.endpoints
    keep = mv.in_view if mv.view.active else np.arange(len(names))
    keep = keep[keep < len(mv.matrix.class_of)]
    n = len(columns[0].every) if columns else 0
    rows = [i for i in keep.tolist() if i < n]
    items = []
    for col in shown_columns(columns, mv):
        svc = col.service
        items.append({
            "service": svc.key, "port": str(col.port),
            "targetPort": col.port.target_port,
            "clusterIP": None if svc.cluster_ip is None else str(svc.cluster_ip),
            "clusterIPAssigned": svc.cluster_ip_assigned, "headless": svc.headless,
            "implied": svc.implied,
            "pods": [names[i] for i in col.pods],
            "podPorts": [str(t) for t in col.targets],
            "unserved": [names[i] for i in col.unserved],
            "allowed": [bool(col.every[i]) for i in rows],
            "someAllowed": [bool(col.some[i]) for i in rows],
        })
    return b',"services":' + json.dumps(items, separators=(",", ":")).encode()
