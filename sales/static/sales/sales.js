// Sales pages: type-ahead pickers (customers, products) and the keyboard flow of the order form.
// No dependencies; htmx (loaded by the base layout) does the requests of the forms.
(function () {
  "use strict";

  // --- Pickers -------------------------------------------------------------------------
  // <div data-combo data-source="/url" [data-params="channel"] [data-next="#selector"]>
  //   <input type="hidden" data-combo-value> <input type="text" data-combo-input> <ul role="listbox">
  // Typing asks the server for options (<li role="option" data-value data-label ...>);
  // Up/Down move, Enter or a click picks: the hidden input gets the id (and fires "change"),
  // the text input the label, and focus jumps to data-next. Enter before the options have
  // arrived picks the best match as soon as they do (a scanner types fast and sends Enter).
  function setupCombo(root) {
    if (root.dataset.comboReady) return;
    root.dataset.comboReady = "1";
    var input = root.querySelector("[data-combo-input]");
    var hidden = root.querySelector("[data-combo-value]");
    var list = root.querySelector("[role=listbox]");
    var source = root.getAttribute("data-source");
    var seq = 0;
    var shownFor = null;
    var pickOnLoad = false;
    var timer = null;

    function options() { return Array.prototype.slice.call(list.querySelectorAll("[role=option]")); }
    function current() { return list.querySelector("[role=option][aria-selected=true]"); }
    function open(yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
    }
    function setActive(option) {
      options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
      if (option) {
        input.setAttribute("aria-activedescendant", option.id);
        if (option.scrollIntoView) option.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function url(query) {
      var u = new URL(source, window.location.href);
      u.searchParams.set("q", query);
      var form = root.closest("form");
      (root.getAttribute("data-params") || "").split(/\s+/).forEach(function (name) {
        var el = name && form && form.elements[name];
        if (el && el.value) u.searchParams.set(name, el.value);
      });
      return u.toString();
    }
    function focusNext() {
      var next = root.getAttribute("data-next");
      var el = next && document.querySelector(next);
      if (el) { el.focus(); if (el.select) el.select(); }
    }
    function pick(option) {
      hidden.value = option.getAttribute("data-value");
      input.value = option.getAttribute("data-label");
      shownFor = null;
      list.innerHTML = "";
      open(false);
      setActive(null);
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
      root.dispatchEvent(new CustomEvent("combo:pick", { bubbles: true, detail: option.dataset }));
      focusNext();
    }
    function search(now) {
      var query = input.value.trim();
      window.clearTimeout(timer);
      if (!query) { seq++; list.innerHTML = ""; shownFor = null; open(false); return; }
      var run = function () {
        var mine = ++seq;
        root.setAttribute("aria-busy", "true");
        fetch(url(query), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : ""; })
          .then(function (html) {
            if (mine !== seq) return;
            root.removeAttribute("aria-busy");
            list.innerHTML = html;
            shownFor = query;
            var opts = options();
            setActive(opts[0] || null);
            open(list.children.length > 0 && document.activeElement === input);
            if (pickOnLoad) {
              pickOnLoad = false;
              if (opts[0]) pick(opts[0]);
            }
          })
          .catch(function () { root.removeAttribute("aria-busy"); });
      };
      if (now) run(); else timer = window.setTimeout(run, 120);
    }

    input.addEventListener("input", function () {
      if (hidden.value) {
        hidden.value = "";
        hidden.dispatchEvent(new Event("change", { bubbles: true }));
      }
      pickOnLoad = false;
      search(false);
    });
    input.addEventListener("keydown", function (e) {
      var opts = options();
      var index = opts.indexOf(current());
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (list.hidden && input.value.trim()) { search(true); return; }
        setActive(opts[Math.min(index + 1, opts.length - 1)] || null);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        setActive(opts[Math.max(index - 1, 0)] || null);
      } else if (e.key === "Enter") {
        e.preventDefault(); // never submits the form
        var query = input.value.trim();
        if (!query) return;
        if (hidden.value) { focusNext(); return; }
        var active = current();
        if (shownFor === query && active) { pick(active); return; }
        pickOnLoad = true;
        search(true);
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); e.stopPropagation(); open(false); }
      }
    });
    input.addEventListener("focus", function () { if (shownFor && !hidden.value && list.children.length) open(true); });
    input.addEventListener("blur", function () { window.setTimeout(function () { open(false); }, 150); });
    list.addEventListener("mousedown", function (e) {
      var option = e.target.closest("[role=option]");
      if (option) { e.preventDefault(); pick(option); }
    });
  }

  function setupAll(scope) {
    (scope || document).querySelectorAll("[data-combo]").forEach(setupCombo);
  }
  document.addEventListener("DOMContentLoaded", function () { setupAll(document); });
  document.addEventListener("htmx:load", function (e) { setupAll(e.target); });

  // --- The order form ------------------------------------------------------------------
  function orderForm(el) { return el && el.closest ? el.closest("form[data-order-form]") : null; }
  function byId(id) { return document.getElementById(id); }

  // Picking a product fills the entry's price (unless typed) and says what is available.
  document.addEventListener("combo:pick", function (e) {
    if (e.target.id === "entry-combo") {
      var price = byId("entry-price");
      if (price && !price.dataset.touched) price.value = e.detail.price || "";
      var info = byId("entry-info");
      if (info) { info.textContent = e.detail.info || ""; info.classList.remove("field-error"); }
    } else if (e.target.id === "customer-combo") {
      var about = byId("customer-info");
      if (about) about.textContent = e.detail.info || "";
    } else if (e.target.id === "addline-combo") {
      // The order page's "Add line": the product's price, unless one was typed.
      var unitPrice = byId("id_unit_price");
      if (unitPrice && !unitPrice.dataset.touched) unitPrice.value = e.detail.price || "";
      var stock = byId("addline-info");
      if (stock) stock.textContent = e.detail.info || "";
    }
  });
  document.addEventListener("input", function (e) {
    if (e.target && (e.target.id === "entry-price" || e.target.id === "id_unit_price")) e.target.dataset.touched = "1";
  });

  function addLine(form) {
    var product = form.querySelector("[name=entry-product]");
    var query = form.querySelector("[name=entry-query]");
    if (!product.value && !query.value.trim()) { query.focus(); return; }
    var button = byId("add-line");
    if (button) button.click();
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var form = orderForm(t);
    if (!form || e.key !== "Enter") return;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      var save = form.querySelector(e.shiftKey ? "[data-confirm-save]" : "[data-draft-save]");
      if (save) save.click();
      return;
    }
    if (t.tagName !== "INPUT" || t.matches("[data-combo-input]") || /^(checkbox|radio|submit|button)$/.test(t.type)) return;
    e.preventDefault(); // Enter never saves by accident
    if (t.closest("[data-entry]")) addLine(form);
    else { var query = byId("entry-query"); if (query) query.focus(); }
  });

  // The entry's values are in the request already: empty it at once and give the product box
  // back, so the next SKU can be typed while the server adds the line.
  document.addEventListener("htmx:configRequest", function (e) {
    if (!e.detail.elt || e.detail.elt.id !== "add-line") return;
    ["entry-query", "entry-price", "entry-discount"].forEach(function (id) {
      var el = byId(id);
      if (el) { el.value = ""; delete el.dataset.touched; }
    });
    var product = document.querySelector("[name=entry-product]");
    if (product) product.value = "";
    var qty = byId("entry-quantity");
    if (qty) qty.value = "1";
    var info = byId("entry-info");
    if (info) info.textContent = "";
    var query = byId("entry-query");
    if (query) query.focus();
  });

  // Live totals and the lines race: a totals preview sent before a line was removed answers
  // with each old line's total, out of band, by row index, and the last row is gone (htmx
  // logs oobErrorNoTarget) while the others moved up a place. Such a late answer keeps its
  // totals block but loses those per-line parts; the lines' own swap asks for a fresh preview
  // (linesChanged), queued behind it.
  var linesVersion = 0;
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (elt && elt.hasAttribute("data-order-preview")) elt.dataset.linesVersion = String(linesVersion);
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (e.detail.target && e.detail.target.id === "lines" && e.detail.shouldSwap) {
      linesVersion += 1;
    } else if (elt && elt.hasAttribute("data-order-preview") && elt.dataset.linesVersion !== String(linesVersion)) {
      var holder = document.createElement("template");
      holder.innerHTML = e.detail.serverResponse;
      holder.content.querySelectorAll("[hx-swap-oob]").forEach(function (el) { el.remove(); });
      e.detail.serverResponse = holder.innerHTML;
    }
  });

  // After a line is removed (its button is gone), typing goes on in the product box.
  document.addEventListener("htmx:afterSettle", function () {
    var query = byId("entry-query");
    if (query && (!document.activeElement || document.activeElement === document.body)) query.focus();
  });

  // --- Panels htmx swaps in (ship, return) --------------------------------------------
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

  // "Same as billing" dims the shipping address of a new customer.
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "same-as-billing") {
      var fields = byId("shipping-fields");
      if (fields) fields.classList.toggle("dim", e.target.checked);
    }
  });
})();
