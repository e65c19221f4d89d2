/* Group leader's workspace: one tap, one step. No inline scripts (CSP); the page works without it.
   A form marked data-submit-once cannot be sent twice by a double tap on a phone: its button is
   disabled while the request runs (htmx swaps the page's main part afterwards; a failed htmx
   request gives the button back). */
(function () {
  "use strict";

  function buttons(form) {
    return form.querySelectorAll("button[type=submit]");
  }

  function setBusy(form, busy) {
    form.classList.toggle("is-busy", busy);
    buttons(form).forEach(function (button) {
      button.disabled = busy;
      button.setAttribute("aria-busy", busy ? "true" : "false");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-submit-once]")) {
      return;
    }
    if (form.classList.contains("is-busy")) {
      event.preventDefault();
      return;
    }
    // After the browser (or htmx) has read the form: a disabled button would not be submitted.
    window.setTimeout(function () {
      setBusy(form, true);
    }, 0);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.matches && form.matches("form[data-submit-once]") && document.contains(form)) {
      setBusy(form, false);
    }
  });

  // Back/forward cache: a page restored from it must not keep disabled buttons.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once].is-busy").forEach(function (form) {
      setBusy(form, false);
    });
  });
})();
