"""The report as ONE self-contained HTML file: inline SVG, CSS, JavaScript and data.

It works offline and asks for nothing: no CDN, no web fonts, no images by URL. A
Content-Security-Policy in the page forbids every fetch (`default-src 'none'`), so even a
mistake could not reach the network. The interactive parts (`assets/report.js`) only look up the
data that `podwall.analysis.report` precomputed; policies and lint findings are plain HTML.
"""

from __future__ import annotations

import json
from collections import defaultdict
from html import escape
from importlib import resources
from typing import Any

from podwall.analysis import wording
from podwall.analysis.render.dot import FILL_ISOLATED, FILL_OPEN
from podwall.analysis.render.views import Views
from podwall.analysis.report import LintRow, Report

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")


def _asset(name: str) -> str:
    return (resources.files("podwall.analysis.render") / "assets" / name).read_text("utf-8")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON that cannot close its <script> element (`<`, `>` and `&` escaped)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def report_html(report: Report, views: Views) -> str:
    """The page. `views` holds the pictures as `<svg>` elements (see `render.views`)."""
    c = report.counts
    data = dict(report.data)
    data["overview"] = report.overview.to_json() if report.overview is not None else None
    data["opensOn"] = views.opens_on
    data["hasWhole"] = views.whole is not None
    ports = wording.port_set_words(
        [p for p in report.graph.ports], ()) if report.graph.ports else "none"
    n = wording.plural
    summary = (f"{n(c['endpoints'], 'endpoint')} in {n(c['namespaces'], 'namespace')} "
               f"({n(c['classes'], 'class')}, drawn as {n(c['boxes'], 'box')}), "
               f"{n(c['policies'], 'policy')}; ports examined: {ports}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="podwall report">',
        f"<title>{_e(report.title)}</title>",
        f"<style>{_asset('report.css')}</style>",
        "</head><body>",
        f'<header><h1>{_e(report.title)}</h1><p class="summary">{_e(summary)}</p>',
        '<nav><a href="#graph">Connectivity</a><a href="#matrix">Matrix</a>'
        '<a href="#outside">Outside</a>'
        '<a href="#lint">Lint</a>'
        + ('<a href="#services">Services</a>' if report.services is not None else "")
        + '<a href="#policies">Policies</a></nav></header>',
        "<main>",
        '<noscript><p class="unavailable">The picture, the details and the matrix need '
        "JavaScript; lint findings and policies below are plain text.</p></noscript>",
        _graph_section(report, views),
        _matrix_section(),
        _outside_section(report),
        _lint_section(report.lint),
        _services_section(report),
        _policies_section(report),
        "</main>",
        _templates(views),
        f'<script type="application/json" id="podwall-data">{_json_for_script(data)}'
        "</script>",
        f"<script>{_asset('report.js')}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _graph_section(report: Report, views: Views) -> str:
    legend = "".join(f"<li>{_e(line)}</li>" for line in report.graph.legend())
    overview_legend = "".join(f"<li>{_e(line)}</li>" for line in wording.OVERVIEW_LEGEND)
    swatches = (f'<li><span class="swatch" style="background:{FILL_OPEN}"></span>'
                f"{_e(wording.OPEN_IN)} &nbsp; "
                f'<span class="swatch" style="background:{FILL_ISOLATED}"></span>'
                "isolated for ingress</li>")
    whole = ('<button type="button" data-view="whole" title="every box of every namespace">'
             "whole cluster</button>" if views.whole is not None else "")
    return (
        '<section id="graph"><h2>Connectivity</h2>'
        '<div class="toolbar">'
        '<span class="views"><button type="button" data-view="overview" '
        'title="one box per namespace">\u2191 namespaces</button>'
        f'{whole}<span id="crumb" class="crumb"></span></span>'
        '<input id="search" list="endpoint-names" '
        'placeholder="Find an endpoint or box (ns/name), then Enter" autocomplete="off">'
        '<datalist id="endpoint-names"></datalist>'
        '<button type="button" data-zoom="out" title="zoom out">\u2212</button>'
        '<button type="button" data-zoom="in" title="zoom in">+</button>'
        '<button type="button" data-zoom="fit" title="fit the picture">fit</button>'
        '<span class="hint" id="picture-hint"></span></div>'
        '<div class="graph-layout">'
        '<div id="picture" class="picture"></div>'
        '<aside id="details"><p class="hint">Click a namespace to open it, a box to see, per '
        "port, what it may connect to and what may connect to it, with the policy rule that "
        "admits each connection or the policies that isolate it.</p></aside>"
        "</div>"
        f'<ul class="legend" data-for="boxes">{swatches}{legend}</ul>'
        f'<ul class="legend" data-for="overview">{overview_legend}</ul>'
        "</section>")


def _outside_section(report: Report) -> str:
    """What each endpoint accepts from and may open to addresses outside the cluster, as
    `podwall exposure` prints it (plain text: it needs no script)."""
    if report.exposure is None:
        return ""
    from podwall.analysis.render.exposure import exposure_text

    return ('<section id="outside"><h2>Outside the cluster</h2>'
            f"<pre>{_e(exposure_text(report.exposure))}</pre></section>")


def _templates(views: Views) -> str:
    """Each picture in an inert <template>; the script shows one at a time."""
    parts = [f'<template id="view-overview">{views.overview}</template>']
    parts += [f'<template id="view-ns-{k}">{svg}</template>'
              for k, svg in enumerate(views.namespaces)]
    if views.whole is not None:
        parts.append(f'<template id="view-whole">{views.whole}</template>')
    return "".join(parts)


def _matrix_section() -> str:
    return (
        '<section id="matrix"><h2>Matrix</h2>'
        '<p class="hint">Per port: how many endpoint pairs of each namespace pair may connect '
        "(row = from, column = to; a pod reaching itself is not counted). Click a cell for its "
        "boxes.</p>"
        '<div class="matrix-controls"><label>Port <select id="matrix-port"></select></label>'
        "</div>"
        '<div id="matrix-summary"></div><div id="matrix-detail"></div>'
        "</section>")


def _services_section(report: Report) -> str:
    """`report --services`: per Service port, who may reach every pod behind it, who some."""
    if report.services is None:
        return ""
    head = ('<section id="services"><h2>Services</h2><p>After the DNAT: a source may use a '
            "Service port when it may reach every pod behind it on the targetPort; "
            "&ldquo;only some&rdquo; means the Service fails it some of the time.</p>")
    if not report.services:
        return head + "<p>No Services in the input.</p></section>"
    rows = [f"<tr><td>{_e(s.heading)}</td><td>{_e(s.every_words)}</td>"
            f"<td>{_e(s.some_words)}</td></tr>" for s in report.services]
    return (head + '<table class="lint"><tr><th>Service port</th><th>every pod, from</th>'
            "<th>only some, from</th></tr>" + "".join(rows) + "</table></section>")


def _lint_section(lint: tuple[LintRow, ...] | None) -> str:
    head = '<section id="lint"><h2>Lint</h2>'
    if lint is None:
        return head + f'<p class="unavailable">{_e(wording.lint_unavailable_words())}</p></section>'
    if not lint:
        return head + "<p>No findings.</p></section>"
    rows = []
    for f in lint:
        where = f"{f.file}:{f.line}" if f.file and f.line is not None else f.file
        rows.append(
            f'<tr><td class="sev-{_e(f.severity.lower())}">{_e(f.severity)}</td>'
            f"<td><code>{_e(f.id)}</code></td><td>{_e(f.object)}</td>"
            f"<td><code>{_e(where)}</code></td><td>{_e(f.message)}</td><td>{_e(f.fix)}</td></tr>")
    return (head + f"<p>{_e(wording.plural(len(lint), 'finding'))}.</p>"
            '<table class="lint"><tr><th>severity</th><th>id</th><th>object</th>'
            "<th>where</th><th>message</th><th>fix</th></tr>" + "".join(rows)
            + "</table></section>")


def _policies_section(report: Report) -> str:
    data = report.data
    classes = data["classes"]
    per_namespace_classes: dict[str, list[int]] = defaultdict(list)
    for i, cls in enumerate(classes):
        per_namespace_classes[cls["members"][0].split("/", 1)[0]].append(i)
    by_namespace: dict[str, list[str]] = defaultdict(list)
    for pe in report.policies:
        p = pe.policy
        where = f'<span class="src">{_e(p.source)}</span>' if p.source else ""
        picked = report.policy_classes.get(p.key, ())
        everything = per_namespace_classes.get(p.namespace, [])
        if picked and list(picked) == everything and len(everything) > 1:
            selected = _e(wording.whole_namespace_words(p.namespace, len(pe.selects)))
        else:
            links = []
            for k in picked:
                cls = classes[k]
                label = wording.class_words(cls["stem"], len(cls["members"]))
                links.append(f'<a class="class-link" href="#graph" data-class="{k}">'
                             f"{_e(label)}</a>")
            selected = _e(wording.selects_words(len(pe.selects))) + (
                ": " + ", ".join(links) if links else "")
        lines = [
            f'<article class="policy" id="policy-{_e(p.key)}"><h4>{_e(p.key)}{where}</h4>',
            f"<p>applies to {_e(wording.policy_scope_words(p))}: {selected}</p>",
            f"<p>isolates {_e(wording.isolation_words(p))}</p>",
            *([f"<p>{_e(wording.audit_policy_words(report.audit_view))}</p>"] if p.audited
              else []),
            "<ul>",
        ]
        for direction in ("ingress", "egress"):
            if not any(d.word == direction for d in p.policy_types):
                continue
            rules = [r for r in pe.rules if r[0].word == direction]
            if not rules:
                lines.append(f"<li>{_e(wording.no_rules_words(direction))}</li>")
            for _, i, text in rules:
                lines.append(f"<li><code>{direction}[{i}]</code> admits {_e(text)}</li>")
        lines.append("</ul></article>")
        by_namespace[p.namespace].append("".join(lines))
    if not by_namespace and any(c["in"] != -1 or c["out"] != -1 for c in classes):
        # no NetworkPolicy, but cluster policies apply to some endpoints (class side not -1)
        body = ("<p>No NetworkPolicies: cluster-admin policies (ClusterNetworkPolicy, "
                "AdminNetworkPolicy, BaselineAdminNetworkPolicy) decide for some endpoints; "
                "<code>podwall explain</code> lists them.</p>")
    elif not by_namespace:
        body = ("<p>No policies: nothing is isolated, every endpoint may reach every other on "
                "every port.</p>")
    else:
        opened = " open" if len(report.policies) <= 30 else ""
        body = "".join(
            f'<details class="namespace"{opened}><summary>{_e(ns)} '
            f'<span class="muted">({wording.plural(len(items), "policy")})</span>'
            f"</summary>{''.join(items)}</details>"
            for ns, items in sorted(by_namespace.items()))
    return f'<section id="policies"><h2>Policies</h2>{body}</section>'
