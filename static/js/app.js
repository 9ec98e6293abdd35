// The few behaviours every page shares: theme toggle, auto-submitting selects, and parts of a page that
// refresh themselves (an element with an id and data-refresh-seconds is fetched again and swapped in place
// every so many seconds while the page is visible; a failed fetch keeps what is shown and tries again).
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
    document.querySelectorAll("[id][data-refresh-seconds]").forEach(refreshEvery);
  });
  function refreshEvery(element) {
    var seconds = Number(element.dataset.refreshSeconds);
    if (!(seconds > 0)) { return; }
    function again() { window.setTimeout(tick, seconds * 1000); }
    function tick() {
      if (document.hidden) { again(); return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          var fresh = text && new DOMParser().parseFromString(text, "text/html").getElementById(element.id);
          if (fresh) {
            element.replaceChildren.apply(element, Array.from(fresh.childNodes));
            element.dataset.refreshedAt = String(Date.now());
          }
        })
        .catch(function () { return null; })
        .then(again);
    }
    again();
  }
})();
