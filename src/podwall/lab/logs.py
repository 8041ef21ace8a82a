"""Reading the collector's events back: `lab logs [--since D] [-f]`.

The events file is data written by the lab's collector (JSON Lines, see
podwall.lab.collector); it is opened without following symlinks and read only when its owner
is the invoking user and nobody else may write it, like every other state file of the lab.
Rotation (`events.jsonl` -> `events.1.jsonl`) is followed: the rotated file is read first, and
a follower that finds a new file under the name starts reading it from its beginning.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from podwall.errors import InputError
from podwall.lab.attribution import iso_time
from podwall.lab.collector import EVENTS, ROTATED
from podwall.lab.store import Store, UnsafeStateError, check_owned

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """`90s`, `10m`, `1h30m`, `2d` -> seconds (InputError with an example otherwise)."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise InputError(f"--since: invalid duration {text!r} (e.g. 30s, 10m, 1h30m, 2d)")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _open(store: Store, name: str) -> IO[str] | None:
    if not store.exists():
        return None
    path = store.path(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnsafeStateError(f"refusing lab state file {path}: {exc.strerror}") from None
    handle = os.fdopen(fd, encoding="utf-8", errors="replace")
    try:
        check_owned(path, os.fstat(fd), directory=False)
    except BaseException:
        handle.close()
        raise
    return handle


def _events(lines: Iterable[str], since: str | None) -> Iterator[dict[str, Any]]:
    for line in lines:
        if not line.endswith("\n"):
            return  # a line being written: the follower reads it whole later
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and (since is None or str(event.get("time", "")) >= since):
            yield event


def since_time(seconds: float | None) -> str | None:
    """The ISO time `seconds` ago (events carry ISO times in UTC: they compare as text)."""
    return None if seconds is None else iso_time(time.time() - seconds)


def read_events(store: Store, since: str | None = None) -> Iterator[dict[str, Any]]:
    """Every event recorded (the rotated file first), optionally only those since a time."""
    for name in (ROTATED, EVENTS):
        handle = _open(store, name)
        if handle is not None:
            with handle:
                yield from _events(handle, since)


def follow(store: Store, since: str | None = None, poll: float = 0.2,
           alive: Callable[[], bool] = lambda: True) -> Iterator[dict[str, Any]]:
    """`read_events`, then every new event as it comes, until `alive()` says the lab is gone."""
    handle = _open(store, ROTATED)
    if handle is not None:
        with handle:
            yield from _events(handle, since)
    current = _open(store, EVENTS)
    position = 0
    try:
        while True:
            if current is not None:
                current.seek(position)
                for line in iter(current.readline, ""):
                    if not line.endswith("\n"):
                        break
                    position = current.tell()
                    yield from _events([line], since)
            if not alive():
                return
            time.sleep(poll)
            latest = _open(store, EVENTS)
            if latest is None:
                continue
            if current is None or os.fstat(latest.fileno()).st_ino != os.fstat(
                    current.fileno()).st_ino:
                if current is not None:  # rotated: what the old file got last, then the new one
                    current.seek(position)
                    for line in current:
                        yield from _events([line], since)
                    current.close()
                current, position = latest, 0
            else:
                latest.close()
    finally:
        if current is not None:
            current.close()


def event_text(event: dict[str, Any]) -> str:
    """One line of `lab logs`: time, action, who to whom, port, generation, and why."""
    port = event.get("port")
    where = f"{event.get('protocol')}/{port}" if port is not None else str(event.get("protocol"))
    return (f"{event.get('time')} {str(event.get('action', '?')).upper():<5} "
            f"{event.get('src')} -> {event.get('dst')} {where} g{event.get('generation')}: "
            f"{event.get('reason')}")


__all__ = ["event_text", "follow", "parse_duration", "read_events", "since_time"]
