/* The search page (search.html): text + facets over the catalog index (search-engine.js). Facets are
 * per version: counts are over the versions the text matches, each facet counted as if it alone
 * were unselected. All text reaches the page through textContent, never innerHTML. */
(function () {
  "use strict";
  var box = document.getElementById("fr-search");
  if (!box || !window.FrSearch) return;
  var FS = window.FrSearch, FACETS = FS.FACETS, LIMIT = 50;
  var root = box.getAttribute("data-root") || "";
  var engine = FS.engine(root);
  var input = document.getElementById("fr-q");
  var summary = document.getElementById("fr-summary");
  var list = document.getElementById("fr-results");
  var state = { q: "", sel: FS.emptySelection() };
  var generation = 0;

  function readUrl() {
    var p = new URLSearchParams(window.location.search);
    state.q = p.get("q") || "";
    state.sel = FS.selectionFrom(p);
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
  var el = FS.el;
  function renderFacets(hits) {
    FACETS.forEach(function (k) {
      /* count per value set first (integers, one pass over the hits), then per value */
      var counts = new Map(), pass = engine.filter(state.sel, k), ids = engine.ids(k);
      var per = new Int32Array(engine.combos[k].length), vals = engine.meta.values[k];
      for (var i = 0; i < hits.length; i++) if (pass(hits[i])) per[ids[hits[i]]]++;
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
  /* Results in steps, so the first ones are on screen before work that grows with the hits: each
   * result is painted as soon as its display record and those of the results above it are in (the
   * early start in search.html's head has usually asked for the first FS.FIRST already), then,
   * after a frame has been painted, the facet counts (a pass over every hit per facet). */
  function afterPaint(fn) {  /* a frame, then a task; the timer alone where frames do not come (hidden tab) */
    var done = false;
    function go() { if (!done) { done = true; fn(); } }
    window.requestAnimationFrame(function () { setTimeout(go, 0); });
    setTimeout(go, 100);
  }
  function update() {
    var qs = writeUrl();
    var mine = ++generation;
    return engine.search(state.q, state.sel).then(function (res) {
      if (mine !== generation) return;
      var n = res.ranked.length, chain = Promise.resolve(), kept = FS.takeEarly(res);
      /* the records of the first FS.FIRST results are asked for at once (the early start has
       * usually asked already), the others once those are in: 50 requests at once would hold
       * back the first result's (a rare word's results sit in as many record files) */
      var head = engine.records(res.ranked, 0, FS.FIRST);
      head.catch(function () { /* reported once, below */ });
      function recordOf(i) {
        var d = res.ranked.dataset(i);
        return i < FS.FIRST ? engine.record(d) : head.then(function () { return engine.record(d); });
      }
      for (var i = kept; i < Math.min(n, LIMIT); i++) {
        chain = (function (i, rec) {
          return chain.then(function () { return rec; }).then(function (got) {
            if (mine !== generation) return;
            if (i === 0) list.textContent = "";
            list.appendChild(FS.renderResult(engine, res, i, got, root));
            if (i === 0) FS.firstOnScreen();
          });
        })(i, recordOf(i));
        chain.catch(function () { /* reported once, below */ });
      }
      if (n === 0) { list.textContent = ""; FS.firstOnScreen(); }
      return chain.then(function () {
        if (mine !== generation) return;
        var nVersions = res.ranked.nVersions;
        summary.textContent = n + " dataset" + (n === 1 ? "" : "s") + ", " + nVersions + " version" +
          (nVersions === 1 ? "" : "s") + (n > LIMIT ? " (showing the first " + LIMIT + ")" : "") +
          (state.sel.st.size === 0 ? "; deprecated versions hidden (tick a status to see them)" : "");
        return new Promise(function (resolve) { afterPaint(resolve); });
      }).then(function () {
        if (mine !== generation) return;
        renderFacets(res.hits);
        FS.mark("facets-counted");
        box.setAttribute("data-ready", "1");
        box.setAttribute("data-index-ready", "1");
        box.setAttribute("data-columns-ready", "1");
        box.setAttribute("data-shown", qs);  /* what is on screen: tests wait for it */
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
