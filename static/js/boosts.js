// Live room: htmx polls the room every few seconds (questions and poll, out of band).
(function () {
  "use strict";
  // When nothing changed (the server answered "not modified", or the same HTML), skip the
  // swap: keyboard focus and a half-chosen poll answer stay in place. CSRF tokens are masked
  // differently in every response, so they are left out of the comparison.
  var last = {};
  var token = /name="csrfmiddlewaretoken" value="[^"]*"/g;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (!target || !target.id || verb !== "get") { return; }
    var html = (event.detail.serverResponse || "").replace(token, "");
    if (last[target.id] === html) { event.detail.shouldSwap = false; return; }
    last[target.id] = html;
  });
  // The room's single poll swaps both regions out of band: same rule, per region.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var fragment = event.detail.fragment;
    var element = fragment && fragment.firstElementChild;
    if (!target || !target.id || !element) { return; }
    var html = element.outerHTML.replace(token, "");
    if (last[target.id] === html) { event.detail.shouldSwap = false; return; }
    last[target.id] = html;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (verb === "post") { last = {}; }
    // Every couple of minutes a poll goes through the full access check and the server sends
    // a renewed room pass (boosts/middleware.py): the next polls carry it.
    var xhr = event.detail.xhr;
    var renewed = xhr && xhr.getResponseHeader("X-Live-Pass");
    var holder = renewed && document.querySelector(".live-layout[hx-headers]");
    if (holder) { holder.setAttribute("hx-headers", JSON.stringify({"X-Live-Pass": renewed})); }
  });
})();
