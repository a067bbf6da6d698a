/* Small progressive enhancements for the console; every page works without them. */
(function () {
  "use strict";
  // After a form comes back with errors, put the keyboard on the first field to fix.
  document.addEventListener("DOMContentLoaded", function () {
    var bad = document.querySelector("[aria-invalid='true']");
    if (bad) { bad.focus(); }
  });
  // Confirmation text for destructive buttons lives in data-confirm (htmx uses hx-confirm;
  // this covers the same buttons when a form is submitted without htmx).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var text = form.getAttribute("data-confirm");
    if (text && !form.hasAttribute("hx-post") && !window.confirm(text)) {
      event.preventDefault();
    }
  });
})();
