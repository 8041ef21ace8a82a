"""A connectivity graph as Graphviz DOT: namespaces are clusters, classes are boxes.

Graphviz does all the layout. An arrow that stands for a whole namespace starts or ends at a
dashed `all endpoints` box inside that namespace (Graphviz misplaces labels of arrows clipped at
a cluster border, so `lhead`/`ltail` are not used). Node, edge and namespace ids become SVG
element ids (`n3`, `e7`, `ns1`, `ns1-all`), which the HTML report uses to make the picture
clickable.

`newrank=true` ranks the whole graph at once instead of cluster by cluster: the older, per-cluster
ranking fails ("trouble in init_rank", then lost edges) once arrows between clusters form the
knots of a 2,000-pod cluster (measured on `benchmarks/generate.py --pods 2000`).

Pictures of more than BIG_ARROWS arrows label them with `xlabel`, placed after the layout,
instead of `label`: dot makes every label a node of its own rank, which doubles the ranks and
the long arrows' bends; at 1,000 pods (480 arrows) that took Graphviz ~4 s of CPU and a picture
12,700 x 11,900 pt, against ~0.5 s and 5,300 x 9,900 pt with xlabels. `forcelabels=false` leaves
out the few labels that would cover a box or another label (13 of 255 there): every labelled
arrow's words are also its tooltip.
"""

from __future__ import annotations

from html import escape

from podwall.analysis import wording
from podwall.analysis.graph import (
    OUTSIDE,
    ConnectivityGraph,
    GraphEdge,
    GraphHub,
    GraphNamespace,
    GraphNode,
)
from podwall.analysis.overview import NamespaceArrow, Overview

FONT = "Helvetica"
# Fill by ingress isolation: open (no policy isolates it) or isolated.
FILL_OPEN, FILL_ISOLATED = "#fde2c8", "#e3f4e8"
NAMESPACE_EDGE, HUB = "#2b6cb0", "#6b46c1"
LINE, NAMESPACE_LINE, NAMESPACE_FILL, FOCUS = "#4a5568", "#b8c2cc", "#f4f6f8", "#1f6feb"
OUTSIDE_LINE = "#c05621"


def _html(text: str) -> str:
    return escape(text, quote=True)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(title: str, lines: list[str], *, bold: bool = False) -> str:
    head = f"<b>{_html(title)}</b>" if bold else _html(title)
    rest = "".join(f'<br/><font point-size="9">{_html(line)}</font>' for line in lines)
    return f"<{head}{rest}>"


def _fill(node: GraphNode) -> str:
    return FILL_OPEN if node.open_in else FILL_ISOLATED


def anchor(namespace_id: str) -> str:
    """The DOT name of a namespace's `all endpoints` box."""
    return f"{namespace_id}_all"


def _node(graph: ConnectivityGraph, node: GraphNode, indent: str) -> str:
    if node.elsewhere:
        return (f'{indent}{node.id} [id="{node.id}", shape=tab, style="dashed,filled", '
                f'fillcolor="#ffffff", color="{NAMESPACE_EDGE}", fontcolor="{NAMESPACE_EDGE}", '
                f"label={_label(node.label, [], bold=True)}, "
                f"tooltip={_quoted('open namespace ' + node.namespace)}];")
    tooltip = ", ".join(wording.implied_words(k, k in node.implied) for k in node.members[:20]) \
        + (" …" if len(node.members) > 20 else "")
    attrs = [f'id="{node.id}"', f"label={_label(node.label, graph.node_markers(node))}",
             f'fillcolor="{_fill(node)}"', f"tooltip={_quoted(tooltip)}"]
    if node.focus:
        attrs += [f'color="{FOCUS}"', "penwidth=2.5"]
    return f"{indent}{node.id} [{', '.join(attrs)}];"


def _namespace(graph: ConnectivityGraph, ns: GraphNamespace, anchored: set[str]) -> list[str]:
    out = [f"  subgraph cluster_{ns.id} {{",
           f'    id="{ns.id}";',
           f"    label={_label(ns.name, graph.namespace_markers(ns), bold=True)};",
           f"    tooltip={_quoted('namespace ' + ns.name)};"]
    if ns.id in anchored:
        out.append(f'    {anchor(ns.id)} [id="{ns.id}-all", '
                   f"label={_label(wording.ALL_IN_NAMESPACE, [])}, "
                   f'style="rounded,dashed,filled", fillcolor="#ffffff", '
                   f'color="{NAMESPACE_EDGE}", fontcolor="{NAMESPACE_EDGE}", '
                   f"tooltip={_quoted('every endpoint in namespace ' + ns.name)}];")
    out += [_node(graph, graph.nodes[n], "    ") for n in ns.nodes]
    out += [_hub(graph, h, "    ") for h in graph.hubs.values() if h.namespace == ns.name]
    out.append("  }")
    return out


def _hub(graph: ConnectivityGraph, hub: GraphHub, indent: str) -> str:
    return (f'{indent}{hub.id} [id="{hub.id}", shape=ellipse, style="filled", '
            f'fillcolor="#ffffff", color="{HUB}", fontcolor="{HUB}", fontsize=9, '
            f'margin="0.04,0.02", height=0.25, label={_quoted(graph.port_words(hub.ports))}];')


#: Above this many arrows a picture labels them after the layout (see the module's docstring).
BIG_ARROWS = 200
#: Graphviz's effort on the ordering of big pictures (mclimit scales its crossing-reduction
#: passes): 0.3 ended within 0.3% of the default's crossings at 1,000 pods, in a third the time.
BIG_LAYOUT = "forcelabels=false, mclimit=0.3, "

#: A stand-in for another namespace with more arrows than this draws them without labels (the
#: ports are in each arrow's tooltip and in the panel): a fan of labelled arrows is unreadable.
QUIET_FAN = 3


def _edge(graph: ConnectivityGraph, edge: GraphEdge, index: int, quiet: set[str],
          big: bool) -> str:
    attrs = [f'id="e{index}"']

    def label(words: str) -> list[str]:
        if big:  # placed after the layout, and kept as the tooltip in case it does not fit
            return [f"xlabel={_quoted(words)}", f"tooltip={_quoted(words)}"]
        return [f"label={_quoted(words)}"]

    if edge.src in graph.hubs or edge.dst in graph.hubs:
        attrs.append(f'color="{HUB}"')
        if edge.dst in graph.hubs:
            attrs.append("arrowhead=none")
    elif edge.src in quiet or edge.dst in quiet:
        attrs += [f"tooltip={_quoted(graph.port_words(edge.ports))}", f'color="{NAMESPACE_EDGE}"']
    elif edge.by_ip:
        attrs += [*label(graph.edge_words(edge)), f'color="{OUTSIDE_LINE}"',
                  f'fontcolor="{OUTSIDE_LINE}"', 'style="dotted"']
    elif OUTSIDE in (edge.src, edge.dst):
        attrs += [*label(graph.edge_words(edge)), f'color="{OUTSIDE_LINE}"',
                  f'fontcolor="{OUTSIDE_LINE}"', 'style="dashed"']
    else:
        attrs += label(graph.port_words(edge.ports))
    tail = edge.src if _plain(graph, edge.src) else anchor(edge.src)
    head = edge.dst if _plain(graph, edge.dst) else anchor(edge.dst)
    if graph.namespace(edge.src) is not None or graph.namespace(edge.dst) is not None:
        attrs += ["penwidth=1.4", f'color="{NAMESPACE_EDGE}"', f'fontcolor="{NAMESPACE_EDGE}"']
    return f"  {tail} -> {head} [{', '.join(attrs)}];"


def _plain(graph: ConnectivityGraph, end: str) -> bool:
    """An end drawn as itself (a box, a hub, the outside), not as a namespace's anchor."""
    return end in graph.nodes or end in graph.hubs or end == OUTSIDE


def _outside_node() -> str:
    return (f'  {OUTSIDE} [id="{OUTSIDE}", shape=octagon, style="dashed,filled", '
            f'fillcolor="#ffffff", color="{OUTSIDE_LINE}", fontcolor="{OUTSIDE_LINE}", '
            f"label={_label(wording.OUTSIDE_NODE, [], bold=True)}, "
            f"tooltip={_quoted('addresses outside the cluster (see podwall exposure)')}];")


def graph_dot(graph: ConnectivityGraph, *, legend: bool = True) -> str:
    """DOT text; `legend=False` leaves the how-to-read lines out (the report shows them)."""
    rows = "".join(f'<tr><td align="left">{_html(line)}</td></tr>' for line in graph.legend())
    label = (f', label=<<table border="0" cellspacing="0" cellpadding="1">{rows}</table>>'
             if legend else "")
    big = len(graph.edges) > BIG_ARROWS
    out = [
        "digraph podwall {",
        f'  graph [newrank=true, {BIG_LAYOUT if big else ""}rankdir=LR, fontname="{FONT}", '
        "fontsize=11, "
        f'nodesep=0.3, ranksep=0.9, labeljust=l, labelloc=b, '
        f'style="rounded,filled", color="{NAMESPACE_LINE}", fillcolor="{NAMESPACE_FILL}"'
        f"{label}];",
        f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=11, '
        f'color="{LINE}", margin="0.12,0.04"];',
        f'  edge [fontname="{FONT}", fontsize=9, color="{LINE}", arrowsize=0.7];',
    ]
    anchored = {end for e in graph.edges for end in (e.src, e.dst)
                if graph.namespace(end) is not None}
    for ns in graph.namespaces:
        out += _namespace(graph, ns, anchored)
    inside = {n for ns in graph.namespaces for n in ns.nodes}
    out += [_node(graph, n, "  ") for n in graph.nodes.values() if n.id not in inside]
    # Stand-ins for other namespaces: where arrows come from on the left, go to on the right.
    for rank, prefix in (("min", "x"), ("max", "y")):
        ends = [n.id for n in graph.nodes.values() if n.elsewhere and n.id.startswith(prefix)]
        if ends:
            out.append(f"  {{rank={rank}; {'; '.join(ends)};}}")
    out += [_hub(graph, h, "  ") for h in graph.hubs.values() if h.namespace is None]
    if graph.has_outside:
        out.append(_outside_node())
    fans: dict[str, int] = {}
    for e in graph.edges:
        for end in (e.src, e.dst):
            if end in graph.nodes and graph.nodes[end].elsewhere:
                fans[end] = fans.get(end, 0) + 1
    quiet = {end for end, count in fans.items() if count > QUIET_FAN}
    out += [_edge(graph, e, i, quiet, big) for i, e in enumerate(graph.edges)]
    out.append("}")
    return "\n".join(out) + "\n"


def overview_dot(overview: Overview, *, interactive: bool = False) -> str:
    """One box per namespace, one arrow per namespace pair (ids `ns3`, `e0`).

    `interactive` (the report): fdp's springs keep a dense namespace graph compact and close to
    the screen's shape; arrows both ways between two namespaces are one arrow with two heads,
    and ports and counts are in tooltips only (labels on 70 arrows make a picture nobody reads;
    the page lists them on a click). On paper (`graph --namespaces`): dot's ranks, one labelled
    arrow per direction (fdp cannot place labels without overlaps).
    """
    layout = ("layout=fdp, splines=true, overlap=false" if interactive
              else "newrank=true, rankdir=LR, nodesep=0.3, ranksep=1.2")
    out = [
        "digraph podwall_namespaces {",
        f'  graph [{layout}, fontname="{FONT}", fontsize=11];',
        f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=12, '
        f'color="{NAMESPACE_LINE}", fillcolor="{NAMESPACE_FILL}", margin="0.15,0.06"];',
        f'  edge [fontname="{FONT}", fontsize=9, color="{NAMESPACE_EDGE}", '
        f'fontcolor="{NAMESPACE_EDGE}", arrowsize=0.7];',
    ]
    for ns in overview.namespaces:
        # On the page, a box says its name and size; the panel says the rest on a click.
        lines = ns.lines(overview.ports)
        label = _label(ns.name, lines[:1] if interactive else lines, bold=True)
        tip = "namespace " + ns.name + (": click for its boxes" if interactive else "")
        out.append(f'  {ns.id} [id="{ns.id}", label={label}, tooltip={_quoted(tip)}];')
    names = {ns.id: ns.name for ns in overview.namespaces}
    drawn = {(a.src, a.dst): a for a in overview.drawn}

    def ports(a: NamespaceArrow) -> str:
        return f"{wording.port_set_words(a.ports, overview.ports)} ({wording.pairs_words(a.pairs)})"

    def words(a: NamespaceArrow) -> str:
        return f"{names[a.src]} \u2192 {names[a.dst]}: {ports(a)}"

    for i, ((src, dst), a) in enumerate(sorted(drawn.items())):
        back = drawn.get((dst, src)) if interactive else None
        if back is not None and src > dst:
            continue  # drawn once, with both heads, from the other end
        tooltip = words(a) + ("; " + words(back) if back is not None else "")
        pairs = a.pairs + (back.pairs if back is not None else 0)
        extra = ", dir=both" if back is not None else ""
        if not interactive:
            extra += (f", label=<{_html(wording.port_set_words(a.ports, overview.ports))}"
                      f"<br/>{_html(wording.pairs_words(a.pairs))}>")
        out.append(f'  {src} -> {dst} [id="e{i}", tooltip={_quoted(tooltip)}{extra}, '
                   f"penwidth={1 + min(2.5, pairs / 400):.2f}];")
    out.append("}")
    return "\n".join(out) + "\n"
