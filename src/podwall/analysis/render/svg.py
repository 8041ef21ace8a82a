"""SVG by Graphviz `dot` (Debian package `graphviz`): the one renderer that runs a program.

A missing `dot`, a failure or a timeout is a `PodwallError` whose message says what to do, so the
CLI prints one line and exits 2.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

from podwall.errors import PodwallError

_PAGE = re.compile(r'<g id="page\d+,\d+_graph0" class="graph"')
DOT_TIMEOUT = 300.0  # seconds; a few thousand nodes lay out in well under a minute


def find_dot() -> str | None:
    return shutil.which("dot")


def dot_to_svg(source: str, *, timeout: float = DOT_TIMEOUT) -> str:
    """Lay out and draw DOT `source` as a standalone SVG document."""
    return _dot(source, timeout)


def dots_to_svgs(sources: Sequence[str], *, timeout: float = DOT_TIMEOUT) -> list[str]:
    """Several DOT graphs drawn by one `dot` run, one standalone SVG document each, in order.

    A run costs ~20 ms of CPU before any layout (plugins, fonts): the report's 15 pictures at
    1,000 pods paid 0.3 s for that alone. dot lays out each graph of its input on its own and
    writes the documents one after the other; each starts with the XML declaration, which
    cannot occur inside one (dot escapes every `<` of a label). Graphs of one layout engine
    only: a graph's `layout=fdp` stays in force for the graphs after it in the same run.
    """
    if not sources:
        return []
    text = _dot("".join(s if s.endswith("\n") else s + "\n" for s in sources), timeout)
    # dot numbers the graphs after the first as pages ("page0,1_graph0"): each is a document
    # of its own here, with the id a run of its own gives it
    documents = [_PAGE.sub('<g id="graph0" class="graph"', "<?xml" + d, count=1)
                 for d in text.split("<?xml")[1:]]
    if len(documents) != len(sources):
        raise PodwallError(f"Graphviz `dot` drew {len(documents)} pictures of {len(sources)}")
    return documents


def _dot(source: str, timeout: float) -> str:
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
