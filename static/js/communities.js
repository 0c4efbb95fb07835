/* Communities: the "#" practice picker under a message editor.
   Typing "#" followed by a word lists matching practices (a server-rendered fragment);
   arrows choose, Enter or a click inserts the token "#pratique-<id>", Escape closes.
   Without JavaScript the editor is a plain textarea and the help links to the picker page. */
(function () {
  "use strict";
  var TRIGGER = /(^|\s)#([^\s#]{2,40})$/;

  function setup(textarea) {
    var picker = textarea.parentNode.querySelector(".picker");
    if (!picker) return;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    picker.parentNode.insertBefore(status, picker);
    var active = -1;
    var timer = null;
    var controller = null;

    function options() {
      return Array.prototype.slice.call(picker.querySelectorAll(".picker-option"));
    }
    function close() {
      picker.hidden = true;
      picker.textContent = "";
      active = -1;
    }
    function highlight(index) {
      var opts = options();
      opts.forEach(function (o, i) {
        o.setAttribute("aria-selected", i === index ? "true" : "false");
        o.classList.toggle("picker-active", i === index);
      });
      active = index;
    }
    function insert(option) {
      var token = option.getAttribute("data-token");
      var caret = textarea.selectionStart;
      var before = textarea.value.slice(0, caret).replace(/#[^\s#]*$/, token + " ");
      textarea.value = before + textarea.value.slice(caret);
      textarea.focus();
      textarea.setSelectionRange(before.length, before.length);
      close();
      status.textContent = option.querySelector(".picker-title").textContent + " : pratique citée.";
    }
    function query(word) {
      if (controller) controller.abort();
      controller = new AbortController();
      var url = textarea.getAttribute("data-picker") + "?q=" + encodeURIComponent(word);
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin", signal: controller.signal })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          picker.innerHTML = html;
          var count = options().length;
          picker.hidden = count === 0;
          highlight(count ? 0 : -1);
          status.textContent = count
            ? count + " pratique(s) proposée(s) : flèches pour choisir, Entrée pour citer."
            : "";
        })
        .catch(function () {});
    }

    textarea.addEventListener("input", function () {
      var match = TRIGGER.exec(textarea.value.slice(0, textarea.selectionStart));
      clearTimeout(timer);
      if (!match || /^pratique-\d+$/.test(match[2])) { close(); return; }
      timer = setTimeout(function () { query(match[2]); }, 250);
    });
    textarea.addEventListener("keydown", function (event) {
      if (picker.hidden) return;
      var opts = options();
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % opts.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + opts.length) % opts.length);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        insert(opts[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    picker.addEventListener("mousedown", function (event) {
      var option = event.target.closest(".picker-option");
      if (option) { event.preventDefault(); insert(option); }
    });
    textarea.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init(root) {
    root.querySelectorAll("textarea[data-picker]").forEach(function (t) {
      if (!t.dataset.pickerReady) { t.dataset.pickerReady = "1"; setup(t); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (e) { init(e.target.parentNode || document); });
})();
