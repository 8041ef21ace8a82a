"""Labels and label selectors, as immutable values.

Selectors are data here; what they match is decided in `podwall.engine.selectors`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


class Labels(Mapping[str, str]):
    """An immutable, hashable label map (so endpoints can be grouped into classes by labels)."""

    __slots__ = ("_hash", "_items", "_map")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._map: dict[str, str] = dict(items or {})
        self._items = tuple(sorted(self._map.items()))
        self._hash = hash(self._items)

    def __getitem__(self, key: str) -> str:
        return self._map[key]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._map.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Labels], tuple[dict[str, str]]]:
        return (Labels, (self._map,))  # rebuild: the cached hash is per process

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._map == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Labels({self._map!r})"

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self._items)

    @property
    def items_sorted(self) -> tuple[tuple[str, str], ...]:
        return self._items

    def with_label(self, key: str, value: str) -> Labels:
        merged = dict(self._map)
        merged[key] = value
        return Labels(merged)


class Operator(enum.StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One `matchExpressions` entry; `values` is sorted so equal meaning means equal value."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A Kubernetes LabelSelector. The empty selector matches everything.

    `match_labels` is a sorted tuple of pairs (hashable, canonical).
    """

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    @staticmethod
    def of(match_labels: Mapping[str, str] | None = None,
           match_expressions: tuple[Requirement, ...] = ()) -> LabelSelector:
        return LabelSelector(tuple(sorted((match_labels or {}).items())), tuple(match_expressions))

    def __str__(self) -> str:
        if self.is_empty:
            return "{}"
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for req in self.match_expressions:
            if req.operator is Operator.EXISTS:
                parts.append(req.key)
            elif req.operator is Operator.DOES_NOT_EXIST:
                parts.append(f"!{req.key}")
            else:
                op = "in" if req.operator is Operator.IN else "notin"
                parts.append(f"{req.key} {op} ({','.join(req.values)})")
        return ",".join(parts)
