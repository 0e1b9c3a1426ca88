/* Material's inline content script (partials/javascripts/content.html, 9.x), as a file (CSP):
 * open the tab a link's #fragment points at. */
(function () {
  var target = document.getElementById(location.hash.slice(1));
  if (target && target.name) target.checked = target.name.startsWith("__tabbed_");
})();
