// The outbox: every action is written to IndexedDB first, with its Idempotency-Key, and sent from
// there. A phone that loses its connection keeps the actions and replays them later with the same
// keys, so the server applies each one exactly once.

const DB_NAME = "cnc-shopfloor";
const DB_VERSION = 1;
const OUTBOX = "outbox";
const OPERATIONS = "operations";
const SNAPSHOTS = "snapshots";

let opening = null;

function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore(OUTBOX, { keyPath: "seq", autoIncrement: true });
        db.createObjectStore(OPERATIONS, { keyPath: "id" });
        db.createObjectStore(SNAPSHOTS);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

async function run(storeName, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    const store = tx.objectStore(storeName);
    let result;
    const request = work(store);
    if (request) request.onsuccess = () => { result = request.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export function newKey() {
  return crypto.randomUUID();
}

export function csrfToken() {
  // The cookie is the freshest token (the shell may come from the service worker's cache).
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function pending() {
  return (await run(OUTBOX, "readonly", (store) => store.getAll())) || [];
}

export async function count() {
  return (await run(OUTBOX, "readonly", (store) => store.count())) || 0;
}

export async function enqueue(entry) {
  const item = { key: newKey(), created: new Date().toISOString(), ...entry };
  item.seq = await run(OUTBOX, "readwrite", (store) => store.add(item));
  return item;
}

async function remove(seq) {
  await run(OUTBOX, "readwrite", (store) => store.delete(seq));
}

function version(operation) {
  return typeof operation.version === "number" ? operation.version : -Infinity;
}

// Keeps the newer of this copy and the stored one (by the server's version; a tie goes to the one
// just read, whose buttons follow the operator's machines of now) and returns the copy kept. Read
// and written in one transaction, so two answers arriving together cannot both win.
export async function rememberOperation(operation) {
  if (!operation || !operation.id) return operation;
  let kept = operation;
  await run(OPERATIONS, "readwrite", (store) => {
    const stored = store.get(operation.id);
    stored.onsuccess = () => {
      if (stored.result && version(stored.result) > version(operation)) kept = stored.result;
      else store.put(operation);
    };
  });
  return kept;
}

export async function storedOperation(id) {
  return run(OPERATIONS, "readonly", (store) => store.get(Number(id)));
}

export async function rememberSnapshot(name, value) {
  await run(SNAPSHOTS, "readwrite", (store) => store.put(value, name));
}

export async function storedSnapshot(name) {
  return run(SNAPSHOTS, "readonly", (store) => store.get(name));
}

function requestBody(item) {
  if (item.form) {
    const form = new FormData();
    for (const [name, value] of Object.entries(item.form)) {
      if (value !== null && value !== undefined && value !== "") form.append(name, value);
    }
    if (item.photo) form.append("photo", item.photo, item.photoName || "photo.jpg");
    return { body: form, headers: {} };
  }
  return { body: JSON.stringify(item.body || {}), headers: { "Content-Type": "application/json" } };
}

// One attempt at one item. Returns {status: "sent", data} or {status: "refused", error} (the server
// answered and the item is done either way), or {status: "offline"} (kept for the next replay).
export async function send(item) {
  const { body, headers } = requestBody(item);
  let response;
  try {
    response = await fetch(item.url, {
      method: item.method || "POST",
      credentials: "same-origin",
      headers: { ...headers, "Idempotency-Key": item.key, "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body,
    });
  } catch {
    return { status: "offline" };
  }
  if (response.status >= 500) return { status: "offline" };
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  await remove(item.seq);
  if (response.ok) return { status: "sent", data, item };
  return { status: "refused", error: { status: response.status, code: data.code || "", detail: data.detail || "" }, item };
}

let replaying = null;

// Sends the queue in order with the keys the items were stored with. Stops at the first network
// failure so that later actions never overtake an earlier one. Each answer is handled before the
// next item goes: the screen must keep an action's answer before it stops drawing the action as
// pending, or a read answered late would bring back the operation as it was.
export function replay(onResult) {
  if (replaying) return replaying;
  replaying = (async () => {
    try {
      for (const item of await pending()) {
        const result = await send(item);
        if (result.status === "offline") return false;
        await onResult(result);
      }
      return true;
    } finally {
      replaying = null;
    }
  })();
  return replaying;
}

// What the operation looks like once the queued actions reach the server.
export function withPending(operation, items) {
  const op = structuredClone(operation);
  op.waiting = 0;
  for (const item of items) {
    if (item.operation !== op.id) continue;
    op.waiting += 1;
    const body = item.body || {};
    switch (item.action) {
      case "start":
        op.status = "in_progress";
        op.phase = Number(op.setup_minutes) > 0 ? "setup" : "run";
        op.work_center = (op.eligible_work_centers || []).find((wc) => wc.id === body.work_center) || op.work_center;
        op.actions = ["finish_setup", "pause", "report", "complete"];
        break;
      case "finish_setup":
        op.phase = "run";
        op.actions = ["pause", "report", "complete"];
        break;
      case "pause":
        op.paused = true;
        op.paused_since = item.created;
        op.pause_reason = item.reason || null;
        op.actions = ["resume", "report", "complete"];
        break;
      case "resume":
        op.paused = false;
        op.paused_since = null;
        op.pause_reason = null;
        op.actions = ["pause", "report", "complete"];
        break;
      case "report":
        op.quantity_good += body.good || 0;
        op.quantity_scrap += body.scrap || 0;
        break;
      case "complete":
        op.quantity_good += body.good || 0;
        op.quantity_scrap += body.scrap || 0;
        op.status = "complete";
        op.actions = [];
        break;
      default:
        break;
    }
  }
  return op;
}
