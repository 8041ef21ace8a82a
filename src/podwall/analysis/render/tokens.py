"""Byte rows from class rows: one numpy gather per class row, never one Python step per cell.

Renderers of pairs (matrix Markdown and grid, explain's name lists) write rows whose cells are
one of a few tokens per column (` ✅ |` or ` ❌ |`; a name or nothing). Rows of endpoints of one
class are equal but for the endpoint's own cell, so a class row is joined once (`Tokens.join`)
and each endpoint's row is that bytes object with one cell replaced (`Joined.with_cell`): the
work follows the output's size. (CSV, where every cell is a line that starts with the row's own
prefix, joins lists of shared cells instead: `render.matrix.write_csv`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Tokens:
    """For each column, a choice of byte strings: `choices[k][j]` is token k of column j."""

    buffer: npt.NDArray[np.uint8]  # every token of every choice, back to back
    starts: IntArray  # (choices, columns)
    lengths: IntArray  # (choices, columns)

    @staticmethod
    def of(choices: Sequence[Sequence[bytes]]) -> Tokens:
        flat = [t for choice in choices for t in choice]
        lengths = np.fromiter((len(t) for t in flat), np.int64, len(flat))
        starts = np.zeros(len(flat), dtype=np.int64)
        if len(flat):
            np.cumsum(lengths[:-1], out=starts[1:])
        shape = (len(choices), len(choices[0]) if choices else 0)
        return Tokens(np.frombuffer(b"".join(flat), dtype=np.uint8), starts.reshape(shape),
                      lengths.reshape(shape))

    @property
    def columns(self) -> int:
        return int(self.starts.shape[1])

    def join(self, choice: IntArray) -> Joined:
        """The row whose column j is token `choice[j]` of column j."""
        cols = np.arange(self.columns, dtype=np.int64)
        starts = self.starts[choice, cols]
        lengths = self.lengths[choice, cols]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        if total == 0:
            return Joined(b"", offsets)
        return Joined(self._gather(starts, lengths, offsets, total), offsets)

    def _gather(self, starts: IntArray, lengths: IntArray, offsets: IntArray, total: int
                ) -> bytes:
        """The tokens at `starts` (of `lengths`) back to back: byte k of the result is
        buffer[starts[t] + k - offsets[t]] for the token t that holds it. Index arithmetic in
        32 bits when the buffer allows (half the memory traffic), the ramp added in place."""
        kind = np.int32 if len(self.buffer) < 2**31 and total < 2**31 else np.int64
        index = np.repeat((starts - offsets[:-1]).astype(kind), lengths)
        index += _ramp(total, kind)
        return self.buffer[index].tobytes()

    def pick(self, columns: IntArray, choice: int = 1) -> Picked:
        """Token `choice` of the given (sorted) columns only, back to back: the cost follows
        the columns picked, not the row's width (sparse rows: explain's name lists)."""
        starts = self.starts[choice, columns]
        lengths = self.lengths[choice, columns]
        offsets = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        if total == 0:
            return Picked(b"", columns, offsets)
        return Picked(self._gather(starts, lengths, offsets, total), columns, offsets)

    def token(self, choice: int, column: int) -> bytes:
        start = int(self.starts[choice, column])
        return self.buffer[start:start + int(self.lengths[choice, column])].tobytes()


_RAMPS: dict[type, npt.NDArray[np.integer]] = {}


def _ramp(length: int, kind: type) -> npt.NDArray[np.integer]:
    """0, 1, ..., length - 1, sliced from one cached array (renderers ask for it per row)."""
    ramp = _RAMPS.get(kind)
    if ramp is None or len(ramp) < length:
        ramp = _RAMPS[kind] = np.arange(max(length, 1 << 16), dtype=kind)
    return ramp[:length]


@dataclass(frozen=True, slots=True)
class Joined:
    """A joined row and where each column's token starts (`offsets[j]..offsets[j + 1]`)."""

    body: bytes
    offsets: IntArray

    def with_cell(self, column: int, token: bytes) -> bytes:
        """The row with column `column`'s token replaced (an endpoint's own cell)."""
        a, b = int(self.offsets[column]), int(self.offsets[column + 1])
        if self.body[a:b] == token:
            return self.body
        return self.body[:a] + token + self.body[b:]


@dataclass(frozen=True, slots=True)
class Picked:
    """Tokens of some columns joined (`Tokens.pick`), and where each starts."""

    body: bytes
    columns: IntArray  # sorted
    offsets: IntArray

    def without(self, column: int) -> bytes:
        """The body without `column`'s token (an endpoint left out of its own list)."""
        k = int(np.searchsorted(self.columns, column))
        if k == len(self.columns) or int(self.columns[k]) != column:
            return self.body
        a, b = int(self.offsets[k]), int(self.offsets[k + 1])
        return self.body[:a] + self.body[b:]

    def pieces_without(self, column: int, trim: int = 0) -> tuple[memoryview, ...]:
        """`without(column)` minus its last `trim` bytes (a trailing separator), as views of the
        body: nothing is copied, so a writer can pass hundreds of megabytes straight through."""
        view = memoryview(self.body)
        k = int(np.searchsorted(self.columns, column)) if len(self.columns) else 0
        if k == len(self.columns) or int(self.columns[k]) != column:
            return (view[:max(len(view) - trim, 0)],)
        a, b = int(self.offsets[k]), int(self.offsets[k + 1])
        if b == len(view):  # the last token goes: the separator to cut ends the piece before it
            return (view[:max(a - trim, 0)],)
        return (view[:a], view[b:len(view) - trim])
