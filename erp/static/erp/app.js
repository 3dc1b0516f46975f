// Small, dependency-free behaviour on top of htmx: toasts, keyboard shortcuts, confirmations.
(function () {
  "use strict";

  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, level === "error" ? 8000 : 4000);
  }
  window.erpToast = toast;

  // Server-rendered messages fade on their own.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 5000);
    });
  });

  // A view answers HX-Trigger: {"toast": {"message": "...", "level": "success"}}; it bubbles to document.
  document.addEventListener("toast", function (e) { toast(e.detail.message, e.detail.level); });

  // Failed htmx requests say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var detail = "";
    try { detail = JSON.parse(xhr.responseText).detail || ""; } catch (err) { detail = ""; }
    toast("Request failed (" + xhr.status + ")" + (detail ? ": " + detail : ""), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Nothing was changed.", "error");
  });

  // --- Panels htmx swaps in (ship, return, scanner forms, every app) -------------------------
  // Their first field is marked autofocus. htmx focuses such a field only when the swap
  // settles (a timer, 20 ms on, later on a busy machine), even when the cursor is already in
  // another field of the panel: what was being typed in Carrier went on in the quantity, and
  // the shipment was refused ("Enter a number."). Here the panel takes the cursor as soon as it
  // is in the page, if the cursor is nowhere else, and htmx finds nothing left to focus later.
  document.addEventListener("htmx:afterSwap", function (e) {
    var scope = e.target;
    if (!scope || !scope.querySelectorAll) return;
    var marked = Array.prototype.slice.call(scope.querySelectorAll("[autofocus]"));
    if (scope.matches && scope.matches("[autofocus]")) marked.unshift(scope);
    if (!marked.length) return;
    marked.forEach(function (el) { el.removeAttribute("autofocus"); });
    var active = document.activeElement;
    if (!active || active === document.body) marked[0].focus();
  });

  // "/" focuses the search box; Escape closes its results.
  document.addEventListener("keydown", function (e) {
    var search = document.getElementById("global-search");
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((e.target && e.target.tagName) || "");
    if (e.key === "/" && !typing && search) { e.preventDefault(); search.focus(); search.select(); }
    if (e.key === "Escape") {
      var pop = document.getElementById("search-pop");
      if (pop) pop.innerHTML = "";
    }
  });
  document.addEventListener("click", function (e) {
    var pop = document.getElementById("search-pop");
    if (pop && !e.target.closest(".search")) pop.innerHTML = "";
  });
})();
