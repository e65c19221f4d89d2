/* Year-end export (templates/yearend/): narrow the long branch list to the chosen organisation and to
   a typed name; clear the selection. No inline scripts (CSP). Without JavaScript every branch stays
   listed and the server refuses a branch outside the organisation with a message. The progress on
   the job page needs no script of its own: htmx polls the status fragment. */
(function () {
  "use strict";

  function filterBranches() {
    var org = document.querySelector("[data-yearend-org]");
    var list = document.querySelector("[data-yearend-branches]");
    var box = document.querySelector("[data-yearend-filter]");
    if (!org || !list) {
      return;
    }
    var chosen = org.options[org.selectedIndex];
    var prefix = chosen ? chosen.getAttribute("data-path") || "" : "";
    var text = box ? box.value.trim().toLowerCase() : "";
    Array.prototype.forEach.call(list.options, function (option) {
      var path = option.getAttribute("data-path") || "";
      var inside = path.indexOf(prefix) === 0;
      var matches = !text || option.text.toLowerCase().indexOf(text) !== -1;
      option.hidden = !(inside && (matches || option.selected));
      if (!inside && option.selected) {
        option.selected = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", filterBranches);
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-yearend-org]")) {
      filterBranches();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-yearend-filter]")) {
      filterBranches();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-yearend-clear]")) {
      var list = document.querySelector("[data-yearend-branches]");
      if (list) {
        Array.prototype.forEach.call(list.options, function (option) {
          option.selected = false;
        });
      }
      filterBranches();
    }
  });
})();
