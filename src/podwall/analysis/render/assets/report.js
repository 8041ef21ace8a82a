/* podwall report: looks up precomputed verdicts and reasons; makes no network request.
 *
 * Data (see podwall/analysis/report.py): classes point at their egress ("out") and ingress ("in")
 * side (-1: not isolated); a side has one row per port; a row lists [rule set, "ranges of peer
 * classes"]. s -> d is allowed iff the egress side of s admits d and the ingress side of d
 * admits s. Boxes (the picture's nodes) group classes that connect identically.
 */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("podwall-data").textContent);
  var NP = D.ports.length;
  var picture = document.getElementById("picture");
  var details = document.getElementById("details");
  var svg = null;  // the picture shown (see setView)

  // -- lookups ----------------------------------------------------------------------------------
  var rowCache = {}, tierRowCache = {};
  function rangeTable(rows, cache, i) {
    var m = cache[i];
    if (m) return m;
    m = {};
    rows[i].forEach(function (entry) {
      entry[1].split(",").forEach(function (part) {
        var ab = part.split("-"), a = +ab[0], b = ab.length > 1 ? +ab[1] : a;
        for (var k = a; k <= b; k++) m[k] = entry[0];
      });
    });
    cache[i] = m;
    return m;
  }
  function row(i) { return rangeTable(D.rows, rowCache, i); }
  // With cluster policies: the words of `podwall check` for this side and peer (which tier,
  // policy, priority and rule decided), precomputed per port; null where there are none.
  function tierText(cls, dir, peerCls, p) {
    var t = D.classes[cls][dir === "out" ? "tierOut" : "tierIn"];
    if (t === undefined) return null;
    var r = D.tierSides[t][p];
    if (r < 0) return null;
    var id = rangeTable(D.tierRows, tierRowCache, r)[peerCls];
    return id === undefined ? null : D.tierTexts[id].split("{peer}").join(className(peerCls));
  }
  // null: not isolated (allows); -1: denied; otherwise the index of the admitting rule set.
  function side(cls, dir, peer, p) {
    var s = D.classes[cls][dir];
    if (s < 0) return null;
    var v = row(D.sides[s][p])[peer];
    return v === undefined ? -1 : v;
  }
  // A named port (TCP/http) that class cls has no container port for: nothing reaches it by it.
  function lacks(cls, p) {
    var n = D.classes[cls].noPort;
    return !!n && n.indexOf(p) >= 0;
  }
  function allowedClasses(s, d, p) {
    return !lacks(d, p) && side(s, "out", d, p) !== -1 && side(d, "in", s, p) !== -1;
  }
  function rep(box) { return D.boxes[box].classes[0]; }
  function size(box) {
    var n = 0;
    D.boxes[box].classes.forEach(function (c) { n += D.classes[c].members.length; });
    return n;
  }
  // A box reaching itself means its members reach each other: only when it has several.
  function allowed(s, d, p) {
    if (s === d && size(s) < 2) return false;
    return allowedClasses(rep(s), rep(d), p);
  }
  function nsOf(box) { return D.namespaces[D.boxes[box].ns]; }
  function boxName(box) { return nsOf(box) + "/" + D.boxes[box].label; }
  function className(c) {
    var cl = D.classes[c], ns = cl.members[0].split("/")[0];
    return ns + "/" + cl.stem + (cl.members.length > 1 ? " \u00d7" + cl.members.length : "");
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }
  function policies(list) { return list.map(function (i) { return D.policies[i]; }).join(", "); }

  // The same sentence as `podwall check`: "ingress at shop/api: allowed by shop/api-allow ingress[0]".
  function sideText(cls, dir, peerCls, p) {
    var direction = dir === "out" ? "egress" : "ingress";
    var subject = className(cls), v = side(cls, dir, peerCls, p), text, tiered;
    if (dir === "in" && lacks(cls, p)) text = fill(D.phrases.noPort, { subject: subject, port: D.ports[p] });
    else if ((tiered = tierText(cls, dir, peerCls, p)) !== null) text = tiered;
    else if (v === null) text = fill(D.phrases.open, { subject: subject, direction: direction });
    else if (v === -1) {
      var iso = D.classes[cls][dir === "out" ? "isoOut" : "isoIn"];
      text = fill(D.phrases.denied, { isolated: policies(iso), peer: className(peerCls) });
    } else {
      var refs = D.ruleSets[v].map(function (r) { return D.rules[r]; });
      text = fill(D.phrases.admitted, { rules: refs.length ? refs.join(", ") : "(no rule found)" });
    }
    return fill(D.phrases.where, { direction: direction, subject: subject }) + " " + text;
  }
  // Reasons for src box -> dst box on port p: one pair of lines per distinct explanation among
  // the classes the boxes group (usually one).
  function reasons(s, d, p) {
    var seen = {}, out = [], pairs = 0;
    D.boxes[s].classes.forEach(function (cs) {
      D.boxes[d].classes.forEach(function (cd) {
        if (pairs++ > 64) return;
        var lines = [sideText(cs, "out", cd, p), sideText(cd, "in", cs, p)];
        var key = lines.join("\n");
        if (!seen[key]) { seen[key] = true; out.push({ from: cs, to: cd, lines: lines }); }
      });
    });
    return out;
  }

  // -- the details panel ------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function peerItem(s, d, p, dir, ok) {
    var peer = dir === "out" ? d : s, other = dir === "out" ? s : d;
    var li = el("li", { cls: ok ? "allowed" : "denied", "data-dir": dir, "data-port": D.ports[p],
                        "data-peer": boxName(peer), "data-allowed": ok ? "1" : "0" });
    var name = el("span", { cls: "peer", text: boxName(peer), title: "show " + boxName(peer) });
    name.addEventListener("click", function () { select(peer, true); });
    li.appendChild(name);
    if (peer === other) li.appendChild(el("span", { cls: "muted", text: " (its members among themselves)" }));
    var why = el("div", { cls: "why" });
    var rs = reasons(s, d, p);
    rs.slice(0, 4).forEach(function (r) {
      if (rs.length > 1) why.appendChild(el("div", { text: "for " + className(r.from) + " \u2192 " + className(r.to) + ":" }));
      r.lines.forEach(function (line) { why.appendChild(el("div", { text: line })); });
    });
    if (rs.length > 4) why.appendChild(el("div", { text: "\u2026 and " + (rs.length - 4) + " more" }));
    li.appendChild(why);
    return li;
  }
  function portBlock(b, p, dir) {
    var yes = [], no = [];
    for (var o = 0; o < D.boxes.length; o++) {
      var s = dir === "out" ? b : o, d = dir === "out" ? o : b;
      if (o === b && size(b) < 2) continue;
      (allowed(s, d, p) ? yes : no).push(o);
    }
    var verb = dir === "out" ? "reachable" : "may connect";
    var block = el("details", { cls: "port", "data-port": D.ports[p], "data-dir": dir });
    var summary = el("summary", {}, [
      el("span", { cls: "mono", text: D.ports[p] }),
      el("span", { cls: "count", text: " \u2014 " + yes.length + " " + verb + ", " + no.length + " not" })]);
    block.appendChild(summary);
    var filled = false;
    function fillBlock() {
      if (filled) return;
      filled = true;
      var ul = el("ul", { cls: "peers" });
      yes.forEach(function (o) { ul.appendChild(peerItem(dir === "out" ? b : o, dir === "out" ? o : b, p, dir, true)); });
      block.appendChild(ul);
      if (no.length) {
        var denied = el("details", { cls: "port denied-list" }, [el("summary", { text: "not allowed (" + no.length + ")" })]);
        var done = false;
        denied.addEventListener("toggle", function () {
          if (done || !denied.open) return;
          done = true;
          var ul2 = el("ul", { cls: "peers" });
          no.forEach(function (o) { ul2.appendChild(peerItem(dir === "out" ? b : o, dir === "out" ? o : b, p, dir, false)); });
          denied.appendChild(ul2);
        });
        block.appendChild(denied);
      }
    }
    block.addEventListener("toggle", function () { if (block.open) fillBlock(); });
    if (yes.length > 0 && yes.length <= 12) { block.open = true; fillBlock(); }
    return { node: block, allowed: yes };
  }
  function isolationText(c, dir) {
    var iso = D.classes[c][dir === "out" ? "isoOut" : "isoIn"];
    var direction = dir === "out" ? "egress" : "ingress";
    return direction + ": " + (iso.length ? "isolated by " + policies(iso) : (dir === "out" ? D.words.openOut : D.words.openIn));
  }
  function show(b) {
    details.textContent = "";
    var box = D.boxes[b], n = size(b);
    details.appendChild(el("h3", { text: boxName(b), "data-box": box.id }));
    var facts = el("ul", { cls: "facts" });
    facts.appendChild(el("li", { cls: "muted", text: n + " endpoint" + (n === 1 ? "" : "s") + " in namespace " + nsOf(b) +
      (box.classes.length > 1 ? ", " + box.classes.length + " classes that connect alike" : "") }));
    var iso = { "in": {}, "out": {} };
    box.classes.forEach(function (c) {
      ["in", "out"].forEach(function (dir) { iso[dir][isolationText(c, dir)] = true; });
    });
    if (box.classes.length === 1) {
      facts.appendChild(el("li", {}, [el("span", { cls: "mono", text: D.classes[box.classes[0]].labels || "(no labels)" })]));
    }
    ["in", "out"].forEach(function (dir) {
      var texts = Object.keys(iso[dir]);
      var direction = dir === "out" ? "egress" : "ingress";
      facts.appendChild(el("li", { text: texts.length === 1 ? texts[0] :
        direction + ": isolated by different policies per class (see classes)" }));
    });
    if (box.classes.length > 1) {
      var cl = el("details", { cls: "classes" }, [el("summary", { text: "classes (" + box.classes.length + ")" })]);
      var ul = el("ul", { cls: "facts" });
      box.classes.forEach(function (c) {
        var k = D.classes[c];
        ul.appendChild(el("li", {}, [el("b", { text: className(c) }), el("br"),
          el("span", { cls: "mono", text: k.labels || "(no labels)" }), el("br"),
          el("span", { cls: "muted", text: isolationText(c, "in") }), el("br"),
          el("span", { cls: "muted", text: isolationText(c, "out") })]));
      });
      cl.appendChild(ul);
      facts.appendChild(el("li", {}, [cl]));
    }
    details.appendChild(facts);
    var members = [];
    box.classes.forEach(function (c) {
      var implied = D.classes[c].implied || [];
      members = members.concat(D.classes[c].members.map(function (k) {
        return implied.indexOf(k) >= 0 ? k + " (implied)" : k;
      }));
    });
    var m = el("details", { cls: "members" }, [el("summary", { text: "members (" + members.length + ")" })]);
    m.appendChild(el("div", { cls: "mono", text: members.join(", ") }));
    if (members.length <= 6) m.open = true;
    details.appendChild(m);
    var linked = {};
    [["out", "Reaches (egress from here, per port)"], ["in", "Reached by (ingress to here, per port)"]].forEach(function (pair) {
      details.appendChild(el("h4", { text: pair[1] }));
      var wrap = el("div", { cls: "ports", "data-dir": pair[0] });
      for (var p = 0; p < NP; p++) {
        var blk = portBlock(b, p, pair[0]);
        blk.allowed.forEach(function (o) { linked[o] = true; });
        wrap.appendChild(blk.node);
      }
      if (!NP) wrap.appendChild(el("p", { cls: "muted", text: "no ports to show" }));
      details.appendChild(wrap);
    });
    return linked;
  }

  // -- the pictures -----------------------------------------------------------------------------
  // Views: "overview" (one box per namespace), "ns:K" (namespace K's boxes, other namespaces as
  // stand-ins) and, for small clusters, "whole". Each is an inert <template>; one is shown.
  var nodeById = {}, view = null, zoom = 1, baseW = 0, baseH = 0;
  var crumb = document.getElementById("crumb"), hint = document.getElementById("picture-hint");
  function nsIndex(name) { return D.namespaces.indexOf(name); }
  function viewHash(v) { return v === "overview" ? "#namespaces" : v === "whole" ? "#whole" : "#ns=" + D.namespaces[+v.slice(3)]; }
  function viewOf(hash) {
    if (hash === "#namespaces") return "overview";
    if (hash === "#whole" && D.hasWhole) return "whole";
    if (hash.indexOf("#ns=") === 0) { var k = nsIndex(decodeURIComponent(hash.slice(4))); if (k >= 0) return "ns:" + k; }
    return null;
  }
  function setView(v, push) {
    var id = v === "overview" ? "view-overview" : v === "whole" ? "view-whole" : "view-ns-" + v.slice(3);
    var tpl = document.getElementById(id);
    if (!tpl || !picture) return;
    view = v;
    picture.textContent = "";
    picture.classList.remove("focusing");
    picture.appendChild(document.importNode(tpl.content, true));
    svg = picture.querySelector("svg");
    picture.setAttribute("data-view", v);
    nodeById = {};
    if (svg) Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (g) { nodeById[g.id] = g; });
    Array.prototype.forEach.call(document.querySelectorAll(".legend[data-for]"), function (ul) {
      ul.hidden = (ul.getAttribute("data-for") === "overview") !== (v === "overview");
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-view]"), function (b) {
      if (b.tagName === "BUTTON") b.classList.toggle("current", b.getAttribute("data-view") === v);
    });
    if (crumb) crumb.textContent = v.indexOf("ns:") === 0 ? "namespace " + D.namespaces[+v.slice(3)] : "";
    if (hint) hint.textContent = v === "overview" ? "Click a namespace to open it." :
      "Click a box: what it reaches, what reaches it, per port, and why." + (v === "whole" ? "" : " Dashed tabs are other namespaces: click to go there.");
    wire();
    if (svg) {
      var vb = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
      baseW = vb[2] * 4 / 3; baseH = vb[3] * 4 / 3;
      svg.removeAttribute("width"); svg.removeAttribute("height");
      fit();
    }
    if (push && location.hash !== viewHash(v)) history.pushState(null, "", viewHash(v));
  }
  function wire() {
    if (!svg) return;
    Object.keys(nodeById).forEach(function (id) {
      var g = nodeById[id], m = /^(?:ns|x|y)(\d+)$/.exec(id);
      if (m) {  // a namespace (overview) or a stand-in for one (namespace picture)
        g.classList.add("goes");
        g.addEventListener("click", function (ev) { ev.stopPropagation(); openNamespace(+m[1]); });
      }
    });
    D.boxes.forEach(function (box, i) {
      var g = nodeById[box.id];
      if (!g) return;
      var t = g.querySelector("title");
      if (t) t.textContent = boxName(i) + " \u2014 click for what it reaches and why";
      g.addEventListener("click", function (ev) { ev.stopPropagation(); select(i, false); });
    });
  }
  function openNamespace(k) {
    setView("ns:" + k, true);
    showNamespace(k);
  }
  // The panel for a namespace: its size and isolation, and its arrows in and out.
  function showNamespace(k) {
    if (!D.overview) return;
    details.textContent = "";
    var ns = D.overview.namespaces[k], id = "ns" + k;
    details.appendChild(el("h3", { text: "namespace " + ns.name, "data-namespace": ns.name }));
    var facts = el("ul", { cls: "facts" });
    facts.appendChild(el("li", { text: ns.endpoints + " endpoint" + (ns.endpoints === 1 ? "" : "s") + " in " + ns.boxes + (ns.boxes === 1 ? " box" : " boxes") }));
    if (ns.openIngress) facts.appendChild(el("li", { text: D.words.openIn + ": " + ns.openIngress + " of them" }));
    if (ns.openEgress) facts.appendChild(el("li", { text: D.words.openOut + ": " + ns.openEgress + " of them" }));
    if (ns.internal.length) facts.appendChild(el("li", { text: "inside: " + ns.internal.join(", ") + " (" + ns.internalPairs + " endpoint pairs)" }));
    details.appendChild(facts);
    [["from", "to", "Reaches (namespaces)"], ["to", "from", "Reached by (namespaces)"]].forEach(function (dir) {
      var arrows = D.overview.arrows.filter(function (a) { return a[dir[0]] === id; });
      arrows.sort(function (a, b) { return b.pairs - a.pairs; });
      details.appendChild(el("h4", { text: dir[2] + " (" + arrows.length + ")" }));
      var ul = el("ul", { cls: "peers" });
      arrows.forEach(function (a) {
        var other = +a[dir[1]].slice(2);
        var li = el("li", { cls: "allowed", "data-namespace": D.namespaces[other] });
        var name = el("span", { cls: "peer", text: D.namespaces[other], title: "open namespace " + D.namespaces[other] });
        name.addEventListener("click", function () { openNamespace(other); });
        li.appendChild(name);
        li.appendChild(el("div", { cls: "why", text: a.ports.join(", ") + " \u2014 " + a.pairs + " endpoint pair" + (a.pairs === 1 ? "" : "s") }));
        ul.appendChild(li);
      });
      details.appendChild(ul);
    });
  }
  function edgeEnds(g) {
    var t = g.querySelector("title");
    var parts = t ? t.textContent.split("->") : [];
    return parts.length === 2 ? parts : ["", ""];
  }
  function select(b, scroll) {
    var k = D.boxes[b].ns;
    if (view !== "whole" && view !== "ns:" + k) setView("ns:" + k, true);
    var linked = show(b);
    if (!svg) return;
    picture.classList.add("focusing");
    Object.keys(nodeById).forEach(function (id) { nodeById[id].classList.remove("selected", "linked"); });
    var me = D.boxes[b].id, near = {}, far = {}, hubs = {};
    near[me] = true;
    near["ns" + D.boxes[b].ns + "_all"] = true;  // its namespace's `all endpoints` box
    Object.keys(linked).forEach(function (o) {
      far[D.boxes[o].id] = true;
      far["ns" + D.boxes[o].ns + "_all"] = true;
      ["x", "y"].forEach(function (side) {  // the stand-ins for its namespace
        far[side + D.boxes[o].ns] = true;
        if (nodeById[side + D.boxes[o].ns]) nodeById[side + D.boxes[o].ns].classList.add("linked");
      });
      if (nodeById[D.boxes[o].id]) nodeById[D.boxes[o].id].classList.add("linked");
    });
    if (nodeById[me]) nodeById[me].classList.add("selected");
    var edges = Array.prototype.map.call(svg.querySelectorAll("g.edge"), function (g) {
      return { g: g, ends: edgeEnds(g) };
    });
    function isHub(id) { return /^h\d+$/.test(id); }
    edges.forEach(function (e) {
      if (near[e.ends[0]] && isHub(e.ends[1])) hubs[e.ends[1]] = true;
      if (near[e.ends[1]] && isHub(e.ends[0])) hubs[e.ends[0]] = true;
    });
    edges.forEach(function (e) {
      var a = e.ends[0], z = e.ends[1];
      var on = (near[a] && (far[z] || hubs[z] || near[z])) || (near[z] && (far[a] || hubs[a]))
        || (hubs[a] && (far[z] || near[z])) || (hubs[z] && (far[a] || near[a]));
      e.g.classList.toggle("linked", !!on);
    });
    Object.keys(hubs).concat(Object.keys(near)).forEach(function (id) {
      var g = nodeById[id.replace("_all", "-all")];
      if (g && id !== me) g.classList.add("linked");
    });
    if (scroll && nodeById[me]) nodeById[me].scrollIntoView({ block: "center", inline: "center" });
    if (location.hash.indexOf("#graph") !== 0 && scroll) document.getElementById("graph").scrollIntoView();
  }
  window.podwall = { data: D, select: select, allowed: allowed, allowedClasses: allowedClasses,
                     reasons: reasons, boxName: boxName, setView: setView,
                     openNamespace: openNamespace, view: function () { return view; } };

  // zoom: the picture opens fitted to the space it has (width and height), never enlarged much
  function setZoom(z) {
    zoom = Math.max(0.1, Math.min(4, z));
    if (svg) { svg.style.width = (baseW * zoom) + "px"; svg.style.height = (baseH * zoom) + "px"; }
  }
  function fit() {
    if (!svg) return;
    // The height left below the picture's top in the window (all of it once scrolled there).
    var top = picture.getBoundingClientRect().top, tall = window.innerHeight * 0.78 - 4;
    var left = window.innerHeight - top - 12;
    var w = picture.clientWidth - 4, h = Math.max(200, left >= 300 ? Math.min(tall, left) : tall);
    setZoom(Math.min(1.5, w / baseW, h / baseH));
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-zoom]"), function (btn) {
    btn.addEventListener("click", function () {
      var how = btn.getAttribute("data-zoom");
      if (how === "in") setZoom(zoom * 1.25);
      else if (how === "out") setZoom(zoom / 1.25);
      else fit();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-view]"), function (btn) {
    btn.addEventListener("click", function () { setView(btn.getAttribute("data-view"), true); });
  });
  window.addEventListener("popstate", function () { var v = viewOf(location.hash); if (v) setView(v, false); });
  window.addEventListener("hashchange", function () { var v = viewOf(location.hash); if (v && v !== view) setView(v, false); });
  setView(viewOf(location.hash) || D.opensOn || "overview", false);
  if (picture) picture.addEventListener("click", function () {
    picture.classList.remove("focusing");
  });

  // search
  var search = document.getElementById("search"), names = document.getElementById("endpoint-names");
  var lookup = {};
  D.boxes.forEach(function (box, i) {
    lookup[boxName(i)] = i;
    box.classes.forEach(function (c) { D.classes[c].members.forEach(function (m) { lookup[m] = i; }); });
  });
  if (names) Object.keys(lookup).sort().forEach(function (k) { names.appendChild(el("option", { value: k })); });
  function find() {
    var v = (search.value || "").trim();
    if (v in lookup) select(lookup[v], true);
  }
  if (search) { search.addEventListener("change", find); search.addEventListener("keydown", function (e) { if (e.key === "Enter") find(); }); }
  Array.prototype.forEach.call(document.querySelectorAll("a.class-link"), function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      var c = +a.getAttribute("data-class");
      for (var i = 0; i < D.boxes.length; i++) if (D.boxes[i].classes.indexOf(c) >= 0) { select(i, true); break; }
    });
  });

  // -- the matrix -------------------------------------------------------------------------------
  var portSelect = document.getElementById("matrix-port");
  var summaryDiv = document.getElementById("matrix-summary"), detailDiv = document.getElementById("matrix-detail");
  var spans = [];  // per namespace: [first box, last box + 1]
  D.boxes.forEach(function (box, i) {
    if (!spans[box.ns]) spans[box.ns] = [i, i + 1]; else spans[box.ns][1] = i + 1;
  });
  var current = null;
  function pairs(s, d) { var a = size(s), b = size(d); return s === d ? a * (a - 1) : a * b; }
  function renderSummary(p) {
    summaryDiv.textContent = "";
    var t = el("table", { cls: "grid summary" });
    var head = el("tr", {}, [el("th", { text: "from \u2193 \u00a0 to \u2192" })]);
    D.namespaces.forEach(function (ns) { head.appendChild(el("th", { text: ns })); });
    t.appendChild(head);
    D.namespaces.forEach(function (src, i) {
      var tr = el("tr", {}, [el("th", { text: src })]);
      D.namespaces.forEach(function (dst, j) {
        var yes = 0, all = 0;
        if (spans[i] && spans[j]) for (var s = spans[i][0]; s < spans[i][1]; s++) for (var d = spans[j][0]; d < spans[j][1]; d++) {
          var n = pairs(s, d); all += n; if (n && allowed(s, d, p)) yes += n;
        }
        var f = all ? yes / all : 0;
        var td = el("td", { text: all ? yes + "/" + all : "\u2013", "data-from": src, "data-to": dst,
                            title: src + " \u2192 " + dst + " on " + D.ports[p] + ": " + yes + " of " + all + " endpoint pairs allowed" });
        if (all) td.style.background = yes === 0 ? "#ffffff" : "hsl(140, 45%, " + (94 - 30 * f) + "%)";
        td.addEventListener("click", function () { current = [i, j]; renderDetail(p); renderSummary(p); });
        if (current && current[0] === i && current[1] === j) td.className = "current";
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    summaryDiv.appendChild(el("div", { cls: "scroll" }, [t]));
  }
  function renderDetail(p) {
    detailDiv.textContent = "";
    var rows = [], cols = [];
    if (current) {
      for (var s = spans[current[0]][0]; s < spans[current[0]][1]; s++) rows.push(s);
      for (var d = spans[current[1]][0]; d < spans[current[1]][1]; d++) cols.push(d);
      detailDiv.appendChild(el("p", { text: D.namespaces[current[0]] + " \u2192 " + D.namespaces[current[1]] + " on " + D.ports[p] + " (row = from, column = to)" }));
    } else if (D.boxes.length <= 40) {
      for (var k = 0; k < D.boxes.length; k++) { rows.push(k); cols.push(k); }
      detailDiv.appendChild(el("p", { text: "Every box on " + D.ports[p] + " (row = from, column = to); click a namespace cell above to zoom in." }));
    } else {
      detailDiv.appendChild(el("p", { cls: "hint", text: "Click a cell above to see its boxes." }));
      return;
    }
    var t = el("table", { cls: "grid cells" });
    var head = el("tr", {}, [el("th", { text: "" })]);
    cols.forEach(function (d) { head.appendChild(el("th", { cls: "col", text: boxName(d), title: boxName(d) })); });
    t.appendChild(head);
    var lastNs = null;
    rows.forEach(function (s) {
      if (D.boxes[s].ns !== lastNs) {
        lastNs = D.boxes[s].ns;
        t.appendChild(el("tr", {}, [el("th", { cls: "nsrow", colspan: String(cols.length + 1), text: "from namespace " + nsOf(s) })]));
      }
      var th = el("th", { cls: "box", text: D.boxes[s].label, title: boxName(s) + ": click to show" });
      th.addEventListener("click", function () { select(s, true); });
      var tr = el("tr", {}, [th]);
      cols.forEach(function (d) {
        var self = s === d && size(s) < 2, ok = !self && allowed(s, d, p);
        tr.appendChild(el("td", { cls: self ? "self" : ok ? "y" : "n", text: self ? "\u2013" : ok ? "\u2713" : "\u00b7",
                                  title: boxName(s) + " \u2192 " + boxName(d) + " on " + D.ports[p] + ": " + (self ? "itself" : ok ? "allowed" : "denied") }));
      });
      t.appendChild(tr);
    });
    detailDiv.appendChild(el("div", { cls: "scroll" }, [t]));
  }
  if (portSelect) {
    D.ports.forEach(function (port, p) { portSelect.appendChild(el("option", { value: String(p), text: port })); });
    portSelect.addEventListener("change", function () { renderSummary(+portSelect.value); renderDetail(+portSelect.value); });
    if (NP) { renderSummary(0); renderDetail(0); }
    else summaryDiv.appendChild(el("p", { cls: "hint", text: "No ports: nothing names a port." }));
  }
})();
