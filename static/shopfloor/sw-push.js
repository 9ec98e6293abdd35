// Push handlers for the PWA's service worker: importScripts('/static/shopfloor/sw-push.js').
// The server sends JSON {title, body, url}; a tap opens (or focuses) the page it is about.
/* eslint-env serviceworker */
(function () {
  "use strict";

  self.addEventListener("push", (event) => {
    let message = { title: "CNC Copilot", body: "", url: "/notifications/" };
    if (event.data) {
      try {
        message = Object.assign(message, event.data.json());
      } catch (error) {
        message.body = event.data.text();
      }
    }
    event.waitUntil(
      self.registration.showNotification(message.title, {
        body: message.body,
        icon: "/static/img/logo.svg",
        badge: "/static/img/logo.svg",
        data: { url: message.url || "/notifications/" },
      })
    );
  });

  self.addEventListener("notificationclick", (event) => {
    event.notification.close();
    const wanted = new URL((event.notification.data && event.notification.data.url) || "/notifications/", self.location.origin);
    // Only pages of this site: a payload must not send a tap somewhere else.
    const target = wanted.origin === self.location.origin ? wanted : new URL("/notifications/", self.location.origin);
    event.waitUntil(
      self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
        for (const client of windows) {
          if (client.url === target.href && "focus" in client) {
            return client.focus();
          }
        }
        return self.clients.openWindow(target.href);
      })
    );
  });
})();
