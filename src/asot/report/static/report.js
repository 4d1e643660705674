// asot report: renders the embedded JSON (no network, no library). Only the current page of
// videos is in the DOM, so the page stays fast at thousands of videos.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmt(x, digits) { return (x === null || x === undefined) ? "\u2013" : Number(x).toFixed(digits === undefined ? 1 : digits); }
  function fmtValue(v) { return (typeof v === "number" && !Number.isInteger(v)) ? String(Number(v.toPrecision(6))) : String(v); }

  // ---------------------------------------------------------------- header
  $("source").textContent = D.source;
  D.notes.forEach(function (n) { $("notes").appendChild(el("p", { "class": "muted" }, n)); });

  // ---------------------------------------------------------------- metrics tables
  function metricsTable(byMethod, caption) {
    var methods = Object.keys(byMethod);
    if (!methods.length) return null;
    var t = el("table", { "class": "metrics" });
    if (caption) t.appendChild(el("caption", { style: "text-align:left" }, caption));
    var h = el("tr");
    ["method", "MoF", "F1", "mIoU", "MoF (per video)", "F1 (per video)", "mIoU (per video)"].forEach(function (c, i) {
      h.appendChild(el("th", { "class": i ? "num" : "" }, c));
    });
    t.appendChild(h);
    methods.forEach(function (m) {
      var r = el("tr"), e = byMethod[m];
      r.appendChild(el("td", {}, m));
      ["full", "per_video"].forEach(function (p) {
        ["mof", "f1", "miou"].forEach(function (k) { r.appendChild(el("td", { "class": "num" }, fmt((e[p] || {})[k]))); });
      });
      t.appendChild(r);
    });
    return t;
  }
  var mt = metricsTable(D.metrics, "all videos (percent; full = one Hungarian matching per activity, per video = one per video)");
  $("metrics").appendChild(mt || el("p", { "class": "muted" }, "no metrics (no ground truth)"));
  var acts = Object.keys(D.activity_metrics);
  if (acts.length) {
    var det = el("details");
    det.appendChild(el("summary", {}, "per activity (" + acts.length + ")"));
    acts.forEach(function (a) { det.appendChild(metricsTable(D.activity_metrics[a], a)); });
    $("metrics").appendChild(det);
  }

  // ---------------------------------------------------------------- settings
  if (D.settings && (D.settings.chosen || D.settings.used)) {
    var chosen = D.settings.chosen || {}, cacts = Object.keys(chosen);
    if (cacts.length) {
      var keys = [];
      cacts.forEach(function (a) { Object.keys(chosen[a]).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
      var ct = el("table", { id: "chosen" });
      ct.appendChild(el("caption", { style: "text-align:left" }, "per activity, as the trained models use them (chosen from the data where set to auto)"));
      var hr = el("tr"); hr.appendChild(el("th", {}, "activity"));
      keys.forEach(function (k) { hr.appendChild(el("th", {}, k)); });
      ct.appendChild(hr);
      cacts.forEach(function (a) {
        var r = el("tr"); r.appendChild(el("td", {}, a));
        keys.forEach(function (k) { r.appendChild(el("td", {}, chosen[a][k] === undefined ? "\u2013" : fmtValue(chosen[a][k]))); });
        ct.appendChild(r);
      });
      $("settings").appendChild(ct);
    }
    var used = D.settings.used || {}, ukeys = Object.keys(used);
    if (ukeys.length) {
      var ud = el("details"); ud.appendChild(el("summary", {}, "all settings used (" + ukeys.length + ")"));
      var ut = el("table", { "class": "kv" });
      ukeys.forEach(function (k) { var r = el("tr"); r.appendChild(el("td", {}, k)); r.appendChild(el("td", {}, fmtValue(used[k]))); ut.appendChild(r); });
      ud.appendChild(ut); $("settings").appendChild(ud);
    }
  } else { $("settings-section").style.display = "none"; }

  // ---------------------------------------------------------------- loss curves
  function lossChart(points, title) {
    var W = 340, H = 200, L = 54, R = 10, T = 10, B = 36;
    var xs = points.map(function (p) { return p[0] + 1; }), ys = points.map(function (p) { return p[1]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x1 === x0) { x0 -= 1; x1 += 1; } if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    var sx = function (x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    var sy = function (y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); };
    var s = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H });
    s.appendChild(svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#ccc" }));
    [[y0, sy(y0)], [y1, sy(y1)]].forEach(function (v) {
      var t = svg("text", { x: L - 4, y: v[1] + 4, "text-anchor": "end", "font-size": 10 }); t.textContent = Number(v[0].toPrecision(3)); s.appendChild(t);
    });
    [[x0, sx(x0)], [x1, sx(x1)]].forEach(function (v) {
      var t = svg("text", { x: v[1], y: H - B + 13, "text-anchor": "middle", "font-size": 10 }); t.textContent = v[0]; s.appendChild(t);
    });
    var xl = svg("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 11 }); xl.textContent = "epoch"; s.appendChild(xl);
    var yl = svg("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 11, transform: "rotate(-90 12 " + (T + H - B) / 2 + ")" });
    yl.textContent = "loss"; s.appendChild(yl);
    s.appendChild(svg("polyline", { fill: "none", stroke: "#1f77b4", "stroke-width": 1.5,
      points: points.map(function (p) { return sx(p[0] + 1) + "," + sy(p[1]); }).join(" ") }));
    points.forEach(function (p) { s.appendChild(svg("circle", { cx: sx(p[0] + 1), cy: sy(p[1]), r: 2.2, fill: "#1f77b4" })); });
    var f = el("figure"); f.appendChild(s); f.appendChild(el("figcaption", {}, title + " (cross-entropy against the ASOT pseudo-labels)"));
    return f;
  }
  var lacts = Object.keys(D.loss);
  if (lacts.length) lacts.forEach(function (a) { $("loss").appendChild(lossChart(D.loss[a], a)); });
  else $("loss-section").style.display = "none";

  // ---------------------------------------------------------------- legend
  function drawLegend(videos) {  // the classes drawn in the videos shown (all pages of the filter)
    var used = {};
    videos.forEach(function (v) {
      for (var r in v.tracks) { var t = v.tracks[r]; for (var i = 1; i < t.length; i += 2) used[t[i]] = true; }
    });
    var frag = document.createDocumentFragment();
    D.classes.forEach(function (c, i) {
      if (!used[i]) return;
      var it = el("span", { "class": "item" }); var sw = el("span", { "class": "sw" }); sw.style.background = c.color;
      it.appendChild(sw); it.appendChild(document.createTextNode(c.name)); frag.appendChild(it);
    });
    $("legend").replaceChildren(frag);
  }

  // ---------------------------------------------------------------- videos table
  var rows = D.rows, predRows = rows.filter(function (r) { return r !== "GT"; });
  var hasScores = D.videos.some(function (v) { return Object.keys(v.mof).length > 0; });
  var columns = [
    { key: "index", label: "#", num: true, get: function (v) { return v._i + 1; } },
    { key: "name", label: "video", get: function (v) { return v.name; } },
    { key: "activity", label: "activity", get: function (v) { return v.activity; } },
    { key: "n", label: "frames", num: true, get: function (v) { return v.n; } }
  ];
  if (hasScores) {
    predRows.forEach(function (r) {
      columns.push({ key: "mof:" + r, label: "MoF " + r, num: true, score: true,
                     title: "MoF of the drawn timeline (clusters matched to classes once per activity)",
                     get: function (v) { var x = v.mof[r]; return x === undefined ? null : x; } });
    });
    columns.push({ key: "pv:" + predRows[0], label: "per-video MoF " + predRows[0], num: true, score: true,
                   title: "MoF with this video's own Hungarian matching (the per-video protocol)",
                   get: function (v) { var x = v.mof_pv[predRows[0]]; return x === undefined ? null : x; } });
  }
  D.videos.forEach(function (v, i) { v._i = i; });
  var state = { sort: "index", dir: "asc", page: 0, size: 50, filter: "", activity: "" };
  var actList = [];
  D.videos.forEach(function (v) { if (actList.indexOf(v.activity) < 0) actList.push(v.activity); });
  var asel = $("activity"); asel.appendChild(el("option", { value: "" }, "all (" + actList.length + ")"));
  actList.forEach(function (a) { asel.appendChild(el("option", { value: a }, a)); });

  var thead = document.querySelector("#videos thead"), tbody = document.querySelector("#videos tbody");
  var hr2 = el("tr");
  columns.forEach(function (c) {
    var th = el("th", { "class": "sortable" + (c.num ? " num" : ""), "data-key": c.key }, c.label);
    if (c.title) th.title = c.title;
    th.addEventListener("click", function () {
      if (state.sort === c.key) state.dir = state.dir === "asc" ? "desc" : "asc";
      else { state.sort = c.key; state.dir = c.num && c.key !== "index" && c.key !== "n" ? "asc" : "asc"; }
      state.page = 0; render();
    });
    hr2.appendChild(th);
  });
  hr2.appendChild(el("th", {}, "timeline (" + rows.join(", ") + ")"));
  thead.appendChild(hr2);

  function visible() {
    var f = state.filter.toLowerCase();
    var list = D.videos.filter(function (v) {
      return (!f || v.name.toLowerCase().indexOf(f) >= 0) && (!state.activity || v.activity === state.activity);
    });
    var col = columns.filter(function (c) { return c.key === state.sort; })[0], sign = state.dir === "asc" ? 1 : -1;
    list.sort(function (a, b) {
      var x = col.get(a), y = col.get(b);
      if (x === null && y === null) return a._i - b._i;
      if (x === null) return 1; if (y === null) return -1;   // missing values last either way
      if (x < y) return -sign; if (x > y) return sign; return a._i - b._i;
    });
    return list;
  }

  function timeline(v, r) {
    var t = v.tracks[r], n = v.n;
    var s = svg("svg", { viewBox: "0 0 " + n + " 1", preserveAspectRatio: "none", "data-video": v._i, "data-row": r });
    for (var i = 0, k = 0; i < t.length; i += 2, k++) {
      var start = t[i], end = i + 2 < t.length ? t[i + 2] : n;
      s.appendChild(svg("rect", { x: start, y: 0, width: end - start, height: 1, fill: D.classes[t[i + 1]].color, "data-seg": k }));
    }
    return s;
  }

  var tip = $("tooltip");
  function render() {
    tip.style.display = "none";  // its segment is about to leave the page
    var list = visible(), pages = Math.max(1, Math.ceil(list.length / state.size));
    if (state.legendFor !== state.filter + "\u0000" + state.activity) {
      drawLegend(list); state.legendFor = state.filter + "\u0000" + state.activity;
    }
    state.page = Math.min(state.page, pages - 1);
    $("pageinfo").textContent = "page " + (state.page + 1) + " of " + pages + " (" + list.length + " videos)";
    $("prev").disabled = state.page === 0; $("next").disabled = state.page >= pages - 1;
    thead.querySelectorAll("th.sortable").forEach(function (th) {
      if (th.getAttribute("data-key") === state.sort) th.setAttribute("data-dir", state.dir); else th.removeAttribute("data-dir");
    });
    var frag = document.createDocumentFragment();
    list.slice(state.page * state.size, (state.page + 1) * state.size).forEach(function (v) {
      var tr = el("tr", { "class": "video", "data-name": v.name });
      columns.forEach(function (c) { var x = c.get(v); tr.appendChild(el("td", { "class": c.num ? "num" : "" }, c.score ? fmt(x) : x)); });
      var cell = el("td", { "class": "tlcell" });
      rows.forEach(function (r) {
        if (!v.tracks[r]) return;
        var line = el("div", { "class": "tlrow" });
        var scored = v.mof[r] !== undefined && v.mof[r] !== null;
        line.appendChild(el("span", { "class": "rl", title: r }, r));
        line.appendChild(el("span", { "class": "rs", title: scored ? "MoF " + r + " (per-video matching: " + fmt(v.mof_pv[r]) + ")" : "" },
                            scored ? fmt(v.mof[r]) : ""));
        line.appendChild(timeline(v, r));
        cell.appendChild(line);
      });
      tr.appendChild(cell); frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
  }

  // ---------------------------------------------------------------- hover
  function secs(frame, fps) { return (frame / fps).toFixed(2) + " s"; }
  tbody.addEventListener("mousemove", function (ev) {
    var rect = ev.target;
    if (!rect || rect.tagName !== "rect") { tip.style.display = "none"; return; }
    var s = rect.parentNode, v = D.videos[+s.getAttribute("data-video")], r = s.getAttribute("data-row"), k = +rect.getAttribute("data-seg");
    var t = v.tracks[r], start = t[2 * k], end = 2 * k + 2 < t.length ? t[2 * k + 2] : v.n, cls = D.classes[t[2 * k + 1]];
    var lines = [cls.name, v.name + " \u00b7 " + r, "frames " + start + "\u2013" + end + " (" + (end - start) + " frames, end exclusive)"];
    if (v.fps) lines.push(secs(start, v.fps) + " \u2013 " + secs(end, v.fps) + " at " + fmtValue(v.fps) + " fps");
    tip.replaceChildren();
    lines.forEach(function (l, i) { tip.appendChild(el(i ? "div" : "b", {}, l)); });
    var thumbs = ((D.thumbnails || {})[v.name] || {})[r];
    if (thumbs && thumbs[k]) tip.appendChild(el("img", { src: thumbs[k], alt: "frame" }));
    tip.style.display = "block";
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - 370) + "px";
    tip.style.top = (ev.clientY + 14) + "px";
  });
  tbody.addEventListener("mouseleave", function () { tip.style.display = "none"; });

  // ---------------------------------------------------------------- controls
  $("filter").addEventListener("input", function (e) { state.filter = e.target.value; state.page = 0; render(); });
  asel.addEventListener("change", function (e) { state.activity = e.target.value; state.page = 0; render(); });
  $("pagesize").addEventListener("change", function (e) { state.size = +e.target.value; state.page = 0; render(); });
  $("prev").addEventListener("click", function () { state.page--; render(); });
  $("next").addEventListener("click", function () { state.page++; render(); });
  render();
  document.body.setAttribute("data-ready", "1");
})();
