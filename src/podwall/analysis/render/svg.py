"""SVG by Graphviz `dot` (Debian package `graphviz`): the one renderer that runs a program.

A missing `dot`, a failure or a timeout is a `PodwallError` whose message says what to do, so the
CLI prints one line and exits 2.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections.abc import Sequence

from podwall.errors import PodwallError

_PAGE = re.compile(r'<g id="page\d+,\d+_graph0" class="graph"')
_CLUSTER_START = re.compile(r'<g id="[^"]*" class="cluster">\n<title>([^<]*)</title>\n')
_G_TAG = re.compile(r"<g[ >]|</g>")
_SUBGRAPH = re.compile(r'subgraph\s+"?(cluster[^\s{"]*)"?\s*\{')
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
    return [clusters_in_source_order(d, s) for d, s in zip(documents, sources, strict=True)]


def clusters_in_source_order(svg: str, source: str) -> str:
    """The SVG with its cluster boxes in the order the DOT source declares them.

    dot (2.43) writes a graph's clusters in the order of its internal ids, which for every graph
    but the first of a run depend on where earlier graphs left the heap: the same batch gave two
    orders in 30 runs. The boxes do not overlap except parent around child, which the source
    declares first, so this order draws the same picture, and the same bytes as a run of its
    own. Anything unexpected (clusters not in one run, names the source lacks) leaves it alone.
    """
    order = {name: i for i, name in enumerate(_SUBGRAPH.findall(source))}
    blocks: list[tuple[int, int, str]] = []
    position = 0
    while (found := _CLUSTER_START.search(svg, position)) is not None:
        depth, end = 0, found.start()
        for tag in _G_TAG.finditer(svg, found.start()):
            depth += -1 if tag.group() == "</g>" else 1
            if depth == 0:
                end = tag.end() + 1  # the newline after the closing tag
                break
        if depth != 0 or found.group(1) not in order:
            return svg
        blocks.append((found.start(), end, found.group(1)))
        position = end
    if len(blocks) < 2 or any(a[1] != b[0] for a, b in itertools.pairwise(blocks)):
        return svg
    ordered = sorted(blocks, key=lambda block: order[block[2]])
    first, last = blocks[0][0], blocks[-1][1]
    return svg[:first] + "".join(svg[a:b] for a, b, _ in ordered) + svg[last:]


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
