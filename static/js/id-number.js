// Typing a valid resident ID number (GB 11643-1999) fills in the birth date and sex it holds, where
// those fields are empty or were filled from the number before; a value typed by hand is left alone
// (the server checks it against the number and says so next to the field).
(function () {
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function parse(raw) {
    var n = (raw || "").replace(/\s/g, "").toUpperCase();
    if (!/^[1-9]\d{16}[\dX]$/.test(n)) return null;
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(n[i]) * WEIGHTS[i];
    if (CHECK[sum % 11] !== n[17]) return null;
    var y = Number(n.slice(6, 10)), m = Number(n.slice(10, 12)), d = Number(n.slice(12, 14));
    var born = new Date(Date.UTC(y, m - 1, d));
    if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d) return null;
    if (y < 1900 || born.getTime() > Date.now()) return null;
    return {birth_date: n.slice(6, 10) + "-" + n.slice(10, 12) + "-" + n.slice(12, 14),
            sex: Number(n[16]) % 2 ? "M" : "F"};
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLElement)) return;
    if (!input.matches("[data-fills-from-id]")) {
      if (input.dataset.fromId) delete input.dataset.fromId;  // changed by hand: no longer ours to fill
      return;
    }
    var found = parse(input.value), form = input.form;
    if (!found || !form) return;
    var filled = false;
    ["birth_date", "sex"].forEach(function (name) {
      var field = form.elements[name];
      if (!field || (field.value && !field.dataset.fromId) || field.value === found[name]) return;
      field.value = found[name];
      field.dataset.fromId = "1";
      filled = true;
    });
    var status = document.getElementById(input.id + "-filled");
    if (status && filled) status.textContent = status.dataset.message;
  });
})();
