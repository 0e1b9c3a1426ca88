/* Material's inline linked-tabs restore (content.tabs.link), as a file (CSP). */
(function () {
  var tabs = __md_get("__tabs");
  if (!Array.isArray(tabs)) return;
  document.querySelectorAll(".tabbed-set").forEach(function (set) {
    var labels = set.querySelector(".tabbed-labels");
    outer: for (var i = 0; i < tabs.length; i++) {
      var found = labels.getElementsByTagName("label");
      for (var j = 0; j < found.length; j++) {
        if (found[j].innerText.trim() === tabs[i]) {
          document.getElementById(found[j].htmlFor).checked = true;
          break outer;
        }
      }
    }
  });
})();
