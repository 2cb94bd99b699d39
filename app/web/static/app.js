// The user's API key lives in sessionStorage (this tab only) and goes out with every htmx request.
(function () {
  "use strict";
  var KEY = "guideground.key";
  function key() { return sessionStorage.getItem(KEY) || ""; }
  function status(text) { var s = document.getElementById("key-status"); if (s) s.textContent = text; }

  document.addEventListener("htmx:configRequest", function (e) {
    var k = key();
    if (k) {
      e.detail.headers[document.body.dataset.keyHeader || "X-API-Key"] = k;
    }
  });

  function refreshKeyed() {
    // Parts of a page that depend on the key reload when it changes.
    document.querySelectorAll("[data-keyed]").forEach(function (el) { htmx.trigger(el, "keychange"); });
    htmx.trigger(document.body, "release-changed");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("key-form");
    var input = document.getElementById("api-key");
    if (key()) status("A key is set for this tab.");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var v = input.value.trim();
      if (!v) { status("Enter a key first."); input.focus(); return; }
      sessionStorage.setItem(KEY, v);
      input.value = "";
      status("A key is set for this tab.");
      refreshKeyed();
    });
    document.getElementById("key-forget").addEventListener("click", function () {
      sessionStorage.removeItem(KEY);
      status("No key: reading only.");
      refreshKeyed();
    });
  });

  // After an answer arrives, move focus to it so keyboard and screen-reader users land on it. On settle,
  // not on swap: htmx wires the new content's buttons (the citations) when it settles, so a keyboard user
  // who presses Enter the moment focus arrives must find them live.
  document.addEventListener("htmx:afterSettle", function (e) {
    var t = e.detail.target;
    if (t && (t.id === "answer" || t.id === "chunk-view")) {
      var h = t.querySelector("h2");
      if (h) { h.setAttribute("tabindex", "-1"); h.focus(); }
    }
  });
})();
