/* Member registry pages (groups/templates/registry/): small behaviours without inline scripts (CSP). */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  onReady(function () {
    // Filters: a changed choice submits the search at once (the button stays for typed searches).
    document.querySelectorAll("form[data-registry-filter] select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form.requestSubmit) {
          select.form.requestSubmit();
        } else {
          select.form.submit();
        }
      });
    });

    // Masked ID number / phone inputs: focusing selects the masked text, so typing replaces it.
    document.querySelectorAll("input[data-masked]").forEach(function (input) {
      input.addEventListener("focus", function () {
        if (input.value.indexOf("*") !== -1) {
          input.select();
        }
      });
    });

    // Forms that change a record for good ask once before they submit.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (evt) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          evt.preventDefault();
        }
      });
    });
  });
})();
