// Branching of a questionnaire form: an element with data-show-if (a condition of the definition, as
// JSON) is shown only while the answers so far meet it; hidden questions' inputs are disabled so they
// are neither sent nor in the tab order. The server applies the same rules (definition.visible_questions).
(function () {
  "use strict";

  function answer(form, key) {
    var parts = key.split(".");
    var name = parts.length > 1 ? key : parts[0];
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var values = [], scores = [];
    inputs.forEach(function (input) {
      if (input.disabled) { return; }
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { values.push(input.value); scores.push(parseFloat(input.dataset.score)); }
      } else if (input.value.trim() !== "") {
        values.push(input.value.trim()); scores.push(parseFloat(input.value));
      }
    });
    return {values: values, scores: scores};
  }

  function meets(form, cond) {
    if (!cond) { return true; }
    if (cond.all) { return cond.all.every(function (c) { return meets(form, c); }); }
    if (cond.any) { return cond.any.some(function (c) { return meets(form, c); }); }
    var got = answer(form, cond.question);
    if (cond.op === "answered") { return got.values.length > 0; }
    if (!got.values.length) { return false; }
    var want = cond.value;
    switch (cond.op) {
      case "eq": return got.values.indexOf(String(want)) !== -1;
      case "ne": return got.values.indexOf(String(want)) === -1;
      case "in": return (want || []).some(function (w) { return got.values.indexOf(String(w)) !== -1; });
      case "gt": return got.scores.some(function (s) { return s > want; });
      case "gte": return got.scores.some(function (s) { return s >= want; });
      case "lt": return got.scores.some(function (s) { return s < want; });
      case "lte": return got.scores.some(function (s) { return s <= want; });
    }
    return true;
  }

  function apply(form) {
    // in order: a question shown depends only on earlier answers, so one pass settles the form
    form.querySelectorAll("[data-show-if]").forEach(function (el) {
      var inHidden = el.parentElement && el.parentElement.closest("[data-show-if][hidden]");
      var show = !inHidden && meets(form, JSON.parse(el.dataset.showIf));
      el.hidden = !show;
      el.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !show; });
    });
  }

  function init() {
    document.querySelectorAll("form.q-form").forEach(function (form) {
      if (form.querySelector("input[disabled]") && !form.querySelector("input:not([disabled])")) {
        return;  // a read-only copy of the answers
      }
      apply(form);
      form.addEventListener("change", function () { apply(form); });
      form.addEventListener("input", function () { apply(form); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
