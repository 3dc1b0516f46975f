// Procurement pages: the receiving screen's scan queue, the order form's keyboard flow, small helpers.
(function () {
  "use strict";

  function scanInput() { return document.querySelector("[data-scan-input]"); }

  // Receiving: every scan is queued with its own code (a scanner types faster than the
  // server answers). Each leaves once the answer to the previous one is on the page, so it
  // carries the state that answer gave (the state travels in the form) and swaps the live panel.
  var scans = Promise.resolve();
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("[data-receive-form]") || !window.htmx) return;
    var submitter = e.submitter;
    if (submitter && submitter.value !== "scan") return;
    e.preventDefault();
    var input = scanInput();
    var code = input ? input.value : "";
    if (input) { input.value = ""; input.focus(); }
    var url = form.getAttribute("action");
    scans = scans.then(function () {
      return window.htmx.ajax("POST", url, {
        source: "[data-receive-form]", target: "#panel", swap: "outerHTML", values: { code: code, action: "scan" }
      });
    }).catch(function () { /* a failed request is reported by app.js; the next scan goes on */ });
  });

  // The server says how a scan went (HX-Trigger: {"scanned": {"ok": true}}): flash the input.
  document.body.addEventListener("scanned", function (e) {
    var input = scanInput();
    if (!input) return;
    input.classList.remove("flash-ok", "flash-bad");
    void input.offsetWidth; // restart the animation
    input.classList.add(e.detail && e.detail.ok ? "flash-ok" : "flash-bad");
  });
  document.addEventListener("animationend", function (e) {
    if (e.target.matches && e.target.matches("[data-scan-input]")) e.target.classList.remove("flash-ok", "flash-bad");
  });

  function typingElsewhere(except) {
    var active = document.activeElement;
    return active && active !== except && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) &&
      !/^(checkbox|radio|submit|button)$/.test(active.type || "");
  }

  document.addEventListener("htmx:afterSettle", function () {
    // A field the server asks to focus (a new line's quantity), text selected.
    var focus = document.querySelector("[data-focus]");
    if (focus) {
      focus.removeAttribute("data-focus");
      focus.focus();
      if (focus.select) focus.select();
    }
    // The order form: a line was added, so the product field starts empty again.
    var cleared = document.querySelector("[data-clear-code]");
    if (cleared) {
      cleared.removeAttribute("data-clear-code");
      var code = document.getElementById("po-code");
      if (code) code.value = "";
      var suggest = document.getElementById("suggest");
      if (suggest) suggest.innerHTML = "";
    }
    // The receiving screen gives the focus back to the scan input unless the person types elsewhere.
    var input = scanInput();
    if (input && !focus && !typingElsewhere(input)) input.focus();
  });

  // Enter in a line's field saves that field (its change event), then back to the product/scan input.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!t || !t.matches) return;
    if (e.key === "Enter" && t.matches("[data-enter-change]")) {
      e.preventDefault();
      t.dispatchEvent(new Event("change", { bubbles: true }));
      var back = document.getElementById("po-code") || scanInput();
      if (back) back.focus();
      return;
    }
    // The order form's type-ahead: arrows move through the suggestions, Escape closes them.
    var suggest = document.getElementById("suggest");
    if (!suggest) return;
    var buttons = Array.prototype.slice.call(suggest.querySelectorAll("button"));
    if (e.key === "Escape") {
      suggest.innerHTML = "";
      var code = document.getElementById("po-code");
      if (code) code.focus();
      return;
    }
    if (!buttons.length || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    var at = buttons.indexOf(document.activeElement);
    if (t.id !== "po-code" && at < 0) return;
    e.preventDefault();
    if (e.key === "ArrowDown") {
      buttons[Math.min(at + 1, buttons.length - 1)].focus();
    } else if (at <= 0) {
      document.getElementById("po-code").focus();
    } else {
      buttons[at - 1].focus();
    }
  });

  // Clicking elsewhere closes the suggestions.
  document.addEventListener("click", function (e) {
    var suggest = document.getElementById("suggest");
    if (suggest && !e.target.closest(".add-line")) suggest.innerHTML = "";
  });

  // [data-check-all] ticks or unticks every enabled checkbox named by its value.
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("[data-check-all]")) return;
    var form = box.form || document;
    form.querySelectorAll("input[type=checkbox][name='" + box.getAttribute("data-check-all") + "']").forEach(function (c) {
      if (!c.disabled) c.checked = box.checked;
    });
  });

  // [data-print] prints the page.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-print]");
    if (button) { e.preventDefault(); window.print(); }
  });
})();
