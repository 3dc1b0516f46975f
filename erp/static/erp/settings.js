// Settings pages: copy a set-password link to the clipboard (buttons with data-copy="<selector of an input>").
(function () {
  "use strict";
  if (window.erpSettingsCopyBound) return;
  window.erpSettingsCopyBound = true;

  function done(button, ok) {
    var label = button.textContent;
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    if (window.erpToast) window.erpToast(ok ? "Link copied to the clipboard." : "Copy it with Ctrl+C.", ok ? "success" : "warning");
    setTimeout(function () { button.textContent = label; }, 2000);
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(button, true); }, function () {
        done(button, document.execCommand("copy"));
      });
    } else {
      done(button, document.execCommand("copy"));
    }
  });
})();
