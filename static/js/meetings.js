/* Meeting pages: add formset rows from <template> elements, show the absence reason, mark deleted rows.
   No inline scripts (CSP); everything works without JavaScript, this only adds rows in place. */
(function () {
  "use strict";

  var MAX_ROWS = 500; // formsets refuse more on the server as well

  function addRow(prefix) {
    var container = document.querySelector('[data-formset-rows="' + prefix + '"]');
    var template = document.querySelector('template[data-formset-template="' + prefix + '"]');
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (!container || !template || !total) {
      return;
    }
    var index = parseInt(total.value, 10) || 0;
    if (index >= MAX_ROWS) {
      return;
    }
    var placeholder = template.getAttribute("data-placeholder") || "__prefix__";
    var html = template.innerHTML.split(placeholder).join(String(index));
    container.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = container.lastElementChild;
    if (added) {
      var first = added.querySelector("input:not([type=hidden]), select, textarea");
      if (first) {
        first.focus();
      }
    }
  }

  function syncAttendanceRow(row) {
    var absent = row.querySelector('input[type=radio][value="absent"]');
    row.classList.toggle("is-absent", Boolean(absent && absent.checked));
  }

  function syncDeleted(checkbox) {
    var row = checkbox.closest(".formset-row");
    if (row) {
      row.classList.toggle("is-deleted", checkbox.checked);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-formset-add]");
    if (!button) {
      return;
    }
    event.preventDefault();
    addRow(button.getAttribute("data-formset-add"));
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches(".attendance-row input[type=radio]")) {
      syncAttendanceRow(target.closest(".attendance-row"));
    } else if (target.matches('input[type=checkbox][name$="-DELETE"]')) {
      syncDeleted(target);
    }
  });

  function init() {
    document.documentElement.classList.add("js");
    document.querySelectorAll(".attendance-row").forEach(syncAttendanceRow);
    document.querySelectorAll('input[type=checkbox][name$="-DELETE"]').forEach(syncDeleted);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
