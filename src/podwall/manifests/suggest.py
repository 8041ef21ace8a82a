"""Did you mean ...? The nearest known word to a misspelled kind or field name.

A word matches when it is the same ignoring case and whitespace (`networkpolicy`, `Network
Policy`), or when it is within a small edit distance (optimal string alignment: a swapped pair of
letters, `Deploymnet`, is one edit), on the lower-cased text. Short words get less slack, so `to`
never "means" `tls`. Ties keep the first candidate in the caller's order.
"""

from __future__ import annotations

from collections.abc import Iterable


def _normal(word: str) -> str:
    return "".join(word.split()).lower()


def distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between a and b, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]):
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _slack(word: str) -> int:
    """How many edits a word of this length may be away from the one meant."""
    return 0 if len(word) <= 3 else 1 if len(word) <= 5 else 2


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate the word most likely meant, or None when none is close."""
    wanted = _normal(word)
    if not wanted:
        return None
    best: str | None = None
    best_distance = _slack(wanted) + 1
    for candidate in candidates:
        normal = _normal(candidate)
        if normal == wanted:
            return candidate
        d = distance(wanted, normal, best_distance - 1)
        if d < best_distance:
            best, best_distance = candidate, d
    return best
