"""What podwall prints from its input is one line and inert on a terminal (issue 15, item 7)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.errors import Diagnostic, Severity, printable


def test_controls_and_escapes_are_written_as_escapes() -> None:
    assert printable("a\nb\r\tc\x1b[31md\x7f\x85e\u2028f\u202eg") == (
        "a\\nb\\r\\tc\\x1b[31md\\x7f\\x85e\\u2028f\\u202eg")
    assert printable("plain text, é, 日本") == "plain text, é, 日本"


def test_a_diagnostic_is_one_line_whatever_its_parts_hold() -> None:
    d = Diagnostic('Invalid value: "x"', Severity.WARNING, file="a\nb.yaml", line=3,
                   obj="Namespace bad\nb.yaml:1: forged\x1b[2J", path="metadata.name")
    assert str(d) == ('a\\nb.yaml:3: warning: Namespace bad\\nb.yaml:1: forged\\x1b[2J: '
                      'metadata.name: Invalid value: "x"')


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(), st.text(), st.text())
def test_nothing_unprintable_survives(message: str, file: str, obj: str) -> None:
    shown = str(Diagnostic(message, file=file, obj=obj))
    assert shown.isprintable()
