// Push handlers for the PWA's service worker: importScripts('/static/shopfloor/sw-push.js').
// The server sends JSON {title, body, url}; a tap opens (or focuses) the page it is about.
/* eslint-env serviceworker */
(function () {
  "use strict";

  const FALLBACK_URL = "/notifications/";
  // A raster icon: notification icons are not drawn from SVG on every platform; the PWA caches this one.
  const ICON_URL = "/static/shopfloor/icons/icon-192.png";

  // The page a tap opens: an address of this site, else the notifications list, so that a payload can
  // never send a tap to another site (or to javascript:).
  function clickTarget(url) {
    try {
      const wanted = new URL(url || FALLBACK_URL, self.location.origin);
      if (wanted.origin === self.location.origin) return wanted.href;
    } catch {
      // Not an address at all: the notifications list below.
    }
    return new URL(FALLBACK_URL, self.location.origin).href;
  }

  // A message the server did not send as a JSON object (a test push from the browser's tools, another
  // sender) is shown as its text.
  function readMessage(data) {
    const message = { title: "CNC Copilot", body: "", url: FALLBACK_URL };
    if (!data) return message;
    let parsed = null;
    try {
      parsed = data.json();
    } catch {
      parsed = null;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return { ...message, body: data.text() };
    }
    return {
      title: parsed.title ? String(parsed.title) : message.title,
      body: parsed.body ? String(parsed.body) : "",
      url: typeof parsed.url === "string" && parsed.url ? parsed.url : message.url,
    };
  }

  self.addEventListener("push", (event) => {
    const message = readMessage(event.data);
    event.waitUntil(
      self.registration.showNotification(message.title, {
        body: message.body,
        icon: ICON_URL,
        data: { url: clickTarget(message.url) },
      }),
    );
  });

  self.addEventListener("notificationclick", (event) => {
    event.notification.close();
    const target = clickTarget(event.notification.data && event.notification.data.url);
    event.waitUntil(
      self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
        for (const client of windows) {
          if (client.url === target && "focus" in client) {
            return client.focus();
          }
        }
        return self.clients.openWindow(target);
      }),
    );
  });
})();
