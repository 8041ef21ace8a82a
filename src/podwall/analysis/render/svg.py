"""SVG by Graphviz `dot` (Debian package `graphviz`): the one renderer that runs a program.

A missing `dot`, a failure or a timeout is a `PodwallError` whose message says what to do, so the
CLI prints one line and exits 2.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from podwall.errors import PodwallError

DOT_TIMEOUT = 300.0  # seconds; a few thousand nodes lay out in well under a minute


def find_dot() -> str | None:
    return shutil.which("dot")


def dot_to_svg(source: str, *, timeout: float = DOT_TIMEOUT) -> str:
    """Lay out and draw DOT `source` as a standalone SVG document."""
    exe = find_dot()
    if exe is None:
        raise PodwallError(
            "Graphviz `dot` was not found on PATH; it draws the SVG picture. Install it "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), or ask "
            "for text instead: -o dot or -o mermaid")
    try:
        done = subprocess.run([exe, "-Tsvg"], input=source.encode(), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PodwallError(f"Graphviz `dot` did not finish in {timeout:.0f} s; draw less: "
                           "--focus ns/name or fewer --port") from None
    except OSError as exc:
        raise PodwallError(f"could not run Graphviz `dot` ({exe}): {exc}") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        words = "; ".join(lines[:3]) + (f" (+{len(lines) - 3} more lines)" if len(lines) > 3
                                        else "") if lines else f"exit status {done.returncode}"
        raise PodwallError(f"Graphviz `dot` failed: {words}")
    return done.stdout.decode()


def inline_svg(svg: str) -> str:
    """The `<svg>` element alone (no XML prolog, DOCTYPE or comments), to embed in HTML."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    return re.sub(r"<!--.*?-->\s*", "", body, flags=re.DOTALL).strip()
