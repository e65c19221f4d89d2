/* partygroup: small behaviours without inline scripts (CSP-friendly), loaded by base.html on every page.
   - Tooltips, also in parts htmx swaps in.
   - A form marked data-submit-once (the ledger's month and import forms, the leader's workspace)
     cannot be sent twice by a double tap on a phone: its buttons are disabled while the request runs
     (a failed htmx request, or a page restored from the back/forward cache, gives them back). */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
    new bootstrap.Tooltip(el);
  });
});
document.body && document.body.addEventListener("htmx:afterSwap", function (evt) {
  evt.detail.target.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
    new bootstrap.Tooltip(el);
  });
});

(function () {
  "use strict";

  var SUBMIT_ONCE = "form[data-submit-once]";

  function setBusy(form, busy) {
    form.classList.toggle("is-busy", busy);
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = busy;
      button.setAttribute("aria-busy", busy ? "true" : "false");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches(SUBMIT_ONCE)) {
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
    if (form && form.matches && form.matches(SUBMIT_ONCE) && document.contains(form)) {
      setBusy(form, false);
    }
  });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll(SUBMIT_ONCE + ".is-busy").forEach(function (form) {
      setBusy(form, false);
    });
  });
})();
