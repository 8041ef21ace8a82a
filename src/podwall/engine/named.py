"""A named port as one column: the number each destination gives the name, per destination.

A NetworkPolicy's named port resolves on the destination pod, and so does a name asked for on
the command line: `TCP/http` from s to d is the connection to the number d's containers call
`http` (`TCP/8080` at one destination, `TCP/80` at another), and does not exist where d has no
container port of that name. With N(d) that number, `allowed[s, d] = allowed_N(d)[s, d]`.

Endpoint classes already tell apart endpoints with different container ports, so N is a
function of the destination class. The column is built from the class-level row tables of each
number the name has, without any (source, destination) loop:

- ingress is a row per destination class: class d takes its own number's row (destinations
  without the name take an all-false row);
- egress is a row per source class over destination classes: bit d of it comes from the
  source's row for N(d). Sources that use the same row in every number's table share the
  composed row, so rows are composed once per distinct tuple of rows, by masking each
  number's rows to the destinations of that number and OR-ing them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from podwall.model import ContainerPort, NamedPortQuery

IntArray = npt.NDArray[np.int64]
UInt8Array = npt.NDArray[np.uint8]

Table = tuple[UInt8Array, IntArray]  # (packed rows, row of each class), as in a RowTable


def numbers_of(ports_of_class: Sequence[tuple[ContainerPort, ...]],
               query: NamedPortQuery) -> IntArray:
    """Per class, the number its container ports give `query` (-1: no such name there)."""
    out = np.full(len(ports_of_class), -1, dtype=np.int64)
    for cid, ports in enumerate(ports_of_class):
        resolved = query.resolve(ports)
        if resolved is not None:
            out[cid] = resolved.port
    return out


def compose(number_of: IntArray, numbers: Sequence[int], egress: Sequence[Table],
            ingress: Sequence[Table], width: int) -> tuple[Table, Table]:
    """The (egress, ingress) tables of the named column, from those of each of its `numbers`
    (same order). `width`: bytes of a packed row (the same in every table)."""
    size = len(number_of)
    which = np.full(size, -1, dtype=np.int64)  # per destination class: index into numbers
    for k, n in enumerate(numbers):
        which[number_of == n] = k
    # ingress: each destination class points at its own number's row; an all-false row last
    parts = [packed for packed, _ in ingress] + [np.zeros((1, width), dtype=np.uint8)]
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]]).astype(np.int64)
    of = np.full(size, offsets[-1], dtype=np.int64)
    for k, (_, table_of) in enumerate(ingress):
        mine = which == k
        of[mine] = offsets[k] + table_of[mine]
    used, inverse = np.unique(of, return_inverse=True)
    ingress_table = (np.ascontiguousarray(np.concatenate(parts)[used]),
                     inverse.reshape(-1).astype(np.int64))
    # egress: one composed row per distinct tuple of per-number rows
    if not numbers:
        return (np.zeros((1, width), dtype=np.uint8), np.zeros(size, dtype=np.int64)), ingress_table
    combos, combo_of = np.unique(np.stack([table_of for _, table_of in egress], axis=1),
                                 axis=0, return_inverse=True)
    packed = np.zeros((len(combos), width), dtype=np.uint8)
    for k, (rows, _) in enumerate(egress):
        mask = np.zeros(width, dtype=np.uint8)
        bits = np.packbits(which == k)
        mask[:len(bits)] = bits
        packed |= rows[combos[:, k]] & mask
    return (packed, combo_of.reshape(-1).astype(np.int64)), ingress_table
