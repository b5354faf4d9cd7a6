// The connection page refreshes its live parts (marked data-live) while a sync is queued or
// running, without reloading the page: a half-typed setting in the form below is kept.
// No inline script anywhere: the page's Content-Security-Policy forbids it.
(function () {
  "use strict";
  var root = document.getElementById("connection-page");
  if (!root) {
    return;
  }
  var seconds = Number(root.dataset.refreshSeconds) || 5;

  function swap(fresh) {
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var replacement = fresh.getElementById(old.id);
      if (replacement) {
        old.replaceWith(document.importNode(replacement, true));
      }
    });
    var freshRoot = fresh.getElementById("connection-page");
    root.dataset.active = freshRoot ? freshRoot.dataset.active : "false";
    root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
  }

  function refresh() {
    fetch(root.dataset.refreshUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          swap(new DOMParser().parseFromString(html, "text/html"));
        }
      })
      .catch(function () {
        // Offline for a moment: try again at the next tick.
      })
      .then(schedule);
  }

  function schedule() {
    if (root.dataset.active === "true") {
      window.setTimeout(refresh, seconds * 1000);
    }
  }

  schedule();
})();
