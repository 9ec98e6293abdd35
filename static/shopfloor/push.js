// Web Push for the shop-floor app: ask permission, subscribe with the server's VAPID key, and tell the
// server where to push. An ES module (the operator app imports it; a page may too). Push needs the app's
// service worker (scope /shop/, it imports sw-push.js) to wake up when the app is closed, so the
// operator app must have been opened once on this device.

import { csrfToken } from "./outbox.js";

const KEY_URL = "/api/v1/push/key/";
const SUBSCRIPTIONS_URL = "/api/v1/push/subscriptions/";
const WORKER_SCOPE = "/shop/";

// Messages come translated from the page (<template id="strings"><data value="English">translated</data>),
// as in the operator app; a page without them shows the English.
function text(key, vars = {}) {
  const template = document.getElementById("strings");
  const found = template && [...template.content.querySelectorAll("data")].find((node) => node.value === key);
  return (found ? found.textContent : key).replace(/%\((\w+)\)s/g, (_, name) => String(vars[name] ?? ""));
}

function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function sameKey(subscription, serverKey) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true;
  const bytes = new Uint8Array(current);
  return bytes.length === serverKey.length && bytes.every((byte, i) => byte === serverKey[i]);
}

async function send(method, url, body) {
  const response = await fetch(url, {
    method: method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(text("Push registration failed (HTTP %(status)s)", { status: response.status }));
  }
  return response;
}

async function registration() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    throw new Error(text("This browser cannot receive push notifications."));
  }
  const found = await navigator.serviceWorker.getRegistration(WORKER_SCOPE);
  if (!found) {
    throw new Error(text("Open the shop-floor app first: it installs what push needs."));
  }
  return found;
}

// The server's current public key, or null when it cannot be read (offline).
async function serverKey() {
  try {
    const response = await fetch(KEY_URL, { credentials: "same-origin" });
    return response.ok ? keyBytes((await response.json()).public_key) : null;
  } catch {
    return null;
  }
}

// Where this device stands, without asking the operator anything: "unsupported" (no service worker or
// push here), "blocked" (notifications denied in the browser), "on" (the app's worker holds a
// subscription the server can push to) or "off". A subscription made with a key the server has since
// rotated gets nothing: it counts as off, and turning push on replaces it.
export async function pushStatus() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return "unsupported";
  }
  if (Notification.permission === "denied") {
    return "blocked";
  }
  const found = await navigator.serviceWorker.getRegistration(WORKER_SCOPE);
  if (!found || Notification.permission !== "granted") {
    return "off";
  }
  const subscription = await found.pushManager.getSubscription();
  if (!subscription) {
    return "off";
  }
  const key = await serverKey();
  return key && !sameKey(subscription, key) ? "off" : "on";
}

// Resolves with the PushSubscription the server now knows about; rejects with a readable Error.
export async function enablePush() {
  const worker = await registration();
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new Error(text("Notifications are blocked for this site; allow them in the browser settings."));
  }
  const keyResponse = await fetch(KEY_URL, { credentials: "same-origin" });
  if (!keyResponse.ok) {
    throw new Error(text("Could not read the server's push key (HTTP %(status)s)", { status: keyResponse.status }));
  }
  const serverKey = keyBytes((await keyResponse.json()).public_key);
  let subscription = await worker.pushManager.getSubscription();
  // A subscription made with another server key (the key was rotated) is refused by the push service:
  // drop it here and on the server, and make a new one.
  if (subscription && !sameKey(subscription, serverKey)) {
    await send("DELETE", SUBSCRIPTIONS_URL, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    try {
      subscription = await worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
    } catch (error) {
      // Private windows and browsers without a push service refuse here.
      const reason = error.message || error.name;
      throw new Error(text("This browser could not subscribe to push messages (%(reason)s).", { reason }));
    }
  }
  const json = subscription.toJSON();
  await send("POST", SUBSCRIPTIONS_URL, { endpoint: json.endpoint, keys: json.keys });
  return subscription;
}

// Stops push on this device: the server forgets the subscription, then the browser drops it.
export async function disablePush() {
  const worker = await registration();
  const subscription = await worker.pushManager.getSubscription();
  if (!subscription) {
    return;
  }
  await send("DELETE", SUBSCRIPTIONS_URL, { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
}
