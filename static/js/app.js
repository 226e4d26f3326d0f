// guanxi's own behaviour: the phone menu, toasts (from Django messages and htmx
// HX-Trigger headers), "select all" in lists, confirmations. No inline scripts (CSP).
(function () {
  "use strict";

  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast " + (level || "");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, level === "error" ? 8000 : 4000);
  }
  window.guanxiToast = toast;

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      document.body.classList.toggle("nav-open");
      return;
    }
    var selectAll = event.target.closest("[data-select-all]");
    if (selectAll) {
      var form = selectAll.closest("form") || document;
      form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = selectAll.checked; });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-autosubmit]")) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-toast]").forEach(function (el) {
      toast(el.dataset.toast, el.dataset.level);
      el.remove();
    });
  });

  // htmx's events bubble: one listener on the document sees each once (another on the
  // body as well showed every toast twice).
  document.addEventListener("toast", function (event) {
    toast(event.detail.message || event.detail.value, event.detail.level);
  });
})();
