"""Where a ruleset goes: the kernel (`nft`), or memory for unit tests.

Why applying takes two transactions, and why neither deletes the table. nf_tables commits a batch
atomically, but not everything a packet reads flips at one instant: the kernel picks a chain's
rules by generation once, at the start of each base chain, while set and map lookups read the
generation again at each lookup. A batch that deletes the table and adds it again therefore has a
window in which a packet runs the old rules against already-deleted maps (a miss: the base
chain's policy accepts), or the new base chain (hooked in front of the old one) before its rules
are visible. A flood of connections to an always-denied pod, across 60 such swaps, got through.

So the base chain stays, and every other object belongs to one generation (its name ends in
`.g<n>`, see podwall.dataplane.compile):

1. ONE transaction adds generation n+1 beside n (new sets, maps, chains; counters are shared)
   and replaces the base chain's rules with rules that use them. A packet that started with the
   old rules looks up only generation-n objects, which this transaction does not touch; one that
   starts with the new rules finds every generation-(n+1) object complete.
2. A second transaction deletes what generation n+1 does not use: the older generations, their
   chains' rules first, and counters of pods that are no longer isolated.

Either transaction lands whole or not at all; a ruleset the kernel refuses in step 1 leaves the
previous one in place, and `DataplaneError` carries nft's own words.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from typing import Protocol

from podwall.dataplane.compile import (
    BASE_CHAIN,
    BASE_CHAIN_TYPE,
    TABLE,
    Ruleset,
    generation_of,
    is_counter_map,
    is_drop_counter,
)
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

    def apply(self, ruleset: Ruleset) -> int:
        """Replace the table atomically; on failure the previous table stays (DataplaneError).
        Returns the generation now live (what the log prefixes of its rules say)."""

    def check(self, ruleset: Ruleset) -> None:
        """Validate without changing anything (DataplaneError with the reason)."""

    def remove(self) -> None:
        """Delete the table if present."""

    def counters(self) -> dict[str, CounterValue]:
        """Named counters of the table (drop counters per pod and direction, `spoofed`)."""


_LISTED = re.compile(r"^\t(chain|set|map) (\S+) \{$")


@dataclass(frozen=True, slots=True)
class TableObjects:
    """What a table holds, by name: enough to pick the next generation and to clean up."""

    chains: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    maps: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()  # only the drop counters the listed generations use

    @property
    def counter_maps(self) -> tuple[str, ...]:
        """The maps that tell which drop counter each pod interface counts into."""
        return tuple(m for m in self.maps if is_counter_map(m))

    @property
    def generation(self) -> int:
        """The newest generation present (0 when there is none)."""
        found = [g for name in (*self.chains, *self.sets, *self.maps)
                 if (g := generation_of(name)) is not None]
        return max(found, default=0)

    @classmethod
    def from_listing(cls, listing: str, table: str = TABLE) -> TableObjects:
        """From the text of `nft -t` listing chains, sets and maps (declarations only: listing
        the table itself would print every rule and set element)."""
        kinds: dict[str, list[str]] = {"chain": [], "set": [], "map": []}
        inside = False
        for line in listing.splitlines():
            if line.startswith("table "):
                inside = line == f"table inet {table} {{"
            elif inside and (m := _LISTED.match(line)):
                kinds[m.group(1)].append(m.group(2))
        return cls(tuple(kinds["chain"]), tuple(kinds["set"]), tuple(kinds["map"]))


def transaction(ruleset: Ruleset, generation: int, table: str = TABLE) -> str:
    """Step 1: add `generation` beside what is there and point the base chain at it."""
    return (f"add table inet {table}\n"
            f"add chain inet {table} {BASE_CHAIN} {{ {BASE_CHAIN_TYPE} }}\n"
            f"flush chain inet {table} {BASE_CHAIN}\n"
            + ruleset.render(generation))


def cleanup(present: TableObjects, ruleset: Ruleset, table: str = TABLE) -> str:
    """Step 2: delete what the table held before step 1 and the new generation does not use
    ("" when nothing). Rules go first (they hold the sets and chains), then the maps (their
    elements hold chains), then sets, chains, and the counters of pods no longer isolated."""
    chains = [c for c in present.chains if c != BASE_CHAIN]
    needed = {c.name for c in ruleset.counters}
    stale_counters = [c for c in present.counters if is_drop_counter(c) and c not in needed]
    lines = [f"flush chain inet {table} {c}" for c in chains]
    lines += [f"delete map inet {table} {m}" for m in present.maps]
    lines += [f"delete set inet {table} {s}" for s in present.sets]
    lines += [f"delete chain inet {table} {c}" for c in chains]
    lines += [f"delete counter inet {table} {c}" for c in stale_counters]
    return "".join(line + "\n" for line in lines)


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

    def apply(self, ruleset: Ruleset) -> int:
        present = self.objects()
        generation = present.generation + 1
        self._run(["-f", "-"], transaction(ruleset, generation, self.table),
                  "nft refused the ruleset (the previous ruleset is still in place)")
        stale = cleanup(present, ruleset, self.table)
        if stale:
            self._run(["-f", "-"], stale, "the new ruleset is in place, but nft could not delete "
                                          "the previous generation")
        return generation

    def check(self, ruleset: Ruleset) -> None:
        """Parse and validate against the kernel without committing (`nft -c`)."""
        generation = self._declared().generation + 1
        self._run(["-c", "-f", "-"], transaction(ruleset, generation, self.table),
                  "nft rejects the ruleset")

    def remove(self) -> None:
        self._run(["-f", "-"], f"add table inet {self.table}\ndelete table inet {self.table}\n")

    def objects(self) -> TableObjects:
        """Names of the table's chains, sets and maps, and the drop counters its generations use
        (none when there is no table).

        Declarations only (`-t`), and the counters from the generations' counter maps: listing
        the counters themselves makes nft read every rule (0.1 s for 10k rules). A table of
        another layout (no counter maps) is listed whole, once, to take it over.
        """
        present = self._declared()
        if present.counter_maps:
            counters: set[str] = set()
            for name in present.counter_maps:
                out = self._run(["-j", "list", "map", "inet", self.table, name],
                                what="nft could not list a counter map")
                for item in json.loads(out).get("nftables", []):
                    for element in item.get("map", {}).get("elem", []):
                        if isinstance(element, list) and len(element) == 2:
                            counters.add(str(element[1]))
            return replace(present, counters=tuple(sorted(counters)))
        if present.chains:
            return replace(present, counters=tuple(sorted(self.counters())))
        return present

    def _declared(self) -> TableObjects:
        """The table's chains, sets and maps by name: enough for the next generation's number."""
        listing = self._run(["-t", "-f", "-"], "list chains inet\nlist sets inet\nlist maps inet\n",
                            "nft could not list the table")
        return TableObjects.from_listing(listing, self.table)

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

    def apply(self, ruleset: Ruleset) -> int:
        self.check(ruleset)
        if self.fail_next:
            message, self.fail_next = self.fail_next, None
            raise DataplaneError(
                f"nft refused the ruleset (the previous ruleset is still in place): {message}")
        self.applied.append(ruleset.text)
        self.current = ruleset.text
        return len(self.applied)

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
