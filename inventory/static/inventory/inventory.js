// Inventory pages: keep the scanner input ready for the next scan, flash it, dismiss panels.
(function () {
  "use strict";

  function scanInput() { return document.querySelector("[data-scan-input]"); }

  // A scanner types fast and presses Enter after each code, often before the
  // server has answered the previous one. Each code is taken from the input at
  // Enter (and the input emptied for the next), then sent in order, one at a
  // time: no keystroke of the next code can end up in this one.
  var queue = [];
  var busy = false;

  function pump() {
    if (busy || !queue.length) return;
    var item = queue.shift();
    busy = true;
    var done = function () { busy = false; pump(); };
    window.htmx.ajax("POST", item.url, {
      source: item.form, target: "#panel", swap: "innerHTML", values: { code: item.code, lot: item.lot }
    }).then(done, done);
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("[data-scan-form]") || !window.htmx) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    var code = form.elements.code;
    var lot = form.elements.lot;
    queue.push({ form: form, url: form.getAttribute("action"), code: code.value, lot: lot ? lot.value : "" });
    code.value = "";
    code.focus();
    pump();
  }, true);

  // The server says how the scan went (HX-Trigger: {"scanned": {"ok": true}}).
  document.body.addEventListener("scanned", function (e) {
    var input = scanInput();
    if (!input) return;
    var cls = e.detail && e.detail.ok ? "flash-ok" : "flash-bad";
    input.classList.remove("flash-ok", "flash-bad");
    void input.offsetWidth; // restart the animation
    input.classList.add(cls);
  });

  // After a swap, a scanner page gives focus back to the scan input unless the
  // person is typing in another field (a quantity, the reason).
  document.addEventListener("htmx:afterSettle", function () {
    var input = scanInput();
    var active = document.activeElement;
    var typing = active && active !== input && /^(INPUT|TEXTAREA)$/.test(active.tagName) &&
      !/^(checkbox|radio)$/.test(active.type);
    if (input && !typing) input.focus();
  });

  // On a scanner page, a key typed outside any field (focus on the page, a button,
  // a link) goes to the scan input: a scan never lands nowhere, nor presses a button.
  document.addEventListener("keydown", function (e) {
    var input = scanInput();
    var t = document.activeElement;
    if (!input || t === input || e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    if (e.key.length === 1 && e.key !== "/") input.focus();
  }, true);

  // Enter in a quantity field saves that field (its change event), never the form's Done.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && t && t.matches && t.matches("[data-enter-change]")) {
      e.preventDefault();
      t.dispatchEvent(new Event("change", { bubbles: true }));
      var input = scanInput();
      if (input) input.focus();
    }
  });

  // [data-dismiss] empties the panel it sits in (a confirmation the person cancels).
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-dismiss]");
    if (!button) return;
    var panel = document.getElementById(button.getAttribute("data-dismiss"));
    if (panel) { e.preventDefault(); panel.innerHTML = ""; }
  });
})();
