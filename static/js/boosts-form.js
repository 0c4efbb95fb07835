// Boost form: a search box over a long list of checkboxes (the communities of the audience).
// Without JavaScript the full list stays usable; the box is only revealed here.
(function () {
  "use strict";
  var MIN_OPTIONS = 8;
  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  function setup(wrapper) {
    var box = wrapper.querySelector(".boost-community-filter");
    var input = wrapper.querySelector("[data-filter-input]");
    var count = wrapper.querySelector("[data-filter-count]");
    var options = Array.prototype.slice.call(wrapper.querySelectorAll("input[type=checkbox]"));
    if (!box || !input || options.length < MIN_OPTIONS) { return; }
    // Django renders <div id=…><div><label><input> name</label></div>…</div>: the search box
    // goes just above the list, inside the field's fieldset, and the list scrolls.
    var rowOf = function (option) { return option.closest("label").parentNode; };
    var list = rowOf(options[0]).parentNode;
    list.classList.add("boost-community-list");
    list.parentNode.insertBefore(box, list);
    box.hidden = false;
    function apply() {
      var query = normalise(input.value);
      var shown = 0;
      options.forEach(function (option) {
        var row = rowOf(option);
        var label = option.closest("label");
        // Checked groups stay visible: what is chosen is always in sight.
        var match = !query || option.checked || normalise(label.textContent).indexOf(query) !== -1;
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = query
        ? (shown === 1 ? count.dataset.one : count.dataset.many.replace("%(count)s", shown))
        : "";
    }
    input.addEventListener("input", apply);
    // Enter in the search box must not submit the whole boost form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-checkbox-filter]"), setup);
  });
})();
