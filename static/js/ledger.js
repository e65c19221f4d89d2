/* Ledger pages (dues R-31, thought reports R-30). No inline scripts (CSP); the pages work without it.
   - "交齐" on a member's card copies the amount due into the amount paid; "全部按应交金额交齐"
     does so for every card whose amount paid is still empty.
   A form marked data-submit-once cannot be sent twice (app.js, loaded on every page). */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function field(card, name) {
    return card.querySelector("input[name$='-" + name + "']");
  }

  function fill(card, onlyEmpty) {
    var due = field(card, "amount_due");
    var paid = field(card, "amount_paid");
    if (!due || !paid || !due.value.trim()) {
      return;
    }
    if (onlyEmpty && paid.value.trim()) {
      return;
    }
    paid.value = due.value.trim();
    paid.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-ledger-fill], [data-ledger-fill-all]") : null;
    if (!button) {
      return;
    }
    event.preventDefault();
    if (button.hasAttribute("data-ledger-fill")) {
      var card = button.closest(".ledger-card");
      if (card) {
        fill(card, false);
      }
      return;
    }
    var form = button.closest("form");
    (form || document).querySelectorAll(".ledger-card").forEach(function (card) {
      fill(card, true);
    });
  });
})();
