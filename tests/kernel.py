"""Shared guard for tests that touch the kernel: they need root, `ip` and `nft`.

Without them the tests skip LOUDLY (a warning in the summary, never silently); CI runs as root.
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest

MISSING = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
REASON = ("kernel tests need root and the ip and nft tools"
          + (f" (missing: {', '.join(MISSING)})" if MISSING else "")
          + ("" if os.geteuid() == 0 else " (not root)"))
AVAILABLE = os.geteuid() == 0 and not MISSING

if not AVAILABLE:
    warnings.warn(f"SKIPPING KERNEL TESTS: {REASON}", stacklevel=1)

requires_kernel = pytest.mark.skipif(not AVAILABLE, reason=REASON)
