/* Material for MkDocs' inline head bootstrap (partials/javascripts/base.html, 9.x), moved into a
 * file so the site's Content-Security-Policy can forbid inline script. The per-page scope comes
 * from the script element's data-md-scope attribute instead of being templated into the code. */
var __md_scope = new URL(document.currentScript.getAttribute("data-md-scope") || ".", location),
  __md_hash = function (e) { return [].concat(Array.from(e)).reduce(function (h, c) { return (h << 5) - h + c.charCodeAt(0); }, 0); },
  __md_get = function (e, s, t) {
    s = s || localStorage; t = t || __md_scope;
    return JSON.parse(s.getItem(t.pathname + "." + e));
  },
  __md_set = function (e, v, s, t) {
    s = s || localStorage; t = t || __md_scope;
    try { s.setItem(t.pathname + "." + e, JSON.stringify(v)); } catch (err) { /* storage full or denied */ }
  };
