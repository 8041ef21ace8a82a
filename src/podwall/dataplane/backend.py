"""Where a ruleset goes: the kernel (`nft`), or memory for unit tests.

Applying replaces the whole table in ONE nft transaction (`add table; delete table; <table>`):
either every change lands or none does, so no packet sees a half-applied ruleset, and a ruleset
the kernel refuses leaves the previous one in place.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Protocol

from podwall.dataplane.compile import TABLE, Ruleset
from podwall.errors import DataplaneError


class Backend(Protocol):
    def apply(self, ruleset: Ruleset) -> None: ...
    def check(self, ruleset: Ruleset) -> None: ...
    def remove(self) -> None: ...


def transaction(ruleset: Ruleset, table: str = TABLE) -> str:
    """The text that swaps the table atomically (adding first makes the delete always valid)."""
    return f"add table inet {table}\ndelete table inet {table}\n{ruleset.text}"


@dataclass
class NftBackend:
    """The real thing: `nft -f -`, optionally inside a network namespace (`ip netns exec`)."""

    netns: str | None = None
    table: str = TABLE

    def _run(self, args: list[str], stdin: str | None = None) -> str:
        if shutil.which("nft") is None:
            raise DataplaneError("nft is not installed (Debian: apt-get install nftables)")
        command = ["nft", *args]
        if self.netns:
            command = ["ip", "netns", "exec", self.netns, *command]
        proc = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise DataplaneError(f"nft refused the ruleset: {proc.stderr.strip() or proc.stdout}")
        return proc.stdout

    def apply(self, ruleset: Ruleset) -> None:
        self._run(["-f", "-"], transaction(ruleset, self.table))

    def check(self, ruleset: Ruleset) -> None:
        """Parse and validate without touching the kernel's ruleset (`nft -c`)."""
        self._run(["-c", "-f", "-"], transaction(ruleset, self.table))

    def remove(self) -> None:
        self._run(["-f", "-"], f"add table inet {self.table}\ndelete table inet {self.table}\n")

    def counters(self) -> str:
        return self._run(["list", "counters", "table", "inet", self.table])


@dataclass
class MemoryBackend:
    """Records what would be applied; the unit tests' kernel."""

    applied: list[str] = field(default_factory=list)
    current: str | None = None
    fail_next: str | None = None

    def apply(self, ruleset: Ruleset) -> None:
        if self.fail_next:
            message, self.fail_next = self.fail_next, None
            raise DataplaneError(f"nft refused the ruleset: {message}")
        self.applied.append(ruleset.text)
        self.current = ruleset.text

    def check(self, ruleset: Ruleset) -> None:
        if not ruleset.text.startswith("table inet "):
            raise DataplaneError("not a table")

    def remove(self) -> None:
        self.current = None
