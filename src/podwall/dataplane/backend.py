"""Where a ruleset goes: the kernel (`nft`), or memory for unit tests.

Applying replaces the whole table in ONE nft transaction (`add table; delete table; <table>`):
either every change lands or none does, so no packet sees a half-applied ruleset, and a ruleset
the kernel refuses leaves the previous one in place. (Replacing the table also restarts its
counters: readers of the drop counters treat a decrease as a reset, as Prometheus does.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Protocol

from podwall.dataplane.compile import TABLE, Ruleset
from podwall.errors import DataplaneError

# Where `nft` and `ip` live on Debian when the caller's PATH lacks the sbin directories
# (unprivileged users inside a user namespace usually have no /usr/sbin in PATH).
SBIN = ("/usr/sbin", "/sbin")


def find_tool(name: str) -> str | None:
    path = shutil.which(name)
    if path is None:
        path = shutil.which(name, path=os.pathsep.join(SBIN))
    return path


@dataclass(frozen=True, slots=True)
class CounterValue:
    packets: int
    bytes: int


class Backend(Protocol):
    """What the compiler's output can be given to."""

    def apply(self, ruleset: Ruleset) -> None:
        """Replace the table atomically; on failure the previous table stays (DataplaneError)."""

    def check(self, ruleset: Ruleset) -> None:
        """Validate without changing anything (DataplaneError with the reason)."""

    def remove(self) -> None:
        """Delete the table if present."""

    def counters(self) -> dict[str, CounterValue]:
        """Named counters of the table (drop counters per pod and direction, `spoofed`)."""


def transaction(ruleset: Ruleset, table: str = TABLE) -> str:
    """The text that swaps the table atomically (adding first makes the delete always valid)."""
    return f"add table inet {table}\ndelete table inet {table}\n{ruleset.text}"


@dataclass
class NftBackend:
    """The real thing: `nft -f -`, optionally inside a network namespace (`ip netns exec`)."""

    netns: str | None = None
    table: str = TABLE

    def _run(self, args: list[str], stdin: str | None = None, what: str = "nft failed") -> str:
        nft = find_tool("nft")
        if nft is None:
            raise DataplaneError("nft is not installed (Debian: apt-get install nftables)")
        command = [nft, *args]
        if self.netns:
            ip = find_tool("ip")
            if ip is None:
                raise DataplaneError("ip is not installed (Debian: apt-get install iproute2)")
            command = [ip, "netns", "exec", self.netns, *command]
        proc = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            words = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}")
            if "Operation not permitted" in words:
                words += (" (nft needs CAP_NET_ADMIN: run with sudo, or inside its own network "
                          "namespace: unshare -Urn)")
            raise DataplaneError(f"{what}: {words}")
        return proc.stdout

    def apply(self, ruleset: Ruleset) -> None:
        self._run(["-f", "-"], transaction(ruleset, self.table),
                  "nft refused the ruleset (the previous ruleset is still in place)")

    def check(self, ruleset: Ruleset) -> None:
        """Parse and validate against the kernel without committing (`nft -c`)."""
        self._run(["-c", "-f", "-"], transaction(ruleset, self.table), "nft rejects the ruleset")

    def remove(self) -> None:
        self._run(["-f", "-"], f"add table inet {self.table}\ndelete table inet {self.table}\n")

    def current(self) -> str | None:
        """The table as the kernel lists it, or None when there is none."""
        try:
            return self._run(["list", "table", "inet", self.table])
        except DataplaneError as exc:
            if "No such file or directory" in str(exc):
                return None
            raise

    def counters(self) -> dict[str, CounterValue]:
        out = self._run(["-j", "list", "counters", "table", "inet", self.table])
        found: dict[str, CounterValue] = {}
        for item in json.loads(out).get("nftables", []):
            counter = item.get("counter")
            if counter and counter.get("table") == self.table:
                found[counter["name"]] = CounterValue(int(counter.get("packets", 0)),
                                                      int(counter.get("bytes", 0)))
        return found


@dataclass
class MemoryBackend:
    """Records what would be applied; the unit tests' kernel.

    `fail_next` makes the next apply fail like a refused ruleset: `current` stays as it was.
    """

    applied: list[str] = field(default_factory=list)
    current: str | None = None
    fail_next: str | None = None

    def apply(self, ruleset: Ruleset) -> None:
        self.check(ruleset)
        if self.fail_next:
            message, self.fail_next = self.fail_next, None
            raise DataplaneError(
                f"nft refused the ruleset (the previous ruleset is still in place): {message}")
        self.applied.append(ruleset.text)
        self.current = ruleset.text

    def check(self, ruleset: Ruleset) -> None:
        text = ruleset.text
        if not text.startswith("table inet ") or text.count("{") != text.count("}"):
            raise DataplaneError("nft rejects the ruleset: not one balanced inet table")

    def remove(self) -> None:
        self.current = None

    def counters(self) -> dict[str, CounterValue]:
        """Every counter the current ruleset declares, at zero (nothing flows in memory)."""
        if self.current is None:
            return {}
        return {line.split()[1]: CounterValue(0, 0) for line in self.current.splitlines()
                if line.startswith("  counter ")}
