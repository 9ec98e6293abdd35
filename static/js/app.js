// The few behaviours every page shares: theme toggle, auto-submitting selects.
(function () {
  "use strict";
  var order = ["system", "light", "dark"];
  function csrf() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function apply(theme) {
    if (theme === "system") { document.documentElement.removeAttribute("data-theme"); }
    else { document.documentElement.setAttribute("data-theme", theme); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector("[data-theme-toggle]");
    if (toggle) {
      var stored = window.localStorage.getItem("cnc-theme");
      if (!toggle.dataset.themeUrl && stored) { toggle.dataset.themeCurrent = stored; apply(stored); }
      toggle.addEventListener("click", function () {
        var next = order[(order.indexOf(toggle.dataset.themeCurrent) + 1) % order.length];
        toggle.dataset.themeCurrent = next;
        apply(next);
        window.localStorage.setItem("cnc-theme", next);
        if (toggle.dataset.themeUrl) {
          var body = new URLSearchParams({ theme: next });
          fetch(toggle.dataset.themeUrl, { method: "POST", body: body, credentials: "same-origin",
            headers: { "X-CSRFToken": csrf(), "HX-Request": "true" } });
        }
      });
    }
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
