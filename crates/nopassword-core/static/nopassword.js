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
