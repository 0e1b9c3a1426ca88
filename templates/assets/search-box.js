/* The header search box on every page: results as you type from the catalog's own index
 * (search-engine.js), the matched field under each; Enter opens search.html with the full list and
 * facets. Same ranking and the same default filter (deprecated hidden) as the search page. */
(function () {
  "use strict";
  var input = document.getElementById("fr-box-q");
  if (!input || !window.FrSearch) return;
  var FS = window.FrSearch, SHOW = 8, root = FS.siteRoot();
  var engine = FS.engine(root);
  var meta = document.getElementById("fr-box-meta");
  var list = document.getElementById("fr-box-results");
  var toggle = document.getElementById("__search");
  var box = document.getElementById("fr-box");
  var generation = 0, timer = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function open() { if (toggle && !toggle.checked) { toggle.checked = true; } }
  function run() {
    var q = input.value, mine = ++generation;
    if (!FS.queryTerms(q).length) {
      list.textContent = "";
      meta.textContent = "Type a name, column, tag or word";
      box.setAttribute("data-shown", q);
      return;
    }
    engine.search(q, FS.emptySelection()).then(function (res) {
      if (mine !== generation) return;
      return engine.records(res.ranked, 0, SHOW).then(function (recs) {
        if (mine !== generation) return;
        list.textContent = "";
        recs.forEach(function (rec, i) {
          var d = res.ranked.dataset(i), vs = res.ranked.versions(i);
          var best = vs.indexOf(engine.latest[d]) >= 0 ? engine.latest[d] : vs[0];
          var rv = rec.v[best - engine.firstVersion[d]], h = engine.matched(res.scores, best, rec);
          var li = el("li", "md-search-result__item fr-box-result");
          li.setAttribute("data-dataset", rec.n);
          var a = el("a", "md-search-result__link");
          a.href = root + rv[1];
          var art = el("article", "md-search-result__article md-typeset");
          art.appendChild(el("h1", "", rec.n + "@" + rv[0]));
          art.appendChild(el("p", "", rec.t));
          var why = el("p", "fr-box-why fr-muted", h.text);
          why.setAttribute("data-fields", h.fields);
          art.appendChild(why);
          a.appendChild(art);
          li.appendChild(a);
          list.appendChild(li);
        });
        var n = res.ranked.length;
        meta.textContent = "";
        meta.appendChild(document.createTextNode(n + " dataset" + (n === 1 ? "" : "s") + " \u00b7 "));
        var all = el("a", "fr-box-all", n ? "all results and filters" : "search page");
        all.href = root + "search.html?q=" + encodeURIComponent(q);
        meta.appendChild(all);
        box.setAttribute("data-shown", q);
      });
    }).catch(function (err) {
      meta.textContent = "The search index could not be loaded: " + err.message;
    });
  }
  input.addEventListener("focus", function () { open(); engine.load().catch(function () {}); });
  input.addEventListener("input", function () {
    open();
    clearTimeout(timer);
    timer = setTimeout(run, 60);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { if (toggle) toggle.checked = false; input.blur(); }
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target, typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
    if (!typing && (ev.key === "/" || ev.key === "s") && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      open();
      input.focus();
    }
  });
})();
