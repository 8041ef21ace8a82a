"""Click callbacks that hold command-line values to the rules of the fields they stand for."""

from __future__ import annotations

import click

from podwall.errors import InputError


def namespace_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`-n/--namespace`: a DNS-1123 label, as `metadata.namespace` (None: not given)."""
    from podwall.manifests.defaults import check_namespace

    if value is None:
        return None
    try:
        return check_namespace(value)
    except InputError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[1], ctx, param) from None
