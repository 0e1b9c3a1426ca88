/* Catalog site: render Mermaid diagrams from the vendored script (never a CDN).
 * securityLevel "strict": labels are text, click handlers are disabled. The diagram sources are
 * generated from allow-listed characters (site_builder/diagrams.py); this is the second guard. */
(function () {
  "use strict";
  async function renderDiagrams() {
    var blocks = document.querySelectorAll("pre.fr-mermaid");
    if (!blocks.length || typeof window.mermaid === "undefined") return;
    var dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    /* dark: mermaid's default edge-label grey (#585858 behind #ccc) is under WCAG's 4.5:1 */
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default",
                                themeVariables: dark ? { edgeLabelBackground: "#2f3136" } : {} });
    for (var i = 0; i < blocks.length; i++) {
      var el = blocks[i];
      if (el.getAttribute("data-rendered")) continue;
      try {
        var out = await window.mermaid.render("fr-mermaid-" + i, el.textContent);
        var holder = document.createElement("div");
        holder.className = "fr-mermaid-svg";
        holder.innerHTML = out.svg; /* mermaid's own sanitised SVG output */
        el.setAttribute("data-rendered", "1");
        el.hidden = true;
        el.parentNode.insertBefore(holder, el.nextSibling);
      } catch (err) {
        el.setAttribute("data-error", String(err && err.message || err));
      }
    }
  }
  /* The palette toggle (light/dark) changes the body's colour scheme: draw again in its colours. */
  function watchScheme() {
    new MutationObserver(function () {
      var held = document.querySelectorAll(".fr-mermaid-svg");
      for (var i = 0; i < held.length; i++) held[i].remove();
      var blocks = document.querySelectorAll("pre.fr-mermaid[data-rendered]");
      for (var j = 0; j < blocks.length; j++) blocks[j].removeAttribute("data-rendered");
      renderDiagrams();
    }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  }
  /* The catalog search form filters as you type; pressing Enter must not reload the page (this
   * was an inline onsubmit handler, which the CSP now forbids). */
  document.addEventListener("submit", function (ev) {
    if (ev.target && ev.target.id === "fr-search-form") ev.preventDefault();
  });
  function start() { renderDiagrams(); watchScheme(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
/* "How to read" snippets: a site built without --site-url does not know its address, so the
 * snippet names the site the reader has open: the page's `data-fr-root` (relative path to the site
 * root) resolved against its own location. Only for http(s): a file:// copy has no catalog URL. */
(function () {
  "use strict";
  function fillSiteUrl() {
    if (!/^https?:$/.test(location.protocol)) return;
    var spans = document.querySelectorAll(".fr-site-url[data-fr-root]");
    for (var i = 0; i < spans.length; i++) {
      spans[i].textContent = new URL(spans[i].getAttribute("data-fr-root") || "./", location.href).href;
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fillSiteUrl);
  else fillSiteUrl();
})();
/* Material's search overlay has role="dialog" without a name (axe: aria-dialog-name, serious). */
(function () {
  "use strict";
  function nameDialogs() {
    var dialogs = document.querySelectorAll(".md-search[role='dialog']:not([aria-label]):not([aria-labelledby])");
    for (var i = 0; i < dialogs.length; i++) dialogs[i].setAttribute("aria-label", "Search");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", nameDialogs);
  else nameDialogs();
})();
/* A table wider than the page scrolls sideways (site.css); a keyboard user must be able to reach
 * and scroll it too, so a table that overflows becomes focusable (axe: scrollable-region-focusable). */
(function () {
  "use strict";
  function markScrollable() {
    var tables = document.querySelectorAll(".md-typeset table[class*='fr-']");
    for (var i = 0; i < tables.length; i++) {
      var t = tables[i];
      if (t.scrollWidth > t.clientWidth + 1) t.setAttribute("tabindex", "0");
      else if (t.getAttribute("tabindex") === "0") t.removeAttribute("tabindex");
    }
  }
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(markScrollable, 150);
  });
  if (document.readyState === "complete") markScrollable();
  else window.addEventListener("load", markScrollable);
})();
