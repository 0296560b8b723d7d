// A plain form's button with data-confirm asks before it submits (no inline onclick: the
// Content-Security-Policy allows scripts from files on this host only).
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
