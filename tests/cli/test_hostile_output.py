"""Failures around the command: output that cannot be written, a config that is not UTF-8 or is
an alias bomb. A one-line message and an exit code, never a traceback (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
THREE_TIER = str(ROOT / "examples" / "three-tier")
MAIN = "from podwall.cli.main import main; main()"


def podwall(*args: str, stdout: IO[str] | int = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", MAIN, *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", [["validate", THREE_TIER], ["matrix", THREE_TIER],
                                  ["matrix", "-o", "json", THREE_TIER]])
def test_a_full_disk_is_a_message_and_exit_2(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        run = podwall(*args, stdout=full)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        "podwall: cannot write output: No space left on device")
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-c", MAIN, "matrix", "-o", "json", THREE_TIER],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 1) and "Traceback" not in err, err


@pytest.mark.parametrize(("content", "words"), [
    (b"disable: [\xff]\n", "not UTF-8 text"),
    (b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n".encode()
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)), "excessive aliasing"),
    (b"disable: !!bool maybe\n", "cannot decode !!str `maybe` as a !!bool"),
])
def test_a_bad_lint_config_is_a_message(tmp_path: Path, content: bytes, words: str) -> None:
    config = tmp_path / "lint.yaml"
    config.write_bytes(content)
    run = podwall("lint", "--config", str(config), THREE_TIER)
    assert run.returncode == 2 and words in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
