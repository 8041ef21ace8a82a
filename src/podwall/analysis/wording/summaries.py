"""Summaries of large outputs (matrix, explain, diff): how to drill down, and the headings
of views that count classes, namespaces and endpoints instead of listing every pair.
"""

from __future__ import annotations


def drill_down_words(flags: str, *, full: str = "--full") -> str:
    """How to see more than a summary; `flags` are the view's options already given."""
    given = f" (now: {flags})" if flags else ""
    return (f"Drill down{given}: -n NS for one namespace, --focus NS/NAME for one endpoint, "
            f"--from SEL / --to SEL for labels (kubectl -l syntax), {full} for everything.")


def matrix_drill_down_words(flags: str, focus: str | None = None) -> str:
    if focus is not None:
        return (f"One endpoint pairs with every other, so the grid stays wide: "
                f"`podwall explain --focus {focus}` lists what it reaches and what reaches it "
                f"by name; --full (or -o csv) prints every cell.")
    return drill_down_words(flags, full="--full (or -o csv / -o json)")


def explain_policies_counted_words(count: int) -> str:
    return (f"Policies ({count}): too many to list here; see them per namespace below, "
            "or in full with -n NS or --full.")


def explain_classes_heading_words(endpoints: int, classes: int) -> str:
    return (f"\nEndpoints ({endpoints}) in {classes} classes (endpoints that every policy "
            "treats alike), summarised: more than 50 endpoints. Counts are endpoints in view, "
            "per port.")


def explain_namespaces_heading_words(endpoints: int, namespaces: int, classes: int) -> str:
    return (f"\nEndpoints ({endpoints}) in {namespaces} namespaces and {classes} classes "
            "(endpoints that every policy treats alike), summarised per namespace:")


def explain_pairs_note_words() -> str:
    return ("  PAIRS-FROM / PAIRS-TO: pairs of distinct endpoints in view allowed on at least "
            "one port, from / to the namespace's endpoints.")


def class_members_words(count: int, kind: str) -> str:
    return f"{count} {kind}" + ("" if count == 1 else "s")


def diff_namespace_count_words(count: int) -> str:
    return f"{count} connection{'' if count == 1 else 's'}"


def diff_namespaces_heading_words(lines: int | None, limit: int) -> str:
    """Heading of a diff summarised per namespace pair (`lines` None: not computed)."""
    why = (f"{lines} lines of changes" if lines is not None
           else "too many changes to list")
    return (f"{why} (more than {limit}): per namespace pair, connections are endpoint pairs "
            "x ports:")


def diff_endpoints_per_namespace_words(change: str, namespace: str, count: int) -> str:
    return f"endpoints {change}: {count} in namespace {namespace}"
