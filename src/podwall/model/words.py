"""Counting words for human output, at the bottom of the stack so that every stage says
"1 namespace" and "2 namespaces" the same way (analysis.wording re-exports it)."""

from __future__ import annotations

# Nouns whose plural is not the noun + "s".
_PLURALS = {"policy": "policies", "box": "boxes", "class": "classes", "info": "info",
            "address": "addresses", "match": "matches", "entry": "entries"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 namespace`, `2 namespaces`, `0 policies`: every count in human output goes through here."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or _PLURALS.get(noun, noun + 's')}"
