/* Catalog search engine: reads catalog/search/ (site_builder/search_index.py) and ranks exactly as
 * registry/search_rules.py does (this file is a port of Index.expansions, term_hits, scores and
 * rank; tests/site/test_parity.py runs the same queries through both). A query fetches meta.json and
 * facets.json once, one or two term shards per query word and the display records of the results
 * shown, so its cost does not grow with the catalog. No eval, no WASM, no inline script.
 *
 * Speed (docs/site.md, "Search"): per-version state lives in typed arrays indexed by version id (no
 * Map entry or array per hit: a word in every dataset is 100,000 hits at 100k versions), the
 * datasets are ordered by a counting sort over their few distinct scores, and search.html loads this
 * file a second time early (`<script async data-early>` in its head, templates/theme/main.html): that
 * copy starts the URL's query at once, while Material's CSS and bundle still load, and fetches the
 * display records of its first results, so search.js finds them ready. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (window.FrSearch) { if (me && me.hasAttribute("data-early")) window.FrSearch.early(me); return; }
  var RUN = /[a-z0-9]+/g, COMPOUND = /[a-z0-9]+(?:_[a-z0-9]+)+/g, TOKEN = /[a-z0-9]+(?:_[a-z0-9]+)*/g;
  var FACETS = ["s", "m", "f", "st", "t"];
  var FIRST = 10;  /* results painted before the rest of the page's work (search.js, the early start) */
  var CODE = (function () {  /* search_index.CODE_CHARS: printable ASCII but the quote and backslash */
    var out = "";
    for (var c = 33; c < 127; c++) if (c !== 34 && c !== 92) out += String.fromCharCode(c);
    return out;
  })();
  var DIGIT = new Int8Array(128).fill(-1);
  for (var c0 = 0; c0 < CODE.length; c0++) DIGIT[CODE.charCodeAt(c0)] = c0;
  function mark(name) { if (window.performance && performance.mark) performance.mark("fr:" + name); }

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
  /* search_rules.text_terms: the words one text is indexed under */
  function textTerms(text) {
    var out = new Set();
    (text.toLowerCase().match(TOKEN) || []).forEach(function (t) {
      out.add(t);
      if (t.indexOf("_") < 0) return;
      var parts = t.split("_");
      parts.forEach(function (x) { out.add(x); });
      for (var i = 1; i < parts.length - 1; i++) out.add(parts.slice(i).join("_"));
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
  /* search_rules.merge_expansions: the first `max` words of two sorted expansions; a word in both
   * gets the shards' runs, then the tail's (all later ids; its first gap shortened by their end) */
  function mergeExpansions(main, tail, max) {
    var out = [], a = 0, b = 0;
    while (out.length < max && (a < main.length || b < tail.length)) {
      if (b >= tail.length || (a < main.length && main[a][0] < tail[b][0])) out.push(main[a++]);
      else if (a >= main.length || tail[b][0] < main[a][0]) out.push(tail[b++]);
      else {
        var runs = main[a][1], more = tail[b][1].slice(), end = 0;
        for (var r = 0; r < runs.length; r += 3) end += runs[r] + runs[r + 1];
        more[0] -= end;
        out.push([main[a][0], runs.concat(more)]);
        a++; b++;
      }
    }
    return out;
  }
  function startsWith(s, p) { return s.lastIndexOf(p, 0) === 0; }

  function emptySelection() {
    var sel = {};
    FACETS.forEach(function (k) { sel[k] = new Set(); });
    return sel;
  }
  /* the facet selection a search.html URL asks for (?s=..&m=..&f=..&st=..&t=.., each repeatable) */
  function selectionFrom(params) {
    var sel = emptySelection();
    FACETS.forEach(function (k) { params.getAll(k).forEach(function (v) { sel[k].add(v); }); });
    return sel;
  }

  /* The text hits of one query: per version id, the summed weight (0: not every word matched) and
   * per query word the field code and expansion of its best match; `list` the matching version ids,
   * ascending. */
  function Scores(per, V) {
    var score = new Float64Array(V), list = new Int32Array(V), n = 0, ws = per.map(function (p) { return p.w; });
    var k = ws.length, w0 = ws[0], few = null;
    per.forEach(function (p) { if (p.few && (!few || p.few.length < few.length)) few = p.few; });
    function add(v) {
      var s = 0, i = 0;
      for (; i < k; i++) { var x = ws[i][v]; if (x === 0) break; s += x; }
      if (i === k) { score[v] = s; list[n++] = v; }
    }
    if (few) {  /* a word with few hits: visit only those (ascending) */
      for (var f = 0; f < few.length; f++) add(few[f]);
    } else if (k === 1) {  /* one word with many hits: its weights are the scores */
      score = w0;
      for (var u = 0; u < V; u++) if (w0[u] !== 0) list[n++] = u;
    } else {
      for (var v = 0; v < V; v++) add(v);
    }
    this.per = per;
    this.score = score;
    this.list = list.subarray(0, n);
    this.size = n;
  }
  Scores.prototype.has = function (v) { return this.score[v] > 0; };
  /* [score, [[field code, matched index word] per query word]], or undefined */
  Scores.prototype.get = function (v) {
    if (!(this.score[v] > 0)) return undefined;
    return [this.score[v], this.per.map(function (p) { return [p.code[v], p.words[p.word[v]]]; })];
  };

  /* Datasets best first (search_rules.rank): group i is dataset `ds[i]` with score `best[i]` and the
   * passing versions `vs[start[i] .. end[i])` (ascending ids). */
  function Ranked(ds, best, start, end, vs) {
    this.ds = ds; this.bestOf = best; this.start = start; this.end = end; this.vs = vs;
    this.length = ds.length;
    this.nVersions = vs.length;
  }
  Ranked.prototype.dataset = function (i) { return this.ds[i]; };
  Ranked.prototype.score = function (i) { return this.bestOf[i]; };
  /* the passing versions of the i-th dataset, newest first */
  Ranked.prototype.versions = function (i) {
    var out = [];
    for (var j = this.end[i] - 1; j >= this.start[i]; j--) out.push(this.vs[j]);
    return out;
  };

  function Engine(root) {
    this.root = root || "";
    this.files = new Map();
    this.ready = null;
    this.memo = [];  /* the last searches: [key, promise]; the early start and search.js share one */
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
    if (!this.metaReady) {
      this.metaReady = this.get("meta.json").then(function (m) {
        self.meta = m;
        mark("meta");
        if (m.tail) self.get("terms/tail.json").catch(function () {});  /* every query needs it: start now */
        return self;
      });
    }
    return this.metaReady;
  };
  /* meta.json + facets.json, and what every query needs from them: the first version id and the
   * latest of each dataset. A query with few hits looks its versions' datasets up one by one
   * (`datasetAt`, a bisection); the other facet columns are decoded on first use by a pass that
   * needs them anyway (selected facets, the counts after the paint). */
  Engine.prototype.load = function () {
    var self = this;
    if (!this.ready) {
      this.ready = Promise.all([this.loadMeta(), this.get("facets.json")]).then(function (got) {
        mark("facets");
        self.facets = got[1];
        var V = self.meta.versions, D = self.meta.datasets, n = self.facets.n, l = self.facets.l;
        var first = new Int32Array(D + 1), latest = new Int32Array(D), v = 0;
        for (var d = 0; d < D; d++) {
          first[d] = v;
          latest[d] = l[d] < 0 ? -1 : v + l[d];  /* the latest version id of each dataset, -1 for none */
          v += n[d];
        }
        first[D] = v;
        self.firstVersion = first;
        self.latest = latest;
        /* incremental builds keep version ids stable (site_builder/search_index.py _layout): `x` lists
         * the dataset ids of dead blocks (never shown), `or` each dataset id's place in name order */
        var x = self.facets.x || [], dead = null;
        if (x.length) {
          dead = new Uint8Array(V);
          x.forEach(function (d) { dead.fill(1, first[d], first[d + 1]); });
        }
        self.deadVersion = dead;
        self.combo = {};
        self.combos = {};
        FACETS.forEach(function (k) { self.combos[k] = self.facets.cols[k].c; });
        /* what a query with many hits needs, prepared while its term shards are still on the way
         * (they were asked for when meta.json came in): the status of every version, for the
         * default filter (deprecated hidden), and the name order of an incremental build's ids */
        self.ids("st");
        if (self.facets.or) self.byName();
        mark("decoded");
        return self;
      });
    }
    return this.ready;
  };
  /* the dataset id of version v: a bisection of the first version ids (the versions of a dataset
   * are consecutive ids; a dataset without versions shares its first id with the next one) */
  Engine.prototype.datasetAt = function (v) {
    return bisectRight(this.firstVersion, v) - 1;
  };
  /* Int32Array 0 .. versions-1: the hits of a query without text */
  Engine.prototype.allVersions = function () {
    if (!this.everyVersion) {
      var all = new Int32Array(this.meta.versions);
      for (var u = 0; u < all.length; u++) all[u] = u;
      this.everyVersion = all;
    }
    return this.everyVersion;
  };
  /* Int32Array: each dataset id's place in name order (`or`: runs [first id, first place, length],
   * the place growing by one per id, -1 for holes), or null after a full build (ids are name order) */
  Engine.prototype.nameOrder = function () {
    var runs = this.facets.or;
    if (!runs) return null;
    if (!this.order) {
      var ord = new Int32Array(this.meta.datasets);
      runs.forEach(function (r) { for (var i = 0; i < r[2]; i++) ord[r[0] + i] = r[1] < 0 ? -1 : r[1] + i; });
      this.order = ord;
    }
    return this.order;
  };
  /* Int32Array: the live dataset ids in name order (nameOrder inverted) */
  Engine.prototype.byName = function () {
    if (!this.inNameOrder) {
      var ord = this.nameOrder(), live = 0, d;
      for (d = 0; d < ord.length; d++) if (ord[d] >= 0) live++;
      var out = new Int32Array(live);
      for (d = 0; d < ord.length; d++) if (ord[d] >= 0) out[ord[d]] = d;
      this.inNameOrder = out;
    }
    return this.inNameOrder;
  };
  /* facet codes (site_builder/search_index.py _facet_column): the value-set id of facet k at
   * version v, read from the codes of its dataset (per-dataset columns) or its own */
  Engine.prototype.codeAt = function (k, v) {
    if (this.combo[k]) return this.combo[k][v];
    var col = this.facets.cols[k], w = col.w, str = col.d !== undefined ? col.d : col.v;
    var i = col.d !== undefined ? this.datasetAt(v) : v, x = 0;
    for (var j = 0; j < w; j++) x = x * CODE.length + DIGIT[str.charCodeAt(i * w + j)];
    return x;
  };
  /* Int32Array: facet k's value-set id per version (decoded once, for passes over many versions:
   * a query with many hits, the facet counts after the first paint) */
  Engine.prototype.ids = function (k) {
    if (this.combo[k]) return this.combo[k];
    var col = this.facets.cols[k], w = col.w, V = this.meta.versions, D = this.meta.datasets;
    var ids = new Int32Array(V), str = col.d !== undefined ? col.d : col.v, first = this.firstVersion;
    function code(i) {
      var x = 0;
      for (var j = 0; j < w; j++) x = x * CODE.length + DIGIT[str.charCodeAt(i * w + j)];
      return x;
    }
    if (col.d !== undefined) {
      for (var d = 0; d < D; d++) if (first[d + 1] > first[d]) ids.fill(code(d), first[d], first[d + 1]);
    } else if (w === 1) {
      for (var u = 0; u < V; u++) ids[u] = DIGIT[str.charCodeAt(u)];
    } else {
      for (var u2 = 0; u2 < V; u2++) ids[u2] = code(u2);
    }
    this.combo[k] = ids;
    return ids;
  };
  Engine.prototype.expansions = function (q) {
    var self = this, firsts = this.meta.firsts, max = this.meta.max_expansions, out = [];
    var j = Math.max(0, bisectRight(firsts, q) - 1);
    /* the next shard starts with q: the expansions may go on there, so ask for it now (one more
     * round trip otherwise, after the first shard is in and parsed) */
    if (j + 1 < firsts.length && startsWith(firsts[j + 1], q)) this.get("terms/" + (j + 1) + ".json").catch(function () {});
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
    if (!this.meta.tail) return step();
    /* an incremental build's tail (search_rules.Index.expansions): fetched with the first shard */
    return Promise.all([step(), this.get("terms/tail.json")]).then(function (got) {
      var tail = got[1], keys = tail.k, i = bisectLeft(keys, q), more = [];
      while (i < keys.length && more.length < max && startsWith(keys[i], q)) { more.push([keys[i], tail.p[i]]); i++; }
      return mergeExpansions(got[0], more, max);
    });
  };
  /* The best match of query word q per version id: weight `w` (0: none), field `code`, and `word`,
   * the position in `words` of the index word that gave it (the first of the best, in sorted order) */
  Engine.prototype.termHits = function (q) {
    var W = this.meta.weights, pf = this.meta.prefix_factor, V = this.meta.versions;
    return this.expansions(q).then(function (exp) {
      var w = new Float64Array(V), code = new Uint8Array(V), word = new Uint8Array(V), words = [], hit = [], total = 0;
      exp.forEach(function (wp) { for (var r = 1; r < wp[1].length; r += 3) total += wp[1][r]; });
      var many = total >= V >> 3;  /* then no list of hits: Scores scans the weights */
      exp.forEach(function (wp, e) {
        var runs = wp[1], factor = wp[0] === q ? 1 : pf, vid = 0;
        words.push(wp[0]);
        for (var r = 0; r < runs.length; r += 3) {
          vid += runs[r];
          var end = vid + runs[r + 1], c = runs[r + 2], x = W[c] * factor;
          if (e === 0 && many) {  /* nothing set yet: the run at once */
            w.fill(x, vid, end);
            code.fill(c, vid, end);
          } else {
            for (var v = vid; v < end; v++) {
              if (w[v] === 0 && !many) hit.push(v);
              if (w[v] < x) { w[v] = x; code[v] = c; word[v] = e; }
            }
          }
          vid = end;
        }
      });
      var few = many ? null : Int32Array.from(hit).sort();
      return { w: w, code: code, word: word, words: words, few: few };
    });
  };
  /* Scores of the versions matching every query word */
  Engine.prototype.scores = function (terms) {
    var V = this.meta.versions;
    return Promise.all(terms.map(this.termHits.bind(this))).then(function (per) {
      mark("shards");
      return new Scores(per, V);
    });
  };
  /* sel: {s, f, st, m, t: Set of value strings}. Returns a predicate over version ids (deprecated
   * left out when no status is selected) and, per facet, one that ignores that facet. `few`: the
   * predicate will see few versions, so it reads their codes one by one instead of decoding the
   * facet columns of the whole catalog first. */
  Engine.prototype.filter = function (sel, skip, few) {
    var meta = this.meta, self = this, allow = [], keys = [];
    FACETS.forEach(function (k) {
      if (k === skip || sel[k].size === 0) return;
      allow.push(Uint8Array.from(self.combos[k], function (c) {
        return c.some(function (i) { return sel[k].has(String(meta.values[k][i])); }) ? 1 : 0;
      }));
      keys.push(k);
    });
    var dep = skip === "st" || sel.st.size ? -1 : meta.values.st.indexOf("deprecated");
    if (dep >= 0) {
      allow.push(Uint8Array.from(self.combos.st, function (c) { return c.indexOf(dep) >= 0 ? 0 : 1; }));
      keys.push("st");
    }
    var n = allow.length, dead = this.deadVersion;
    if (few) {
      return function (v) {
        if (dead && dead[v]) return false;
        for (var i = 0; i < n; i++) if (!allow[i][self.codeAt(keys[i], v)]) return false;
        return true;
      };
    }
    var ids = keys.map(function (k) { return self.ids(k); });
    return function (v) {
      if (dead && dead[v]) return false;
      for (var i = 0; i < n; i++) if (!allow[i][ids[i][v]]) return false;
      return true;
    };
  };
  /* search_rules.rank over `hits` (ascending version ids): versions of a dataset are neighbours, so
   * one pass groups them; the datasets are then ordered by score, best first, ties in dataset order
   * (a stable counting sort: sums of halves take few distinct values). */
  Engine.prototype.rank = function (hits, scores, pass) {
    var first = this.firstVersion, vs = new Int32Array(hits.length), nv = 0;
    var D = Math.min(this.meta.datasets, hits.length), gd = new Int32Array(D), gs = new Int32Array(D), ge = new Int32Array(D);
    var gb = new Float64Array(D), g = -1, cur = -1, end = -1, score = scores ? scores.score : null;
    for (var i = 0; i < hits.length; i++) {
      var v = hits[i];
      if (!pass(v)) continue;
      var s = score ? score[v] : 0;
      if (v >= end) {  /* a new dataset: the hits are ascending, so look it up once */
        if (g >= 0) ge[g] = nv;
        g++;
        cur = cur >= 0 && v < first[cur + 2] ? cur + 1 : this.datasetAt(v);  /* often the next one */
        end = first[cur + 1]; gd[g] = cur; gs[g] = nv; gb[g] = -1;
      }
      vs[nv++] = v;
      if (s > gb[g]) gb[g] = s;
    }
    if (g >= 0) ge[g] = nv;
    var G = g + 1, sorted = gb.slice(0, G).sort(), keys = [];  /* distinct scores, best first */
    for (var a = G - 1; a >= 0; a--) if (a === G - 1 || sorted[a] !== sorted[a + 1]) keys.push(sorted[a]);
    var bucket = new Int32Array(G), at = new Int32Array(keys.length + 1);
    for (var b = 0; b < G; b++) {  /* bisect the (few) distinct scores, descending */
      var lo = 0, hi = keys.length - 1, x0 = gb[b];
      while (lo < hi) { var mid = (lo + hi) >> 1; if (keys[mid] > x0) lo = mid + 1; else hi = mid; }
      bucket[b] = lo;
      at[lo + 1]++;
    }
    for (var k1 = 1; k1 <= keys.length; k1++) at[k1] += at[k1 - 1];
    /* ties keep dataset order: id order after a full build, name order (`or`) after an incremental one */
    var ord = G > 1 ? this.nameOrder() : null, seq = null;
    if (ord && G > this.meta.datasets >> 6) {  /* many groups: walk the datasets in name order once */
      var byName = this.byName(), groupOf = new Int32Array(this.meta.datasets).fill(-1), q = 0;
      for (var p = 0; p < G; p++) groupOf[gd[p]] = p;
      seq = new Int32Array(G);
      for (var n = 0; n < byName.length; n++) { var gi = groupOf[byName[n]]; if (gi >= 0) seq[q++] = gi; }
    } else if (ord) {
      seq = new Int32Array(G);
      for (var p2 = 0; p2 < G; p2++) seq[p2] = p2;
      seq.sort(function (l, r) { return ord[gd[l]] - ord[gd[r]]; });
    }
    var order = new Int32Array(G);
    for (var b2 = 0; b2 < G; b2++) { var y = seq ? seq[b2] : b2; order[at[bucket[y]]++] = y; }
    var rd = new Int32Array(G), rb = new Float64Array(G), rs = new Int32Array(G), re = new Int32Array(G);
    for (var c = 0; c < G; c++) { var x = order[c]; rd[c] = gd[x]; rb[c] = gb[x]; rs[c] = gs[x]; re[c] = ge[x]; }
    return new Ranked(rd, rb, rs, re, vs.subarray(0, nv));
  };
  function searchKey(terms, sel) {
    return JSON.stringify([terms, FACETS.map(function (k) { return Array.from(sel[k]).sort(); })]);
  }
  /* A full query: text + facet selection -> {terms, scores (null for no text), hits (version ids
   * with text hits, or all; ascending), ranked}. The last few answers are kept, so the early start
   * and search.js share one. */
  Engine.prototype.search = function (text, sel) {
    var self = this, terms = queryTerms(text), key = searchKey(terms, sel);
    for (var i = 0; i < this.memo.length; i++) if (this.memo[i][0] === key) return this.memo[i][1];
    /* term shards are fetched as soon as meta.json is in, while facets.json loads */
    var got = this.loadMeta().then(function () { return terms.length ? self.scores(terms) : null; });
    var out = Promise.all([got, this.load()]).then(function (both) {
      var scores = both[0], hits = scores ? scores.list : self.allVersions();
      var ranked = self.rank(hits, scores, self.filter(sel, undefined, hits.length < self.meta.versions >> 4));
      mark("ranked");
      return { key: key, terms: terms, scores: scores, hits: hits, ranked: ranked };
    });
    this.memo.unshift([key, out]);
    this.memo.length = Math.min(this.memo.length, 2);
    out.catch(function () { self.memo = self.memo.filter(function (m) { return m[1] !== out; }); });
    return out;
  };
  /* display record of dataset d: {n, t, c: [column names], v: [[label, page, date, columns?]] in
   * version-id order} */
  Engine.prototype.record = function (d) {
    var c = this.meta.chunk;
    return this.get("records/" + Math.floor(d / c) + ".json").then(function (recs) { return recs[d % c]; });
  };
  /* the records of ranked results [from, to) */
  Engine.prototype.records = function (ranked, from, to) {
    var out = [];
    for (var i = from; i < Math.min(to, ranked.length); i++) out.push(this.record(ranked.dataset(i)));
    return Promise.all(out);
  };
  Engine.prototype.facet = function (k, v) {
    var vals = this.meta.values[k];
    return this.combos[k][this.codeAt(k, v)].map(function (i) { return String(vals[i]); });
  };
  Engine.prototype.fieldName = function (code) { return this.meta.fields[code]; };
  /* "matched column “pt_root_id”, title “cell”": per query word its field and what matched there.
   * For a column that is the column's own name (from the record: the word alone may be a part,
   * `root`, or a prefix's expansion), else the indexed word. */
  Engine.prototype.matched = function (scores, v, rec) {
    var why = scores && scores.get(v);
    if (!why) return null;
    var d = this.datasetAt(v), self = this, rv = rec.v[v - this.firstVersion[d]];
    var cols = rec.c ? (rv[3] || rec.c.map(function (_, i) { return i; })).map(function (i) { return rec.c[i]; }) : [];
    var text = why[1].map(function (fw) {
      var field = self.fieldName(fw[0]), shown = fw[1];
      if (field === "column") {
        var exact = cols.filter(function (c) { return c.toLowerCase() === fw[1]; });
        var has = exact.length ? exact : cols.filter(function (c) { return textTerms(c).has(fw[1]); });
        if (has.length) shown = has[0];
      }
      return field + " \u201c" + shown + "\u201d";
    });
    return { text: "matched " + text.join(", "), fields: why[1].map(function (fw) { return self.fieldName(fw[0]); }).join(",") };
  };

  /* one engine per site root: the header box and search.html share files and answers */
  var engines = new Map();
  function engineFor(root) {
    var key = new URL(root || "./", window.location.href).href;
    if (!engines.has(key)) engines.set(key, new Engine(root));
    return engines.get(key);
  }
  /* the site root as Material states it (relative, e.g. "../.."), with a trailing slash */
  function siteRoot() {
    var cfg = document.getElementById("__config"), base = ".";
    try { base = JSON.parse(cfg.textContent).base || "."; } catch (e) { /* no Material config */ }
    return base.replace(/\/?$/, "/");
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /* search.html's result i of `res` (display record `rec`) as a list item, links relative to the
   * site root `root`; the early start and search.js paint the same item. All text goes in through
   * textContent. */
  function renderResult(engine, res, i, rec, root) {
    var d = res.ranked.dataset(i), vs = res.ranked.versions(i), latest = engine.latest[d];
    var best = vs.indexOf(latest) >= 0 ? latest : vs[0];
    var first = engine.firstVersion[d], bv = rec.v[best - first], tags = engine.facet("t", best);
    var li = el("li", "fr-result");
    li.setAttribute("data-dataset", rec.n);
    var a = el("a", "fr-r-name", rec.n + "@" + bv[0]);
    a.href = root + bv[1];
    li.appendChild(a);
    li.appendChild(el("div", "fr-r-title", rec.t));
    li.appendChild(el("div", "fr-r-facts fr-muted",
      engine.facet("s", best)[0] + " \u00b7 materialization " + engine.facet("m", best).join(", ") + " \u00b7 " +
      engine.facet("f", best)[0] + " \u00b7 " + engine.facet("st", best)[0] + (tags.length ? " \u00b7 " + tags.join(", ") : "")));
    var why = engine.matched(res.scores, best, rec);
    if (why) {
      var wd = el("div", "fr-r-why fr-muted", why.text);
      wd.setAttribute("data-fields", why.fields);
      li.appendChild(wd);
    }
    var more = el("div", "fr-r-versions");
    vs.forEach(function (v) {
      var rv = rec.v[v - first], st = engine.facet("st", v)[0];
      var va = el("a", "fr-r-version", rv[0] + (latest === v ? " (latest)" : "") + (st !== "published" ? " [" + st + "]" : ""));
      va.href = root + rv[1];
      va.setAttribute("data-ref", rec.n + "@" + rv[0]);
      more.appendChild(va);
    });
    li.appendChild(more);
    return li;
  }
  /* the first result is in the page (`window.frSearchFirstAt`: what bench/search_scale.py times) */
  function firstOnScreen() {
    mark("painted");
    if (window.frSearchFirstAt === undefined) window.frSearchFirstAt = performance.now();
  }
  /* The early start's paint: search.html's first results go into its list as soon as they are
   * known, without waiting for search.js (a body script: it runs only once Material's CSS and the
   * page above it are in). search.js takes over with `takeEarly`: it keeps what was painted for the
   * same query and paints the rest. */
  var painted = { key: null, count: 0, done: false };
  function paintEarly(engine, res, i, rec, root) {
    var list = document.getElementById("fr-results");
    if (painted.done || !list || (painted.key !== null && painted.key !== res.key) || painted.count !== i) return;
    if (i === 0) list.textContent = "";
    list.appendChild(renderResult(engine, res, i, rec, root));
    painted.key = res.key;
    painted.count = i + 1;
    if (i === 0) firstOnScreen();
  }
  /* search.js's first answer: how many of its first results the early start has painted (0 if
   * it painted another query's or none); the early start paints no more after this. */
  function takeEarly(res) {
    painted.done = true;
    return painted.key === res.key ? painted.count : 0;
  }
  /* search.html's early copy of this script (the first script in its head, templates/theme/main.html):
   * start the URL's query now and paint its first FIRST results, each as soon as its record and
   * those above it are in (all asked for at once). (A worker was tried for this and measured slower
   * on 2 cores: it competes with the page's own first layout, docs/benchmarks.md.) */
  function early(script) {
    mark("early");
    var root = script.getAttribute("src").replace(/assets\/search-engine\.js(\?.*)?$/, "");
    var p = new URLSearchParams(window.location.search), text = p.get("q") || "", engine = engineFor(root);
    engine.search(text, selectionFrom(p)).then(function (res) {
      var chain = Promise.resolve();
      for (var i = 0; i < Math.min(res.ranked.length, FIRST); i++) {
        chain = (function (i, rec) {
          return chain.then(function () { return rec; }).then(function (got) {
            var input = document.getElementById("fr-q");
            if (i === 0 && input && !input.value) input.value = text;  /* the box says what is shown */
            paintEarly(engine, res, i, got, root);
          });
        })(i, engine.record(res.ranked.dataset(i)));
      }
      return chain;
    }).catch(function () { /* search.js reports it */ });
  }
  window.FrSearch = { Engine: Engine, engine: engineFor, queryTerms: queryTerms, textTerms: textTerms, FACETS: FACETS,
                      FIRST: FIRST, emptySelection: emptySelection, selectionFrom: selectionFrom, siteRoot: siteRoot,
                      early: early, mark: mark, el: el, renderResult: renderResult, firstOnScreen: firstOnScreen,
                      takeEarly: takeEarly };
  if (me && me.hasAttribute("data-early")) early(me);
})();
