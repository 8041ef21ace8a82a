"""Values given on the command line that stand in for fields of the manifests.

`-n/--namespace` becomes the `metadata.namespace` of every object that names none, so it must
pass the same check: it ends up in names of nft chains and counters, lab state and output. A
value the API server would refuse is refused here, before anything reads it.
"""

from __future__ import annotations

from podwall.errors import InputError
from podwall.manifests import syntax


def check_namespace(value: str) -> str:
    """`value` when it is a valid `metadata.namespace` (a DNS-1123 label), else InputError with
    the API server's words."""
    problems = syntax.dns1123_label(value)
    if problems:
        raise InputError(f"--namespace {value!r}: metadata.namespace: Invalid value: "
                         f"{syntax.go_quote(value)}: {'; '.join(problems)}")
    return value
