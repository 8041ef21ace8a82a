from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.kernel import AVAILABLE


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_behind() -> Iterator[None]:
    """After every lab test (passing or failing) no pw-t namespace or lab process remains."""
    yield
    if not AVAILABLE:
        return
    left = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                      check=False).stdout.split() if n.startswith("pw-t")]
    procs = subprocess.run(["pgrep", "-f", "podwall.lab.(server|prober)"], capture_output=True,
                           text=True, check=False).stdout.split()
    assert not left, f"lab tests left namespaces behind: {left}"
    assert not procs, f"lab tests left processes behind: {procs}"
