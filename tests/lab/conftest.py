"""Kernel tests of the lab: skipped LOUDLY without root, `ip` or `nft`; never leave anything.

Every lab in these tests is named `t<pid>-<N>` (namespaces `pw-t<pid>-<N>-…`, see `names.py`),
and every test tears its lab down in a finally/fixture, passing or failing; the session starts by
taking down labs of earlier sessions that died, and ends by asserting that no namespace, lab
process or state directory of its own is left.
"""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kernel import AVAILABLE, REASON
from tests.lab.names import SESSION, stale_labs

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
            f"WARNING: {len(_skipped)} lab kernel tests were SKIPPED: {REASON}", yellow=True,
            bold=True)


def leftovers(prefix: str = f"pw-{SESSION}-") -> list[str]:
    """Namespaces, lab processes and state directories of test labs that still exist (labs of
    other names, e.g. someone's `dbg` lab on the same machine, are not ours to judge)."""
    found = [f"netns {n}" for n in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split()
        if n.startswith(prefix)]
    found += [f"process {p}" for p in subprocess.run(
        ["pgrep", "-f", rf"podwall\.lab\.(server|prober|collector) --lab {prefix[3:]}"],
        capture_output=True, text=True, check=False).stdout.split()]
    # links are created inside the lab's namespaces; none may ever appear on the machine itself
    found += [f"link {line.split(':')[1].strip()}" for line in subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout.splitlines()
        if ": pw-" in line]
    # each pod's resolv.conf (`ip netns exec` mounts /etc/netns/NAME/resolv.conf)
    found += [f"etc {d}" for d in Path("/etc/netns").glob(f"{prefix}*")]
    root = Path("/run/podwall/labs")
    if root.exists():
        found += [f"state {d}" for d in root.iterdir() if d.name.startswith(prefix[3:])]
    return found


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_behind() -> Iterator[None]:
    """Before: take down labs of test sessions that died. After every lab test (passing or
    failing): no namespace, process or state of this session's labs remains."""
    if AVAILABLE:
        from podwall.lab import topology
        from podwall.lab.lab import Lab

        for name in stale_labs(topology.netns_list()):
            warnings.warn(f"taking down lab {name!r} left by a test session that died",
                          stacklevel=1)
            Lab(name).down()
    yield
    if AVAILABLE:
        left = leftovers()
        assert not left, f"lab tests left things behind: {left}"
