"""Mappings and sequences that remember the line of every key and item (1-based).

Both YAML readers (libyaml's, and the block-style reader in `blockyaml`) build these, so
validation can point at `file:line` for any field path.
"""

from __future__ import annotations

from typing import Any

_NO_DUPLICATES: list[tuple[str, int]] = []  # shared, never appended to: see add_duplicate


class Located(dict[str, Any]):
    """A mapping that knows its line and the line of each key (1-based).

    `nested_duplicates` is set on a document's root when a duplicate key occurs anywhere in it,
    so the common case needs no walk of the tree to find them.
    """

    __slots__ = ("duplicates", "key_lines", "line", "nested_duplicates")

    def __init__(self, line: int | None = None) -> None:
        # dict.__new__ already made the empty mapping; this runs for every mapping in the input,
        # so it does no more than it must (the duplicates list appears on the first duplicate).
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = _NO_DUPLICATES
        self.nested_duplicates = False

    def add_duplicate(self, key: str, line: int) -> None:
        if self.duplicates is _NO_DUPLICATES:
            self.duplicates = []
        self.duplicates.append((key, line))


class LocatedList(list[Any]):
    """A sequence that knows its line and the line of each item (1-based)."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []
