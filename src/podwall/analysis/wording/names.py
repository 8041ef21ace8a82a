"""How endpoint names are listed in a line: a few names and a count, and the mark of an
implied component. Its own module because verdicts, groups and exposure all use it and none of
them may import another that imports it back.
"""

from __future__ import annotations

from collections.abc import Sequence


def keys_words(keys: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def implied_words(name: str, implied: bool) -> str:
    """`kube-system/coredns (implied)`: a component the input did not carry."""
    return f"{name} (implied)" if implied else name


def implied_end_words(label: str, implied: Sequence[str]) -> str:
    """A line's end that names implied endpoints among others: `kube-system/coredns (implied)`
    for the implied endpoint alone, `kube-system/* (with implied kube-system/coredns)` for a
    group that holds it."""
    if not implied:
        return label
    if len(implied) == 1 and implied[0] == label:
        return f"{label} (implied)"
    return f"{label} (with implied {keys_words(list(implied))})"
