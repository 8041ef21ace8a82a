"""The logging contract of the ruleset: which NFLOG group, how fast, and the prefix every
logged packet carries, `pw <action> <stage> g<generation> <namespace> [admin|baseline]`, written
by `log_prefix` and read back by `parse_prefix`. The compiler writes it and the lab's collector
reads it (podwall.lab.collector); it is a module of its own so that a reader depends on the
contract, not on the compiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podwall.dataplane.nftsyntax import quoted
from podwall.model import Direction

# Drops are logged at most this fast per shared chain (the per-pod counters count every drop):
# enough for every probe of a lab run, bounded under a flood.
LOG_RATE = "100/second burst 200 packets"
# The NFLOG group of podwall's log statements. 100, not 0 or 1: the low groups are what other
# tools (ulogd2's examples, iptables NFLOG defaults) use first, and a group has one reader per
# network namespace.
LOG_GROUP = 100
LOG_GROUP_MAX = 65535
# Where the generation's number goes in a log prefix (inside a quoted string, so not GENERATION:
# `quoted` would turn its `%` into `?`). No Kubernetes name holds `@` or capitals.
LOG_GENERATION = "@GEN@"
# The actions an event can report: a drop, a drop an audited policy would make, an admission.
ACTIONS = ("drop", "audit", "allow")
# Where a packet was judged: at its source's egress, its destination's ingress, or by the base
# chain alone (neither side isolated; only logged with --log-allowed).
STAGES = ("egress", "ingress", "forward")
# The tier whose Deny logged, as the last word of a prefix ("": not a cluster policy's Deny).
TIERS = ("", "admin", "baseline")
LOG_PREFIX_MAX = 127


def log_prefix(namespace: str, direction: Direction | str, action: str = "drop",
               tier: str = "") -> str:
    """`pw <action> <stage> g<generation> <ns> [<tier>]` (before quoting; the generation is
    filled in by `Ruleset.render`), clipped to what the kernel accepts.

    The contract a reader relies on is the first four words (`parse_prefix`): what happened,
    where, and which generation's rule said so; and the last word when a cluster policy's Deny
    logged: `admin` or `baseline` (never clipped: the namespace is). The chain that logs is
    shared by pods: the packet's addresses tell which pods; the namespace is there for a human
    reading raw NFLOG.
    """
    stage = direction.word if isinstance(direction, Direction) else direction
    if action not in ACTIONS or stage not in STAGES or tier not in TIERS:
        raise ValueError(f"log_prefix: action {action!r} / stage {stage!r} / tier {tier!r} "
                         f"not in {ACTIONS} / {STAGES} / {TIERS}")
    head = f"pw {action} {stage} g{LOG_GENERATION} "
    tail = f" {tier}" if tier else ""
    room = (LOG_PREFIX_MAX - len(head) - len(tail)
            - 10 + len(LOG_GENERATION))  # 10 digits of a generation
    return head + namespace[:room] + tail


@dataclass(frozen=True, slots=True)
class LogPrefix:
    """What a log prefix says: `action` (drop, audit, allow), `stage` (egress, ingress, forward),
    the ruleset `generation` whose rule logged, the namespace of the chain (may be ""), and
    the `tier` ("admin", "baseline") whose Deny logged it ("": not a cluster policy's Deny)."""

    action: str
    stage: str
    generation: int
    namespace: str = ""
    tier: str = ""


_PREFIX = re.compile(r"pw (drop|audit|allow) (egress|ingress|forward) g(\d{1,10})"
                     r"(?: (\S*))?(?: (admin|baseline))?\s*")


def parse_prefix(text: str) -> LogPrefix | None:
    """The contract of `log_prefix` read back (None: not one of podwall's)."""
    found = _PREFIX.fullmatch(text)
    if found is None:
        return None
    return LogPrefix(found.group(1), found.group(2), int(found.group(3)), found.group(4) or "",
                     found.group(5) or "")


def log_statement(namespace: str, direction: Direction | str, action: str, group: int,
                  *, limit: bool = True, tier: str = "") -> str:
    """`[limit rate ...] log group N prefix "..."`: one logging statement of the ruleset."""
    rate = f"limit rate {LOG_RATE} " if limit else ""
    return (f"{rate}log group {group} prefix "
            f"{quoted(log_prefix(namespace, direction, action, tier), LOG_PREFIX_MAX)}")
