// The builder's question form: only the settings of the chosen question type are shown (without this
// script every group shows, and the server keeps only those of the type).
(function () {
  "use strict";

  function apply(form) {
    var select = form.querySelector("select.bq-type");
    if (!select) { return; }
    form.querySelectorAll("[data-types]").forEach(function (group) {
      group.hidden = group.dataset.types.split(" ").indexOf(select.value) === -1;
    });
  }

  function init(root) {
    root.querySelectorAll("form.bq-form").forEach(function (form) {
      if (form.dataset.bqReady) { return; }
      form.dataset.bqReady = "1";
      apply(form);
      form.addEventListener("change", function (event) {
        if (event.target.classList.contains("bq-type")) { apply(form); }
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) { init(event.target.parentElement || document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else { init(document); }
})();
