// Roster console: the little behaviour htmx does not cover. No inline handlers (the
// CSP forbids them); everything hangs off data attributes.
(function () {
  "use strict";
  // "Select all" checkboxes toggle the row checkboxes of their form.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[data-select-all]")) {
      var form = t.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][form="' + form + '"][name=id]').forEach(function (cb) {
        cb.checked = t.checked;
      });
    }
    // Selects marked data-autosubmit submit their form when changed.
    if (t.matches && t.matches("select[data-autosubmit]") && t.form) {
      if (t.form.requestSubmit) { t.form.requestSubmit(); } else { t.form.submit(); }
    }
  });
  // After htmx swaps a page, move focus to its main landmark for screen readers,
  // unless an element asked for focus.
  document.addEventListener("htmx:afterSettle", function (e) {
    var auto = document.querySelector("[autofocus]");
    if (auto) { auto.focus(); return; }
    if (e.detail && e.detail.boosted) {
      var main = document.getElementById("main");
      if (main) { main.focus({ preventScroll: true }); }
    }
  });
})();
