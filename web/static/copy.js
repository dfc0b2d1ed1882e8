// Copy buttons for the links page. Without JavaScript the buttons stay hidden and the
// links are plain, selectable text; with it, a button copies its field and says so.
(function () {
  "use strict";

  var status = document.getElementById("copy-status");

  function announce(text) {
    if (!status) { return; }
    status.textContent = "";
    // A fresh text node, a moment later, so screen readers announce a repeated message too.
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function fallbackCopy(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = button.getAttribute("data-done") || "Copied.";
    var failed = button.getAttribute("data-failed") || "Could not copy: select the text and copy it yourself.";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { announce(done); },
        function () { announce(fallbackCopy(field) ? done : failed); }
      );
    } else {
      announce(fallbackCopy(field) ? done : failed);
    }
  }

  var buttons = document.querySelectorAll("button.copy[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button); });
  });

  var fields = document.querySelectorAll("input.link-url");
  Array.prototype.forEach.call(fields, function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
}());
