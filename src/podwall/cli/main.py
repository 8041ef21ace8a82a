"""`podwall` and its verbs.

Each command module exports COMMANDS (a list of click commands). `VERBS` below says which
module holds which verb, so that running one verb imports only its module: start-up is most of
what a small run costs (tests/cli/test_main.py holds the table to the modules).

Installed as `kubectl-podwall` too, so `kubectl podwall ...` runs it as a kubectl plugin: help
and usage then show `kubectl podwall`, and `--kubeconfig`, `--context` and `-n` are accepted
right after the plugin name (kubectl passes a plugin everything after its name).
"""

from __future__ import annotations

import importlib
import os
import re
import sys

import click

from podwall import __version__
from podwall.cli.live import cluster_options

# Every verb and the module that defines it, in the order `--help` lists them.
VERBS = {
    "validate": "podwall.cli.understand",
    "check": "podwall.cli.understand",
    "matrix": "podwall.cli.understand",
    "explain": "podwall.cli.understand",
    "exposure": "podwall.cli.exposure",
    "graph": "podwall.cli.pictures",
    "report": "podwall.cli.pictures",
    "diff": "podwall.cli.compare",
    "lint": "podwall.cli.compare",
    "snapshot": "podwall.cli.cluster",
    "lab": "podwall.cli.lab",
    "dataplane": "podwall.cli.lab",
}

PROGRAM = ["podwall"]  # the name the program was called by (see main)


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
                if PROGRAM[0] != "podwall":
                    _rename_examples(command, PROGRAM[0])
                return command  # type: ignore[no-any-return]
        return None


@click.group(cls=LazyVerbs,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="podwall")
@cluster_options
@click.option("-n", "--namespace", "namespace", metavar="NS",
              help="The verb's -n/--namespace, given before the verb.")
@click.pass_context
def cli(ctx: click.Context, namespace: str | None) -> None:
    """podwall: Kubernetes NetworkPolicy, end to end.

    Read manifests, validate them as the API server would, tell exactly what can talk to what
    and why, and enforce it with nftables. Without PATH, the understanding verbs read the live
    cluster of the current kubeconfig context, as kubectl does.

    \b
    Start here:
      podwall validate examples/
      podwall check examples/three-tier/ --from shop/web --to shop/db --port TCP/5432
      podwall matrix examples/three-tier/
      podwall explain examples/three-tier/
      podwall check --context prod --from shop/web --to shop/db --port TCP/5432
    """
    if namespace is not None:
        # Every verb's own -n defaults to the one given before it.
        ctx.default_map = {**(ctx.default_map or {}),
                           **{name: {"namespace": namespace} for name in VERBS}}


def program_name(argv0: str) -> str:
    """`kubectl podwall` when run as the kubectl plugin (kubectl execs `kubectl-podwall`)."""
    return "kubectl podwall" if os.path.basename(argv0).startswith("kubectl-podwall") \
        else "podwall"


def _rename_examples(command: click.Command, name: str) -> None:
    """Examples in help texts name the program as it was called."""
    if command.help:
        command.help = re.sub(r"(?m)^(\s+)podwall ", rf"\1{name} ", command.help)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _rename_examples(sub, name)


def main() -> None:
    PROGRAM[0] = program_name(sys.argv[0] if sys.argv else "podwall")
    if PROGRAM[0] != "podwall":
        _rename_examples(cli, PROGRAM[0])
    cli(prog_name=PROGRAM[0])
