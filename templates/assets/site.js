/* Catalog site: render Mermaid diagrams from the vendored script (never a CDN).
 * securityLevel "strict": labels are text, click handlers are disabled. The diagram sources are
 * generated from allow-listed characters (site_builder/diagrams.py); this is the second guard. */
(function () {
  "use strict";
  async function renderDiagrams() {
    var blocks = document.querySelectorAll("pre.fr-mermaid");
    if (!blocks.length || typeof window.mermaid === "undefined") return;
    var dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
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
  /* The catalog search form filters as you type; pressing Enter must not reload the page (this
   * was an inline onsubmit handler, which the CSP now forbids). */
  document.addEventListener("submit", function (ev) {
    if (ev.target && ev.target.id === "fr-search-form") ev.preventDefault();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderDiagrams);
  else renderDiagrams();
})();
