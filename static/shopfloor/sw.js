/* The operator app's service worker, served at /shop/sw.js with scope /shop/.
   The shell and static files come from the cache when the network is gone; shop-floor API reads are
   network-first with the last answer kept, so the queue, opened operations and reasons work offline.
   Writes are never cached here: the page's outbox (IndexedDB) queues and replays them. */

try {
  importScripts("/static/shopfloor/sw-push.js");
} catch (error) {
  // Push is optional: without its handlers the app still installs and works offline.
  console.warn("sw-push.js not loaded", error);
}

const VERSION = "shopfloor-v3";
const SHELL_CACHE = `${VERSION}-shell`;
const API_CACHE = `${VERSION}-api`;
const SHELL_URL = "/shop/";
const API_PREFIX = "/api/v1/shopfloor/";
const PRECACHE = [
  SHELL_URL,
  "/shop/manifest.webmanifest",
  "/static/shopfloor/app.js",
  "/static/shopfloor/outbox.js",
  "/static/shopfloor/scan.js",
  "/static/shopfloor/app.css",
  "/static/shopfloor/icons/icon-192.png",
  "/static/shopfloor/icons/icon-512.png",
  "/static/shopfloor/icons/maskable-512.png",
  "/static/shopfloor/vendor/jsqr/jsQR.js",
];

async function cacheEach(cacheName, urls) {
  // One missing file (a push module not deployed yet) must not fail the whole install.
  const cache = await caches.open(cacheName);
  for (const url of urls) {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
      if (response.ok && !response.redirected) await cache.put(url, response);
    } catch {
      // Offline during install: the runtime cache fills in later.
    }
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheEach(SHELL_CACHE, PRECACHE).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => !name.startsWith(VERSION)).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "cache" && Array.isArray(data.urls)) {
    event.waitUntil(cacheEach(SHELL_CACHE, data.urls));
  } else if (data.type === "forget") {
    // Signing out: the next person on this phone must not see the last one's queue.
    event.waitUntil(caches.delete(API_CACHE));
  }
});

// An API read answered from the cache says so: the page may know something newer (an action's
// answer, a later read) and must not let this copy undo it.
function markedOfflineCopy(cached) {
  const headers = new Headers(cached.headers);
  headers.set("X-Offline-Copy", "1");
  return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
}

async function networkFirst(request, cacheName, fallbackUrl) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = (await cache.match(request)) || (fallbackUrl && (await caches.match(fallbackUrl)));
    if (cached && cacheName === API_CACHE) return markedOfflineCopy(cached);
    if (cached) return cached;
    if (request.mode === "navigate") throw error;
    return new Response(JSON.stringify({ detail: "offline", code: "offline" }), {
      status: 503,
      headers: { "Content-Type": "application/json" },
    });
  }
}

// Stale-while-revalidate: the cached copy answers at once (and offline), the network refreshes it
// for the next load, so a deploy reaches phones without a version bump here.
function staleWhileRevalidate(event) {
  const request = event.request;
  const refresh = fetch(request).then(async (response) => {
    if (response.ok) {
      const cache = await caches.open(SHELL_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  });
  event.waitUntil(refresh.catch(() => undefined));
  return caches.match(request, { ignoreSearch: true }).then((cached) => cached || refresh);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/shop/")) {
    // /shop/o/<id>/ and /shop/j/<id>/ are the same shell: the app reads the id from the address.
    event.respondWith(networkFirst(request, SHELL_CACHE, SHELL_URL));
  } else if (url.pathname.startsWith(API_PREFIX)) {
    event.respondWith(networkFirst(request, API_CACHE));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(event));
  } else if (url.pathname === "/shop/manifest.webmanifest") {
    event.respondWith(networkFirst(request, SHELL_CACHE));
  }
});
