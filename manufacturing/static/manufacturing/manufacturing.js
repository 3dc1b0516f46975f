// Manufacturing pages: the BOM editor's keyboard flow and its product type-ahead.
// No dependencies; htmx (loaded by the base layout) makes the requests.
//
// The component box (input[role=combobox]) asks the server for matches as one types;
// Up/Down choose, Enter (or a click) adds the chosen product as a row. Enter before
// the matches have arrived sends what was typed: the server takes an exact SKU or
// barcode (what a scanner sends), or the only match. The new row's quantity takes
// the focus; Enter there goes back to the component box for the next one.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function listOf(input) { return byId(input.getAttribute("aria-controls")); }
  function inputOf(list) { return document.querySelector("[aria-controls='" + list.id + "']"); }
  function options(list) { return Array.prototype.slice.call(list.querySelectorAll("[role=option]")); }
  function current(list) { return list.querySelector("[role=option][aria-selected=true]"); }

  function setActive(input, list, option) {
    options(list).forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      if (option.scrollIntoView) option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close(input) {
    var list = listOf(input);
    if (list) list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  // Add the product (an id, or "" for "what was typed") as a row, or go to its page (the picker).
  function choose(input, productId) {
    var go = input.getAttribute("data-go");
    if (go) {
      if (productId) { window.location.href = go + productId; return; }
      if (input.form) input.form.submit();
      return;
    }
    var pick = byId("c-pick");
    var add = byId("c-add");
    if (!pick || !add || !window.htmx) return;
    input.setAttribute("data-chosen", input.value.trim()); // matches for this text, arriving late, stay closed
    pick.value = productId || "";
    window.htmx.trigger(add, "add-component");
  }

  // The server's matches arrived: keep them only if they are for what the box holds now.
  document.addEventListener("htmx:afterSwap", function (e) {
    var list = e.detail && e.detail.target;
    if (list && list.id === "c-msg" && byId("c-code")) { close(byId("c-code")); return; }
    if (!list || list.getAttribute("role") !== "listbox") return;
    var input = inputOf(list);
    if (!input) return;
    var opts = options(list);
    var query = opts.length ? opts[0].getAttribute("data-query") : null;
    var config = e.detail.requestConfig;
    var asked = config && config.verb === "post"; // "these match: pick one", the answer to an Enter
    var stale = query !== null && (query !== input.value.trim() || (!asked && query === input.getAttribute("data-chosen")));
    if (!input.value.trim() || stale) { close(input); return; }
    input.setAttribute("aria-expanded", list.children.length ? "true" : "false");
    setActive(input, list, current(list) || opts[0] || null);
    if (document.activeElement !== input && opts.length) input.focus();
  });

  document.addEventListener("mousedown", function (e) {
    var option = e.target.closest && e.target.closest("[role=listbox] [role=option]");
    if (!option) return;
    e.preventDefault();
    var input = inputOf(option.closest("[role=listbox]"));
    if (input) choose(input, option.getAttribute("data-product"));
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!t || !t.matches) return;

    if (t.matches("input[role=combobox]")) {
      var list = listOf(t);
      var opts = list ? options(list) : [];
      var active = list ? current(list) : null;
      var at = opts.indexOf(active);
      if (e.key === "ArrowDown" && opts.length) {
        e.preventDefault();
        setActive(t, list, opts[Math.min(at + 1, opts.length - 1)]);
      } else if (e.key === "ArrowUp" && opts.length) {
        e.preventDefault();
        setActive(t, list, opts[Math.max(at - 1, 0)]);
      } else if (e.key === "Escape") {
        if (opts.length) { e.preventDefault(); close(t); }
      } else if (e.key === "Enter") {
        e.preventDefault(); // never submits the form
        var typed = t.value.trim();
        if (!typed) return;
        var fresh = active && active.getAttribute("data-query") === typed;
        choose(t, fresh ? active.getAttribute("data-product") : "");
      }
      return;
    }

    // Enter in the BOM form moves on instead of submitting it.
    if (e.key !== "Enter") return;
    var form = t.closest && t.closest("form[data-bom-form]");
    if (!form || !/^(INPUT|SELECT)$/.test(t.tagName) || /^(checkbox|radio|submit|button)$/.test(t.type || "")) return;
    e.preventDefault();
    t.dispatchEvent(new Event("change", { bubbles: true }));
    var row = t.closest("tr");
    if (t.hasAttribute("data-enter-next") && row) {
      var fields = Array.prototype.slice.call(row.querySelectorAll("input:not([type=hidden])")); // Tab reaches the selects
      var next = fields[fields.indexOf(t) + 1];
      if (next) { next.focus(); if (next.select) next.select(); return; }
    }
    var back = row && row.classList.contains("o-row") ? byId("o-centre") || byId("c-code") : byId("c-code");
    if (back) back.focus();
  });

  // Typing a number updates the roll-up without waiting for the field to be left.
  var timer = null;
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!t || !t.closest) return;
    if (t.getAttribute("role") === "combobox") { t.removeAttribute("data-chosen"); return; }
    if (!t.closest("form[data-bom-form]")) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      if (window.htmx) window.htmx.trigger(document.body, "bom-changed");
    }, 400);
  });

  // A component was added: the box is empty again, and says so.
  document.addEventListener("component-added", function (e) {
    var input = byId("c-code");
    if (input) { input.value = ""; close(input); }
    var pick = byId("c-pick");
    if (pick) pick.value = "";
    var msg = byId("c-msg");
    if (msg) {
      msg.innerHTML = "";
      if (e.detail && e.detail.message) {
        var p = document.createElement("p");
        p.className = "msg ok";
        p.setAttribute("role", "status");
        p.textContent = e.detail.message;
        msg.appendChild(p);
      }
    }
  });

  // The product is in the BOM already: its quantity takes the focus.
  document.addEventListener("component-exists", function (e) {
    var row = e.detail && document.querySelector("#c-rows tr[data-product='" + e.detail.product + "']");
    var qty = row && row.querySelector("input[name=component_quantity]");
    var input = byId("c-code");
    if (input) { input.value = ""; close(input); }
    if (qty) { qty.focus(); qty.select(); }
  });

  document.addEventListener("row-removed", function () {
    var input = byId("c-code");
    if (input) input.focus();
  });

  // A field the server asks to focus (a new row's quantity), its text selected.
  document.addEventListener("htmx:afterSettle", function () {
    var focus = document.querySelector("[data-focus]");
    if (!focus) return;
    focus.removeAttribute("data-focus");
    focus.focus();
    if (focus.select) focus.select();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var focus = document.querySelector("[data-focus]");
    if (focus) { focus.removeAttribute("data-focus"); focus.focus(); if (focus.select) focus.select(); }
  });

  // Clicking elsewhere closes the matches.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest(".add-bar")) return;
    document.querySelectorAll("input[role=combobox]").forEach(function (input) {
      var list = listOf(input);
      if (list && list.children.length) close(input);
    });
  });

  // [data-check-all] ticks or unticks every enabled checkbox named by its value.
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("[data-check-all]")) return;
    var scope = box.form || document;
    scope.querySelectorAll("input[type=checkbox][name='" + box.getAttribute("data-check-all") + "']").forEach(function (c) {
      if (!c.disabled) c.checked = box.checked;
    });
  });
})();
