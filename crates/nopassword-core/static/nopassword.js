// The built-in pages' script (base.html loads it), served by both web adapters at
// {mount_path}/static/: no inline <script>, so the pages work under
// Content-Security-Policy: default-src 'self'.
"use strict";

// A violation of the page's Content-Security-Policy (an override's inline style or script)
// is written where a test or a developer finds it: the page's data-csp-violations attribute
// and sessionStorage "nopassword.csp-violations" (which outlives the auto-submitted page).
document.addEventListener("securitypolicyviolation", function (event) {
  var seen = event.effectiveDirective + " " + (event.blockedURI || "inline") + "\n";
  var root = document.documentElement;
  root.setAttribute("data-csp-violations", (root.getAttribute("data-csp-violations") || "") + seen);
  try {
    var key = "nopassword.csp-violations";
    sessionStorage.setItem(key, (sessionStorage.getItem(key) || "") + seen);
  } catch (ignored) {
    // Storage off: the attribute still shows it.
  }
});

// "Logging in...": the link's page posts its form at once. Only that form: the confirm page
// (a link opened in another browser) waits for its button.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("nopassword-login");
  if (form) {
    form.submit();
  }
});

// "Check your inbox": the page waits for another device to approve the login (docs/HTTP.md,
// Cross-device approval). It asks api/login/flow/ every 1.5 s (the flow cookie says which
// flow); once approved it submits its own "Continue" form, so the session starts in this
// browser. Expired: it stops and says so. Without JavaScript the button does the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("nopassword-complete");
  var url = form && form.getAttribute("data-status");
  if (!url || !window.fetch) {
    return;
  }
  var poll = function () {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { status: "pending" };
      })
      .catch(function () {
        return { status: "pending" };
      })
      .then(function (answer) {
        if (answer.status === "approved") {
          form.submit();
        } else if (answer.status === "expired") {
          var expired = document.getElementById("nopassword-expired");
          if (expired) {
            expired.hidden = false;
          }
        } else {
          window.setTimeout(poll, 1500);
        }
      });
  };
  window.setTimeout(poll, 1500);
});
