"""Golden files: compare output with tests/golden/...; PODWALL_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(relative: str, actual: str) -> None:
    path = GOLDEN / relative
    if os.environ.get("PODWALL_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}: run with PODWALL_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=str(path), tofile="actual"))
        raise AssertionError(f"output differs from {path} "
                             f"(PODWALL_UPDATE_GOLDEN=1 to accept):\n{diff}")
