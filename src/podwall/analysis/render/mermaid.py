"""A connectivity graph as a Mermaid flowchart (renders in GitHub and GitLab Markdown).

Namespaces are subgraphs; an edge to or from a subgraph stands for every endpoint in it.
"""

from __future__ import annotations

from podwall.analysis import wording
from podwall.analysis.graph import OUTSIDE, ConnectivityGraph, GraphNode
from podwall.analysis.overview import Overview
from podwall.analysis.render.dot import FILL_OPEN, FOCUS


def _text(text: str) -> str:
    """Mermaid's quoted labels: entity codes for the characters it would parse."""
    return (text.replace("#", "#35;").replace('"', "#quot;")
            .replace("<", "#lt;").replace(">", "#gt;"))


def _label(title: str, lines: list[str]) -> str:
    return '"' + "<br/>".join(_text(t) for t in [title, *lines]) + '"'


def _class(graph: ConnectivityGraph, node: GraphNode) -> str | None:
    if node.focus:
        return "focus"
    return "openIn" if node.open_in else None


def graph_mermaid(graph: ConnectivityGraph) -> str:
    out = ["flowchart LR"]
    out += [f"  %% {line}" for line in graph.legend()]
    classes: dict[str, list[str]] = {}
    for ns in graph.namespaces:
        out.append(f"  subgraph {ns.id}[{_label(ns.name, graph.namespace_markers(ns))}]")
        for node_id in ns.nodes:
            node = graph.nodes[node_id]
            out.append(f"    {node.id}[{_label(node.label, graph.node_markers(node))}]")
            css = _class(graph, node)
            if css is not None:
                classes.setdefault(css, []).append(node.id)
        out += [f"    {h.id}(({_label(graph.port_words(h.ports), [])}))"
                for h in graph.hubs.values() if h.namespace == ns.name]
        out.append("  end")
    out += [f"  {h.id}(({_label(graph.port_words(h.ports), [])}))"
            for h in graph.hubs.values() if h.namespace is None]
    if graph.has_outside:
        out.append(f"  {OUTSIDE}{{{{{_label(wording.OUTSIDE_NODE, [])}}}}}")
    for edge in graph.edges:
        if OUTSIDE in (edge.src, edge.dst) or edge.by_ip:
            out.append(f"  {edge.src} -. {_label(graph.edge_words(edge), [])} .-> {edge.dst}")
        elif edge.dst in graph.hubs:
            out.append(f"  {edge.src} --- {edge.dst}")
        elif edge.src in graph.hubs:
            out.append(f"  {edge.src} --> {edge.dst}")
        else:
            words = _label(graph.port_words(edge.ports), [])
            out.append(f"  {edge.src} -- {words} --> {edge.dst}")
    styles = {"openIn": f"fill:{FILL_OPEN}", "focus": f"stroke:{FOCUS},stroke-width:3px"}
    for css, ids in classes.items():
        out.append(f"  classDef {css} {styles[css]}")
        out.append(f"  class {','.join(ids)} {css}")
    return "\n".join(out) + "\n"


def overview_mermaid(overview: Overview) -> str:
    """One node per namespace, one labelled edge per namespace pair (`graph --namespaces`)."""
    out = ["flowchart LR"]
    out += [f"  %% {line}" for line in wording.OVERVIEW_LEGEND]
    out += [f"  {ns.id}[{_label(ns.name, ns.lines(overview.ports))}]"
            for ns in overview.namespaces]
    for a in overview.drawn:
        words = _label(wording.port_set_words(a.ports, overview.ports),
                       [wording.pairs_words(a.pairs)])
        out.append(f"  {a.src} -- {words} --> {a.dst}")
    return "\n".join(out) + "\n"
