"""Names of the labs of this test session: `t<pid>-<N>` (namespaces `pw-t<pid>-<N>-…`).

The pid makes two test sessions on one machine (two engineers, or CI jobs) unable to tear down
each other's labs; `stale_labs` finds the labs of sessions that died without cleaning up.
"""

from __future__ import annotations

import itertools
import os
import re

SESSION = f"t{os.getpid()}"
_counter = itertools.count()
_TEST_NETNS = re.compile(r"^pw-(t(\d+)-[a-z0-9-]+?)-(?:node|p\d+|x\d+)$")


def next_name() -> str:
    return f"{SESSION}-{next(_counter)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_labs(netns_names: list[str]) -> list[str]:
    """Test labs whose session (the pid in the name) is gone: safe to take down."""
    found: list[str] = []
    for name in netns_names:
        match = _TEST_NETNS.match(name)
        if (match and int(match.group(2)) != os.getpid() and not _alive(int(match.group(2)))
                and match.group(1) not in found):
            found.append(match.group(1))
    return found
