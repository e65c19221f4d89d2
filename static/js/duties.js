/* Duty pages (groups/templates/duties/): the year and group pickers submit on change; the advance
   form shows "关联党员记录" only when the chosen stage is 预备党员. No inline scripts (CSP); without
   JavaScript every field shows and the pickers have their own button. */
(function () {
  "use strict";

  function toggleProbationary(form) {
    var stage = form.querySelector("select[name=stage]");
    var target = form.querySelector("[data-probationary-only]");
    if (stage && target) {
      target.classList.toggle("d-none", stage.value !== "probationary");
    }
  }

  document.addEventListener("change", function (event) {
    var field = event.target;
    var picker = field.closest("form[data-autosubmit]");
    if (picker && field.matches("select")) {
      picker.submit();
      return;
    }
    if (field.matches("select[name=stage]")) {
      toggleProbationary(field.form);
    }
  });

  function init() {
    document.documentElement.classList.add("js");
    document.querySelectorAll("[data-probationary-only]").forEach(function (el) {
      var form = el.closest("form");
      if (form) {
        toggleProbationary(form);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
