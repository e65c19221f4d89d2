/* partygroup: small behaviours without inline scripts (CSP-friendly). */
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
