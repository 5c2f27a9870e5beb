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
  // A row's "…" menu (a details disclosure) closes on Escape, focus back on its
  // summary; opening one closes the others.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !e.target.closest) { return; }
    var menu = e.target.closest("details.rowmenu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("toggle", function (e) {
    var t = e.target;
    if (t.matches && t.matches("details.rowmenu") && t.open) {
      document.querySelectorAll("details.rowmenu[open]").forEach(function (d) {
        if (d !== t) { d.open = false; }
      });
    }
  }, true);
  // A [data-copy] button copies the text of the element it names (a secret shown
  // once) and says so in the status element marked data-copied with the same id.
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("button[data-copy]") : null;
    if (!t) { return; }
    var id = t.getAttribute("data-copy");
    var src = document.getElementById(id);
    var status = document.querySelector('[data-copied="' + id + '"]');
    if (!src || !navigator.clipboard) {
      if (status) { status.textContent = "Select the text and copy it."; }
      return;
    }
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      if (status) { status.textContent = "Copied."; }
    }, function () {
      if (status) { status.textContent = "Could not copy: select the text and copy it."; }
    });
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
