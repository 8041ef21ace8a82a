"""`podwall` and its verbs.

Each command module exports COMMANDS (a list of click commands). `VERBS` below says which
module holds which verb, so that running one verb imports only its module: start-up is most of
what a small run costs (tests/cli/test_main.py holds the table to the modules).
"""

from __future__ import annotations

import importlib

import click

from podwall import __version__

# Every verb and the module that defines it, in the order `--help` lists them.
VERBS = {
    "validate": "podwall.cli.understand",
    "check": "podwall.cli.understand",
    "matrix": "podwall.cli.understand",
    "explain": "podwall.cli.understand",
    "graph": "podwall.cli.pictures",
    "report": "podwall.cli.pictures",
    "diff": "podwall.cli.compare",
    "lint": "podwall.cli.compare",
    "lab": "podwall.cli.lab",
    "dataplane": "podwall.cli.lab",
}


class LazyVerbs(click.Group):
    """A group that imports a verb's module only when that verb runs (or help lists them all)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = VERBS.get(cmd_name)
        if module is None:
            return None
        for command in importlib.import_module(module).COMMANDS:
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        return None


@click.group(cls=LazyVerbs,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def main() -> None:
    cli(prog_name="podwall")
