// Web Push for the shop-floor app: ask permission, subscribe with the server's VAPID key, and
// tell the server where to push. The page must already have a service worker registered
// (the PWA's, which imports sw-push.js); push needs one to wake up when the app is closed.
(function () {
  "use strict";

  const KEY_URL = "/api/v1/push/key/";
  const SUBSCRIPTIONS_URL = "/api/v1/push/subscriptions/";

  function cookie(name) {
    const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error("Push registration failed (HTTP " + response.status + ")");
    }
    return response;
  }

  async function registration() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      throw new Error("This browser cannot receive push notifications.");
    }
    const found = await navigator.serviceWorker.getRegistration();
    if (!found) {
      throw new Error("Open the shop-floor app first: it installs what push needs.");
    }
    return found;
  }

  // Resolves with the PushSubscription the server now knows about; rejects with a readable Error.
  async function enablePush() {
    const worker = await registration();
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      throw new Error("Notifications are blocked for this site; allow them in the browser settings.");
    }
    const keyResponse = await fetch(KEY_URL, { credentials: "same-origin" });
    if (!keyResponse.ok) {
      throw new Error("Could not read the server's push key (HTTP " + keyResponse.status + ")");
    }
    const serverKey = keyBytes((await keyResponse.json()).public_key);
    let subscription = await worker.pushManager.getSubscription();
    // A subscription made with another server key (the key was rotated) is refused by the push service.
    if (subscription && subscription.options.applicationServerKey) {
      const current = new Uint8Array(subscription.options.applicationServerKey);
      if (current.length !== serverKey.length || current.some((byte, i) => byte !== serverKey[i])) {
        await subscription.unsubscribe();
        subscription = null;
      }
    }
    if (!subscription) {
      subscription = await worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
    }
    const json = subscription.toJSON();
    await send("POST", SUBSCRIPTIONS_URL, { endpoint: json.endpoint, keys: json.keys });
    return subscription;
  }

  async function disablePush() {
    const worker = await registration();
    const subscription = await worker.pushManager.getSubscription();
    if (!subscription) {
      return;
    }
    await send("DELETE", SUBSCRIPTIONS_URL, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }

  window.enablePush = enablePush;
  window.disablePush = disablePush;
})();
