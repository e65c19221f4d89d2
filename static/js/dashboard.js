/* Dashboards (branch, overview): tell the user in Chinese when an in-place action is refused.
   No inline scripts (CSP). Everything works without JavaScript: the forms post and redirect;
   htmx only replaces the row in place. Tooltips are initialised by app.js (also after swaps). */
(function () {
  "use strict";

  var MESSAGES = {
    403: "您没有进行此操作的权限。",
    404: "未找到该记录，或您无权查看。",
    405: "不支持此操作。"
  };

  function showError(target, status) {
    var text = MESSAGES[status] || "操作未能完成，请刷新页面后重试。";
    var host = (target && target.closest(".dashboard")) || document.getElementById("main");
    if (!host) {
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "关闭");
    alert.appendChild(close);
    host.insertBefore(alert, host.firstChild);
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(event.detail.elt, event.detail.xhr ? event.detail.xhr.status : 0);
  });
  document.addEventListener("htmx:sendError", function (event) {
    showError(event.detail.elt, 0);
  });

  /* The overview's filter: a changed year reloads the heatmap at once. */
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-overview-filter]");
    if (form && event.target.name === "year" && window.htmx) {
      window.htmx.trigger(form, "submit");
    }
  });
})();
