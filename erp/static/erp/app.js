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
  // The phone's menu (max-width 800px): the button opens and closes it (erp/static/erp/app.css).
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("#menu-toggle");
    if (!button) return;
    var open = document.getElementById("sidebar").classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("click", function (e) {
    var pop = document.getElementById("search-pop");
    if (pop && !e.target.closest(".search")) pop.innerHTML = "";
  });

  // Copy buttons: data-copy="<selector>" copies the value of an input, or the text of any other
  // element (a new API key, a webhook secret, a set-password link); data-copied names what was
  // copied in the toast.
  function copied(button, ok) {
    var label = button.textContent;
    var what = button.getAttribute("data-copied") || "Copied";
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    toast(ok ? what + " to the clipboard." : "Copy it with Ctrl+C.", ok ? "success" : "warning");
    setTimeout(function () { button.textContent = label; }, 2000);
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent.trim();
    if (source.select) {
      source.select();
    } else {
      window.getSelection().selectAllChildren(source);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); }, function () {
        copied(button, document.execCommand("copy"));
      });
    } else {
      copied(button, document.execCommand("copy"));
    }
  });
})();
