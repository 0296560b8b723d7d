// Search results by keyboard: in a search box with data-result-links="#results", ↓ moves the focus to
// the first result's link; in the results, ↓ and ↑ move between the links (↑ from the first goes back
// to the box) and Enter opens the focused one, as any link does. Links only: nothing is announced
// that is not there, and the results stay an ordinary table for screen readers.
(function () {
  function links(container) {
    return container ? Array.prototype.slice.call(container.querySelectorAll("a[data-result]")) : [];
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = event.target;
    if (!(target instanceof HTMLElement)) return;
    var container, list, box;
    if (target.matches("[data-result-links]")) {
      if (event.key !== "ArrowDown") return;
      list = links(document.querySelector(target.dataset.resultLinks));
      if (!list.length) return;
      event.preventDefault();
      list[0].focus();
      return;
    }
    if (!target.matches("a[data-result]")) return;
    box = document.querySelector("[data-result-links]");
    container = box && document.querySelector(box.dataset.resultLinks);
    list = links(container);
    var at = list.indexOf(target);
    if (at < 0) return;
    event.preventDefault();
    if (event.key === "ArrowDown") {
      if (at + 1 < list.length) list[at + 1].focus();
    } else if (at > 0) {
      list[at - 1].focus();
    } else {
      box.focus();
    }
  });
})();
