/* Groups pages: filter long member lists (create a group, move members) by name or unit.
   No inline scripts (CSP); without JavaScript the whole list is shown and everything still works. */
(function () {
  "use strict";

  function filterScope(scope, query) {
    var items = scope.querySelectorAll(".form-check");
    var shown = 0;
    var needle = query.trim().toLowerCase();
    items.forEach(function (item) {
      var text = (item.textContent || "").toLowerCase();
      var match = !needle || text.indexOf(needle) !== -1;
      var input = item.querySelector("input");
      // Checked members stay visible so the user sees what will be saved.
      var keep = match || (input && input.checked);
      item.classList.toggle("d-none", !keep);
      if (keep) {
        shown += 1;
      }
    });
    var counter = scope.querySelector("[data-filter-count]");
    if (counter) {
      counter.textContent = needle ? "显示 " + shown + " / " + items.length + " 名党员" : "";
    }
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches("[data-filter-input]")) {
      return;
    }
    var scope = input.closest("[data-filter-scope]");
    if (scope) {
      filterScope(scope, input.value);
    }
  });

  function init() {
    document.documentElement.classList.add("js");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
