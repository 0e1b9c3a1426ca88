/* Catalog search engine: reads catalog/search/ (site_builder/search_index.py) and ranks exactly as
 * registry/search_rules.py does (this file is a port of Index.expansions, term_hits, scores and
 * rank; tests/site/test_parity.py runs the same queries through both). A query fetches meta.json and
 * facets.json once, one or two term shards per query word and the display records of the results
 * shown, so its cost does not grow with the catalog. No eval, no WASM, no inline script. */
(function () {
  "use strict";
  if (window.FrSearch) return;  /* loaded by search.html and by every page's header box */
  var RUN = /[a-z0-9]+/g, COMPOUND = /[a-z0-9]+(?:_[a-z0-9]+)+/g;
  var FACETS = ["s", "m", "f", "st", "t"];
  var CODE = (function () {  /* search_index.CODE_CHARS: printable ASCII but the quote and backslash */
    var out = "";
    for (var c = 33; c < 127; c++) if (c !== 34 && c !== 92) out += String.fromCharCode(c);
    return out;
  })();

  function queryTerms(text) {
    var out = [];
    text.toLowerCase().split(/\s+/).forEach(function (word) {
      if (!word) return;
      var comp = word.match(COMPOUND) || [];
      var runs = word.replace(COMPOUND, " ").match(RUN) || [];
      comp.concat(runs).forEach(function (t) { if (out.indexOf(t) < 0) out.push(t); });
    });
    return out;
  }
  function bisectRight(a, x) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (x < a[mid]) hi = mid; else lo = mid + 1; }
    return lo;
  }
  function bisectLeft(a, x) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function startsWith(s, p) { return s.lastIndexOf(p, 0) === 0; }

  function Engine(root) {
    this.root = root || "";
    this.files = new Map();
    this.ready = null;
  }
  Engine.prototype.get = function (path) {
    var got = this.files.get(path);
    if (!got) {
      got = fetch(this.root + "catalog/search/" + path).then(function (r) {
        if (!r.ok) throw new Error(path + ": HTTP " + r.status);
        return r.json();
      });
      this.files.set(path, got);
      got.catch(function () { this.files.delete(path); }.bind(this));
    }
    return got;
  };
  /* meta.json alone: all a query's term lookups need, so they start before facets.json is in */
  Engine.prototype.loadMeta = function () {
    var self = this;
    if (!this.metaReady) this.metaReady = this.get("meta.json").then(function (m) { self.meta = m; return self; });
    return this.metaReady;
  };
  /* meta.json + facets.json, and the version -> dataset map derived from them. */
  Engine.prototype.load = function () {
    var self = this;
    if (!this.ready) {
      this.ready = Promise.all([this.loadMeta(), this.get("facets.json")]).then(function (got) {
        self.facets = got[1];
        var V = self.meta.versions, D = self.meta.datasets;
        var dsOf = new Int32Array(V), first = new Int32Array(D + 1), v = 0;
        self.facets.n.forEach(function (n, d) { first[d] = v; for (var i = 0; i < n; i++) dsOf[v++] = d; });
        first[D] = v;
        var latest = new Int32Array(D);  /* the latest version id of each dataset, -1 for none */
        self.facets.l.forEach(function (i, d) { latest[d] = i < 0 ? -1 : first[d] + i; });
        self.latest = latest;
        self.datasetOf = dsOf;
        /* incremental builds keep version ids stable (site_builder/search_index.py _layout): `x` lists
         * the dataset ids of dead blocks (never shown), `o` each dataset id's place in name order */
        var dead = new Uint8Array(D);
        (self.facets.x || []).forEach(function (d) { dead[d] = 1; });
        self.dead = dead;
        self.order = self.facets.o || null;
        self.firstVersion = first;
        /* facet codes (site_builder/search_index.py _facet_column) -> one value-set id per version */
        self.combo = {};
        self.combos = {};
        FACETS.forEach(function (k) {
          var col = self.facets.cols[k], w = col.w, ids = new Int32Array(V);
          function code(str, i) {
            var x = 0;
            for (var j = 0; j < w; j++) x = x * CODE.length + CODE.indexOf(str.charAt(i * w + j));
            return x;
          }
          if (col.d !== undefined) {
            for (var d = 0; d < D; d++) { var c = code(col.d, d); for (var u = first[d]; u < first[d + 1]; u++) ids[u] = c; }
          } else {
            for (var u2 = 0; u2 < V; u2++) ids[u2] = code(col.v, u2);
          }
          self.combo[k] = ids;
          self.combos[k] = col.c;
        });
        return self;
      });
    }
    return this.ready;
  };
  Engine.prototype.expansions = function (q) {
    var self = this, firsts = this.meta.firsts, max = this.meta.max_expansions, out = [];
    var j = Math.max(0, bisectRight(firsts, q) - 1);
    function step() {
      if (j >= firsts.length || out.length >= max) return Promise.resolve(out);
      return self.get("terms/" + j + ".json").then(function (sh) {
        var keys = sh.k, i = bisectLeft(keys, q);
        while (i < keys.length && out.length < max && startsWith(keys[i], q)) { out.push([keys[i], sh.p[i]]); i++; }
        if (i < keys.length || !(j + 1 < firsts.length && startsWith(firsts[j + 1], q))) return out;
        j++;
        return step();
      });
    }
    return step();
  };
  /* version id -> [weight, field code, matched word] of the best match of query word q */
  Engine.prototype.termHits = function (q) {
    var W = this.meta.weights, pf = this.meta.prefix_factor;
    return this.expansions(q).then(function (words) {
      var best = new Map();
      words.forEach(function (wp) {
        var word = wp[0], runs = wp[1], factor = word === q ? 1 : pf, vid = 0;
        for (var r = 0; r < runs.length; r += 3) {
          vid += runs[r];
          var n = runs[r + 1], code = runs[r + 2], w = W[code] * factor;
          for (var v = vid; v < vid + n; v++) {
            var got = best.get(v);
            if (got === undefined || got[0] < w) best.set(v, [w, code, word]);
          }
          vid += n;
        }
      });
      return best;
    });
  };
  /* version id -> [score, [[field code, word] per query word]] for versions matching every word */
  Engine.prototype.scores = function (terms) {
    return Promise.all(terms.map(this.termHits.bind(this))).then(function (per) {
      var out = new Map();
      if (!per.length) return out;
      var smallest = per.reduce(function (a, b) { return b.size < a.size ? b : a; });
      smallest.forEach(function (_, v) {
        for (var i = 0; i < per.length; i++) if (!per[i].has(v)) return;
        var score = 0, why = [];
        per.forEach(function (p) { var h = p.get(v); score += h[0]; why.push([h[1], h[2]]); });
        out.set(v, [score, why]);
      });
      return out;
    });
  };
  /* sel: {s, f, st, m, t: Set of value strings}. Returns a predicate over version ids (deprecated
   * left out when no status is selected) and, per facet, one that ignores that facet. */
  Engine.prototype.filter = function (sel, skip) {
    var meta = this.meta, self = this, allow = {};
    FACETS.forEach(function (k) {
      if (k === skip || sel[k].size === 0) return;
      allow[k] = self.combos[k].map(function (c) {
        return c.some(function (i) { return sel[k].has(String(meta.values[k][i])); });
      });
    });
    var dep = skip === "st" || sel.st.size ? -1 : meta.values.st.indexOf("deprecated");
    var isDep = self.combos.st.map(function (c) { return c.indexOf(dep) >= 0; });
    var keys = Object.keys(allow), dead = self.dead, dsOf = self.datasetOf;
    return function (v) {
      if (dead[dsOf[v]]) return false;
      if (dep >= 0 && isDep[self.combo.st[v]]) return false;
      for (var i = 0; i < keys.length; i++) if (!allow[keys[i]][self.combo[keys[i]][v]]) return false;
      return true;
    };
  };
  /* [[dataset id, score, [version ids newest first]]] best first (search_rules.rank) */
  Engine.prototype.rank = function (versions, scores) {
    var groups = new Map(), best = new Map(), dsOf = this.datasetOf;
    versions.forEach(function (v) {
      var s = 0;
      if (scores) { var h = scores.get(v); if (h === undefined) return; s = h[0]; }
      var d = dsOf[v];
      if (!groups.has(d)) { groups.set(d, []); best.set(d, -1); }
      groups.get(d).push(v);
      if (s > best.get(d)) best.set(d, s);
    });
    var ord = this.order;
    var order = Array.from(groups.keys()).sort(function (a, b) {
      return (best.get(b) - best.get(a)) || (ord ? ord[a] - ord[b] : a - b);
    });
    return order.map(function (d) {
      return [d, best.get(d), groups.get(d).sort(function (a, b) { return b - a; })];
    });
  };
  /* A full query: text + facet selection -> {ranked, hits (version ids with text hits or all), scores} */
  Engine.prototype.search = function (text, sel) {
    var self = this, terms = queryTerms(text);
    /* term shards are fetched as soon as meta.json is in, while facets.json loads and decodes */
    var got = this.loadMeta().then(function () { return terms.length ? self.scores(terms) : null; });
    return Promise.all([got, this.load()]).then(function (both) {
      var scores = both[0], hits = [];
      if (scores) scores.forEach(function (_, v) { hits.push(v); });
      else for (var v = 0; v < self.meta.versions; v++) hits.push(v);
      hits.sort(function (a, b) { return a - b; });
      var pass = self.filter(sel);
      return { terms: terms, scores: scores, hits: hits, ranked: self.rank(hits.filter(pass), scores) };
    });
  };
  /* display record of dataset d: {n, t, v: [[label, page, date]] in version-id order} */
  Engine.prototype.record = function (d) {
    var c = this.meta.chunk;
    return this.get("records/" + Math.floor(d / c) + ".json").then(function (recs) { return recs[d % c]; });
  };
  Engine.prototype.facet = function (k, v) {
    var vals = this.meta.values[k];
    return this.combos[k][this.combo[k][v]].map(function (i) { return String(vals[i]); });
  };
  Engine.prototype.fieldName = function (code) { return this.meta.fields[code]; };

  function emptySelection() {
    var sel = {};
    FACETS.forEach(function (k) { sel[k] = new Set(); });
    return sel;
  }
  /* the site root as Material states it (relative, e.g. "../.."), with a trailing slash */
  function siteRoot() {
    var cfg = document.getElementById("__config"), base = ".";
    try { base = JSON.parse(cfg.textContent).base || "."; } catch (e) { /* no Material config */ }
    return base.replace(/\/?$/, "/");
  }
  window.FrSearch = { Engine: Engine, queryTerms: queryTerms, FACETS: FACETS, emptySelection: emptySelection,
                      siteRoot: siteRoot };
})();
