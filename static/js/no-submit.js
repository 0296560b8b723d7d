// Enter in a field marked data-no-submit (a search inside a bigger form) runs its search and does not
// send the form around it.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (event.key === "Enter" && target instanceof HTMLElement && target.matches("[data-no-submit]")) {
    event.preventDefault();
  }
});
