// Coach Liza: show a streamed answer as it is written, then swap in the final fragment
// (citations renumbered, sources, follow-ups, rating). Without JavaScript the pages post
// and reload; without streaming the answer comes whole.
(function () {
  "use strict";

  function streamInto(box) {
    if (box.dataset.started) return;
    box.dataset.started = "1";
    var text = box.querySelector(".answer-stream-text");
    var finish = function () {
      var target = document.getElementById(box.dataset.coachTarget);
      if (window.htmx && target) {
        window.htmx.ajax("GET", box.dataset.coachFinal, { target: target, swap: "outerHTML" });
      } else {
        window.location.reload();
      }
    };
    fetch(box.dataset.coachStream, { credentials: "same-origin", headers: { "Accept": "text/plain" } })
      .then(function (response) {
        if (!response.ok || !response.body) throw new Error("flux indisponible");
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        function pump() {
          return reader.read().then(function (result) {
            if (result.done) return;
            text.textContent += decoder.decode(result.value, { stream: true });
            return pump();
          });
        }
        return pump();
      })
      .then(finish, finish);
  }

  function scan(root) {
    (root || document).querySelectorAll("[data-coach-stream]").forEach(streamInto);
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
  // After a question is sent, empty the box and keep the focus there for the next one.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form.id === "ask-form" && event.detail.successful) {
      form.reset();
      var box = form.querySelector("textarea");
      if (box) box.focus();
    }
  });
  // htmx replaces a rejected form (400/429) so its French errors show.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 400 || status === 429) && event.target.id === "conversation") {
      event.detail.shouldSwap = true;
      event.detail.target = document.getElementById("ask-form");
      event.detail.swapOverride = "outerHTML";
    }
  });
})();
