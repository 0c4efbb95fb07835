/* Feedback 180°: autosave of a rater's answers in this browser only (never on the server).
 * The draft is keyed by the page address (the one-time link) and erased once sent. */
(function () {
  "use strict";
  var PREFIX = "feedback180:";
  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function clearAll() {
    var s = store();
    if (!s) { return; }
    for (var i = s.length - 1; i >= 0; i--) {
      var key = s.key(i);
      if (key && key.indexOf(PREFIX) === 0) { s.removeItem(key); }
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-autosave-clear]")) { clearAll(); return; }
    var form = document.querySelector("form[data-autosave]");
    var s = store();
    if (!form || !s) { return; }
    var key = PREFIX + window.location.pathname;
    var status = form.querySelector("[data-autosave-status]");
    var hasErrors = !!form.querySelector(".errorlist, .form-error-summary");
    var saved = null;
    try { saved = JSON.parse(s.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved && !hasErrors) {
      Object.keys(saved).forEach(function (name) {
        var fields = form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']");
        fields.forEach(function (field) {
          if (field.type === "radio") { field.checked = field.value === saved[name]; }
          else if (field.tagName === "TEXTAREA") { field.value = saved[name]; }
        });
      });
      if (status) { status.textContent = status.dataset.restored || ""; }
    }
    function save() {
      var data = {};
      form.querySelectorAll("input[type=radio]:checked, textarea").forEach(function (field) {
        data[field.name] = field.value;
      });
      try { s.setItem(key, JSON.stringify(data)); } catch (e) { return; }
      if (status) { status.textContent = status.dataset.saved || ""; }
    }
    form.addEventListener("change", save);
    form.addEventListener("input", save);
  });
})();
