"""Fuzzing the command-line argument parsers with a fixed budget: any --from, --to, --port,
--namespace or --pod-cidr ends in an answer or a one-line usage error (exit 0, 1 or 2), never an
exception."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.cli.main import cli

THREE_TIER = str(Path(__file__).resolve().parents[2] / "examples" / "three-tier")
BUDGET = settings(max_examples=120, derandomize=True, deadline=None, database=None)

texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["shop/web", "shop/db", "10.0.0.5", "::1", "0.0.0.0/0", "shop/", "/x", "-",
                     "TCP/5432", "UDP/53", "SCTP/1", "tcp/0", "TCP/65536", "TCP/http", "443",
                     "TCP/1-2", "1:20", "0x1F", "9" * 5000, "ns/name/extra", "a\nb", "\x1b[2J"]),
)


def _run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)


@BUDGET
@given(texts, texts, texts)
def test_check_arguments(source: str, destination: str, port: str) -> None:
    _run("check", THREE_TIER, "--from", source, "--to", destination, "--port", port)


@BUDGET
@given(texts, texts)
def test_input_options(namespace: str, pod_cidr: str) -> None:
    _run("validate", THREE_TIER, "-n", namespace, "--pod-cidr", pod_cidr)


@BUDGET
@given(texts)
def test_matrix_port(port: str) -> None:
    _run("matrix", THREE_TIER, "--port", port)
