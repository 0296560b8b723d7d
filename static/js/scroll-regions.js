// A table box (.table-scroll) that scrolls sideways on a narrow screen can be scrolled from the
// keyboard: while it overflows and holds nothing to focus, it takes focus (tabindex="0") as a
// region named by its table's caption or the heading above it. Boxes marked up so already are left alone.
(function () {
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function label(box) {
    var caption = box.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    for (var node = box; node && node !== document.body; node = node.parentElement) {
      for (var before = node.previousElementSibling; before; before = before.previousElementSibling) {
        var heading = before.matches("h1, h2, h3") ? before : before.querySelector("h1, h2, h3");
        if (heading && heading.textContent.trim()) return heading.textContent.trim();
      }
    }
    return document.title;
  }

  function mark(box) {
    if (box.hasAttribute("tabindex") && !box.dataset.scrollRegion) return;  // marked up by its template
    var needed = box.scrollWidth > box.clientWidth + 1 && !box.querySelector(FOCUSABLE);
    if (needed && !box.dataset.scrollRegion) {
      box.dataset.scrollRegion = "1";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", label(box));
    } else if (!needed && box.dataset.scrollRegion) {
      delete box.dataset.scrollRegion;
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  function markAll() {
    document.querySelectorAll(".table-scroll").forEach(mark);
  }

  var waiting = null;
  function later() {
    if (waiting) window.cancelAnimationFrame(waiting);
    waiting = window.requestAnimationFrame(function () { waiting = null; markAll(); });
  }

  document.addEventListener("DOMContentLoaded", markAll);
  window.addEventListener("load", markAll);  // once the stylesheet and fonts have set the widths
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();
