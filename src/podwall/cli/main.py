"""`podwall` and its verbs. Each command module exports COMMANDS (a list of click commands)."""

from __future__ import annotations

import importlib

import click

from podwall import __version__

# Command modules, in the order `--help` lists them. Each exports COMMANDS.
COMMAND_MODULES = [
    "podwall.cli.understand",
    "podwall.cli.pictures",
    "podwall.cli.compare",
    "podwall.cli.lab",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="podwall")
def cli() -> None:
    """podwall: Kubernetes NetworkPolicy, end to end.

    Read manifests, validate them as the API server would, tell exactly what can talk to what
    and why, and enforce it with nftables.

    \b
    Start here:
      podwall validate examples/
      podwall check examples/three-tier/ --from shop/web --to shop/db --port TCP/5432
      podwall matrix examples/three-tier/
      podwall explain examples/three-tier/
    """


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="podwall")
