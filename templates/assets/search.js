/* Catalog search: a lunr index prebuilt by lunr.py (one document per dataset, split into K shards
 * by dataset name) plus a compact facet table of every version. All text reaches the page through
 * textContent, never innerHTML. */
(function () {
  "use strict";
  var box = document.getElementById("fr-search");
  if (!box) return;
  var root = box.getAttribute("data-root") || "";
  var FACETS = ["s", "m", "f", "st", "t"];
  var LIMIT = 50;
  var input = document.getElementById("fr-q");
  var summary = document.getElementById("fr-summary");
  var list = document.getElementById("fr-results");
  var state = { q: "", sel: {} };
  FACETS.forEach(function (k) { state.sel[k] = new Set(); });
  /* each shard: {d: [dataset id per local lunr ref], idx: lunr.Index} */
  var idx = null, colIdx = null, data = null, byDataset = [];

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
  }
  function values(v, k) {
    var x = v[k];
    return Array.isArray(x) ? x.map(String) : [String(x)];
  }
  function passes(v, skip) {
    for (var i = 0; i < FACETS.length; i++) {
      var k = FACETS[i];
      if (k === skip) continue;
      var sel = state.sel[k];
      if (k === "st" && sel.size === 0) { if (v.st === "deprecated") return false; continue; }
      if (sel.size === 0) continue;
      if (!values(v, k).some(function (x) { return sel.has(x); })) return false;
    }
    return true;
  }
  function textHits() {
    var q = state.q.trim().toLowerCase();
    var scores = new Map();
    if (!q) { data.datasets.forEach(function (_, i) { scores.set(i, 0); }); return scores; }
    var terms = q.split(/[\s\-]+/).filter(Boolean);
    if (!idx) {
      /* First pass, before the lunr index has arrived and been parsed: every term must appear in
       * the dataset's name or title (from the small facet table). Replaced by ranked results as
       * soon as the index is loaded, so the first results show within milliseconds of page load. */
      data.datasets.forEach(function (ds, i) {
        var hay = (ds.n + " " + ds.n.replace(/_/g, " ") + " " + ds.t).toLowerCase();
        if (terms.every(function (t) { return hay.indexOf(t) >= 0; })) scores.set(i, 1);
      });
      return scores;
    }
    /* Every shard is queried and the hits merged. lunr scores a hit by the cosine between the
     * query and the document, and each shard normalises by its own expanded query: a shard where
     * the trailing wildcard expands to one term scores a lone prefix match as high as an exact
     * one elsewhere. So hits rank first by how many query terms they match exactly (the matched
     * index terms include the term as the index's pipeline stems it), then by score; scores of
     * different shards stay comparable only approximately. */
    var EXACT = 1e6;
    function ask(shards, each) {
      shards.forEach(function (sh) {
        if (!sh.idx) return;
        var stems = terms.map(function (t) { return sh.idx.pipeline.runString(t)[0] || t; });
        sh.idx.query(function (qb) {
          terms.forEach(function (t) {
            qb.term(t, { boost: 10 });
            qb.term(t, { usePipeline: false, wildcard: lunr.Query.wildcard.TRAILING, boost: 1 });
          });
        }).forEach(function (r) {
          var matched = r.matchData.metadata;
          var exact = stems.filter(function (s) { return Object.prototype.hasOwnProperty.call(matched, s); }).length;
          each(sh.d[Number(r.ref)], r.score, exact);
        });
      });
    }
    ask(idx, function (d, score, exact) { scores.set(d, exact * EXACT + score); });
    if (colIdx) {  /* column descriptions: a second index fetched after the first results */
      ask(colIdx, function (d, score) { scores.set(d, (scores.get(d) || 0) + score * 0.5); });
    }
    return scores;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function renderFacets(hitVersions) {
    FACETS.forEach(function (k) {
      var counts = new Map();
      hitVersions.forEach(function (v) {
        /* status counts ignore the "deprecated hidden" default, so the way to show them is visible */
        if (!(k === "st" ? passesExcept(v, "st") : passes(v, k))) return;
        values(v, k).forEach(function (x) { counts.set(x, (counts.get(x) || 0) + 1); });
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
  function passesExcept(v, skip) {
    for (var i = 0; i < FACETS.length; i++) {
      var k = FACETS[i];
      if (k === skip) continue;
      var sel = state.sel[k];
      if (sel.size === 0) continue;
      if (!values(v, k).some(function (x) { return sel.has(x); })) return false;
    }
    return true;
  }
  function update() {
    writeUrl();
    var scores = textHits();
    var hitVersions = [];
    scores.forEach(function (_, d) { byDataset[d].forEach(function (v) { hitVersions.push(v); }); });
    var groups = new Map();
    hitVersions.forEach(function (v) {
      if (!passes(v)) return;
      if (!groups.has(v.d)) groups.set(v.d, []);
      groups.get(v.d).push(v);
    });
    var order = Array.from(groups.keys()).sort(function (a, b) {
      return (scores.get(b) - scores.get(a)) || data.datasets[a].n.localeCompare(data.datasets[b].n);
    });
    var nVersions = 0;
    groups.forEach(function (vs) { nVersions += vs.length; });
    list.textContent = "";
    order.slice(0, LIMIT).forEach(function (d) {
      var ds = data.datasets[d];
      var vs = groups.get(d).slice().sort(function (a, b) { return b.at.localeCompare(a.at); });
      var best = vs.find(function (v) { return v.l; }) || vs[0];
      var li = el("li", "fr-result");
      li.setAttribute("data-dataset", ds.n);
      var a = el("a", "fr-r-name", ds.n + "@" + best.v);
      a.href = root + best.p;
      li.appendChild(a);
      li.appendChild(el("div", "fr-r-title", ds.t));
      li.appendChild(el("div", "fr-r-facts fr-muted",
        best.s + " · materialization " + best.m.join(", ") + " · " + best.f + " · " + best.st +
        (best.t.length ? " · " + best.t.join(", ") : "")));
      var more = el("div", "fr-r-versions");
      vs.forEach(function (v) {
        var va = el("a", "fr-r-version", v.v + (v.l ? " (latest)" : "") + (v.st !== "published" ? " [" + v.st + "]" : ""));
        va.href = root + v.p;
        va.setAttribute("data-ref", ds.n + "@" + v.v);
        more.appendChild(va);
      });
      li.appendChild(more);
      list.appendChild(li);
    });
    summary.textContent = order.length + " dataset" + (order.length === 1 ? "" : "s") + ", " + nVersions +
      " version" + (nVersions === 1 ? "" : "s") + (order.length > LIMIT ? " (showing the first " + LIMIT + ")" : "") +
      (state.sel.st.size === 0 ? "; deprecated versions hidden (tick a status to see them)" : "") +
      (idx ? "" : " (names and titles only while the full index loads)");
    renderFacets(hitVersions);
    box.setAttribute("data-ready", "1");
  }
  function get(path) {
    return fetch(root + path).then(function (r) {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    });
  }
  readUrl();
  /* Three stages, each re-rendering: the facet table (small; name/title matches at once), the
   * ranked lunr index over names, titles, columns and tags (all its shards), then descriptions and
   * column descriptions (all theirs). The index is requested only once the first results are on
   * screen, so its download and parse never delay them. */
  get("catalog/versions.json").then(function (d) {
    data = d;
    byDataset = data.datasets.map(function () { return []; });
    data.versions.forEach(function (v) { byDataset[v.d].push(v); });
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.q = input.value; update(); }, 80);
    });
    update();
    window.frSearchLoadedAt = performance.now();
    return shards("catalog/search-index/");
  }).then(function (loaded) {
    idx = loaded;
    box.setAttribute("data-index-ready", "1");
    update();
    shards("catalog/search-columns/").then(function (cols) {
      colIdx = cols;
      update();
      box.setAttribute("data-columns-ready", "1");
    }).catch(function () { box.setAttribute("data-columns-ready", "0"); });
  }).catch(function (err) {
    summary.textContent = "The search index could not be loaded: " + err.message;
  });
  /* All K shards of one index, fetched in parallel; resolves when every one is parsed. */
  function shards(dir) {
    var k = data.shards || 1, wanted = [];
    for (var j = 0; j < k; j++) wanted.push(get(dir + j + ".json"));
    return Promise.all(wanted).then(function (files) {
      return files.map(function (f) { return { d: f.d, idx: f.index ? lunr.Index.load(f.index) : null }; });
    });
  }
})();
