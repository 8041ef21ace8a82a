"""The verb table of `podwall.cli.main` agrees with the command modules, and a verb imports
only its own module."""

from __future__ import annotations

import importlib
import subprocess
import sys

from click.testing import CliRunner

from podwall.cli.main import VERBS, cli


def test_every_module_verb_is_in_the_table_and_back() -> None:
    defined = {command.name: module for module in set(VERBS.values())
               for command in importlib.import_module(module).COMMANDS}
    assert defined == VERBS


def test_help_lists_every_verb() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for verb in VERBS:
        assert f"  {verb} " in result.output


def test_unknown_verb_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["matrx"])
    assert result.exit_code == 2
    assert "No such command 'matrx'" in result.output


def test_one_verb_imports_only_its_module() -> None:
    code = ("import sys; from podwall.cli.main import cli\n"
            "try:\n    cli(['check', '--help'], prog_name='podwall')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('podwall.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1]
    assert "podwall.cli.understand" in out
    for other in set(VERBS.values()) - {"podwall.cli.understand"}:
        assert other not in out
