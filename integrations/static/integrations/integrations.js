// Integration hub pages: copy buttons, the product picker's Enter key, arrow keys between hub nodes.
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      if (window.erpToast) window.erpToast("Copied.", "success");
    });
  });

  // In a product picker, Enter picks the first result instead of submitting a form without a product.
  document.addEventListener("keydown", function (e) {
    var input = e.target;
    if (e.key !== "Enter" || !input.matches || !input.matches(".picker input[type=search]")) return;
    e.preventDefault();
    var form = input.closest("form");
    var first = form && form.querySelector(".picker-results button");
    if (first) first.click();
  });

  // Arrow keys walk the hub's nodes (the ring, clockwise) when one has the focus.
  document.addEventListener("keydown", function (e) {
    if (!e.target.classList || !e.target.classList.contains("hub-node")) return;
    var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (!step) return;
    var nodes = Array.prototype.slice.call(document.querySelectorAll(".hub-node"));
    var i = nodes.indexOf(e.target);
    if (i < 0) return;
    e.preventDefault();
    nodes[(i + step + nodes.length) % nodes.length].focus();
  });
})();
