/* The search page (search.html): text + facets over the catalog index (search-engine.js). Facets are
 * per version: counts are over the versions the text matches, each facet counted as if it alone
 * were unselected. All text reaches the page through textContent, never innerHTML. */
(function () {
  "use strict";
  var box = document.getElementById("fr-search");
  if (!box || !window.FrSearch) return;
  var FS = window.FrSearch, FACETS = FS.FACETS, LIMIT = 50;
  var root = box.getAttribute("data-root") || "";
  var engine = new FS.Engine(root);
  var input = document.getElementById("fr-q");
  var summary = document.getElementById("fr-summary");
  var list = document.getElementById("fr-results");
  var state = { q: "", sel: FS.emptySelection() };
  var generation = 0;

  function readUrl() {
    var p = new URLSearchParams(window.location.search);
    state.q = p.get("q") || "";
    FACETS.forEach(function (k) { p.getAll(k).forEach(function (v) { state.sel[k].add(v); }); });
    input.value = state.q;
  }
  function writeUrl() {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    FACETS.forEach(function (k) { state.sel[k].forEach(function (v) { p.append(k, v); }); });
    var qs = p.toString();
    window.history.replaceState(null, "", window.location.pathname + (qs ? "?" + qs : ""));
    return qs;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function why(res, v) {
    if (!res.scores) return "";
    var h = res.scores.get(v);
    if (!h) return "";
    return "matched " + h[1].map(function (fw) { return engine.fieldName(fw[0]) + " \u201c" + fw[1] + "\u201d"; }).join(", ");
  }
  function renderFacets(hits) {
    FACETS.forEach(function (k) {
      /* count per value set first (integers, one pass over the hits), then per value */
      var counts = new Map(), pass = engine.filter(state.sel, k), ids = engine.combo[k];
      var per = new Int32Array(engine.combos[k].length), vals = engine.meta.values[k];
      hits.forEach(function (v) { if (pass(v)) per[ids[v]]++; });
      engine.combos[k].forEach(function (c, i) {
        if (per[i]) c.forEach(function (x) { var s = String(vals[x]); counts.set(s, (counts.get(s) || 0) + per[i]); });
      });
      state.sel[k].forEach(function (x) { if (!counts.has(x)) counts.set(x, 0); });
      var keys = Array.from(counts.keys()).sort(function (a, b) {
        return k === "m" ? Number(a) - Number(b) : a.localeCompare(b);
      });
      var fs = box.querySelector('fieldset[data-facet="' + k + '"]');
      var legend = fs.querySelector("legend");
      fs.textContent = "";
      fs.appendChild(legend);
      keys.forEach(function (x) {
        var label = el("label");
        var cb = el("input");
        cb.type = "checkbox";
        cb.value = x;
        cb.name = k;
        cb.checked = state.sel[k].has(x);
        cb.addEventListener("change", function () {
          if (cb.checked) state.sel[k].add(x); else state.sel[k].delete(x);
          update();
        });
        label.appendChild(cb);
        label.appendChild(document.createTextNode(" " + x + " (" + counts.get(x) + ")"));
        fs.appendChild(label);
      });
    });
  }
  function renderResult(res, item, rec) {
    var d = item[0], vs = item[2];
    var best = vs.find(function (v) { return engine.latest[d] === v; });
    if (best === undefined) best = vs[0];
    var first = engine.firstVersion[d];
    var bv = rec.v[best - first];
    var li = el("li", "fr-result");
    li.setAttribute("data-dataset", rec.n);
    var a = el("a", "fr-r-name", rec.n + "@" + bv[0]);
    a.href = root + bv[1];
    li.appendChild(a);
    li.appendChild(el("div", "fr-r-title", rec.t));
    var tags = engine.facet("t", best);
    li.appendChild(el("div", "fr-r-facts fr-muted",
      engine.facet("s", best)[0] + " \u00b7 materialization " + engine.facet("m", best).join(", ") + " \u00b7 " +
      engine.facet("f", best)[0] + " \u00b7 " + engine.facet("st", best)[0] + (tags.length ? " \u00b7 " + tags.join(", ") : "")));
    var w = why(res, best);
    if (w) {
      var wd = el("div", "fr-r-why fr-muted", w);
      wd.setAttribute("data-fields", res.scores.get(best)[1].map(function (fw) { return engine.fieldName(fw[0]); }).join(","));
      li.appendChild(wd);
    }
    var more = el("div", "fr-r-versions");
    vs.forEach(function (v) {
      var rv = rec.v[v - first], st = engine.facet("st", v)[0];
      var va = el("a", "fr-r-version", rv[0] + (engine.latest[d] === v ? " (latest)" : "") + (st !== "published" ? " [" + st + "]" : ""));
      va.href = root + rv[1];
      va.setAttribute("data-ref", rec.n + "@" + rv[0]);
      more.appendChild(va);
    });
    li.appendChild(more);
    return li;
  }
  /* Results in two steps: the first FIRST as soon as their display records are in (one small file
   * per result, fetched in parallel), then the rest up to LIMIT with the facet counts. */
  var FIRST = 10;
  function update() {
    var qs = writeUrl();
    var mine = ++generation;
    return engine.search(state.q, state.sel).then(function (res) {
      if (mine !== generation) return;
      var shown = res.ranked.slice(0, LIMIT);
      var recs = shown.map(function (item) { return engine.record(item[0]); });
      function paint(upto, got) {
        list.textContent = "";
        shown.slice(0, upto).forEach(function (item, i) { list.appendChild(renderResult(res, item, got[i])); });
      }
      return Promise.all(recs.slice(0, FIRST)).then(function (got) {
        if (mine !== generation) return;
        if (shown.length > FIRST) {
          paint(FIRST, got);
          if (window.frSearchFirstAt === undefined) window.frSearchFirstAt = performance.now();
        }
        return Promise.all(recs);
      }).then(function (got) {
        if (mine !== generation || !got) return;
        paint(shown.length, got);
        var nVersions = 0;
        res.ranked.forEach(function (item) { nVersions += item[2].length; });
        var n = res.ranked.length;
        summary.textContent = n + " dataset" + (n === 1 ? "" : "s") + ", " + nVersions + " version" +
          (nVersions === 1 ? "" : "s") + (n > LIMIT ? " (showing the first " + LIMIT + ")" : "") +
          (state.sel.st.size === 0 ? "; deprecated versions hidden (tick a status to see them)" : "");
        renderFacets(res.hits);
        box.setAttribute("data-ready", "1");
        box.setAttribute("data-index-ready", "1");
        box.setAttribute("data-columns-ready", "1");
        box.setAttribute("data-shown", qs);  /* what is on screen: tests wait for it */
        if (window.frSearchFirstAt === undefined) window.frSearchFirstAt = performance.now();
      });
    }).catch(function (err) {
      summary.textContent = "The search index could not be loaded: " + err.message;
      box.setAttribute("data-error", "1");
    });
  }
  readUrl();
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = input.value; update(); }, 60);
  });
  update();
})();
