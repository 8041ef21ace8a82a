"""Kernel tests of the data plane: skipped LOUDLY without root, `ip` or `nft`.

They work inside namespaces named `pw-tdp…` and delete them in fixtures, passing or failing.
"""

from __future__ import annotations

import warnings

import pytest

from tests.kernel import AVAILABLE, REASON

_skipped: list[str] = []


@pytest.fixture(autouse=True)
def _kernel_or_loud_skip(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("kernel") is not None and not AVAILABLE:
        _skipped.append(request.node.nodeid)
        warnings.warn(f"KERNEL TEST SKIPPED: {REASON}", stacklevel=1)
        pytest.skip(f"SKIPPED LOUDLY: {REASON}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"WARNING: {len(_skipped)} data plane kernel tests were SKIPPED: {REASON}",
            yellow=True, bold=True)
