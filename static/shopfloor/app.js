// The operator app: clock in, see the queue, scan a traveler, run an operation; also offline.
import * as outbox from "./outbox.js";
import { DecoderUnavailable, decodeFile, parseScan, scanCamera } from "./scan.js";

const API = "/api/v1/shopfloor/";
const REPLAY_EVERY_MS = 20000;
const RETRY_SOON_MS = 3000;
const LIVE_FIRST_RETRY_MS = 1000;
const LIVE_MAX_RETRY_MS = 30000;
// Close codes of the live sockets that say "do not come back": not signed in, not allowed, no such machine.
const LIVE_REFUSED = [4401, 4403, 4404];

// Every user-facing string comes from the page, where Django translated it.
const strings = {};
document.getElementById("strings").content.querySelectorAll("data").forEach((node) => {
  strings[node.value] = node.textContent;
});

function t(key, vars = {}) {
  return (strings[key] || key).replace(/%\((\w+)\)s/g, (_, name) => String(vars[name] ?? ""));
}

const state = {
  me: null,
  queue: null,
  reasons: null,
  prompts: [],
  // Stops answered from this page: an older read (the worker's offline copy) must not ask again.
  answeredPrompts: new Set(),
  items: [],
  online: navigator.onLine,
  view: { name: "home" },
  camera: null,
  // This device's Web Push: null until checked, then "unsupported", "blocked", "off" or "on".
  push: null,
  interactive: new Set(),
  sentSinceRefresh: false,
};

// --- small DOM helpers ------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector) => document.querySelector(selector);

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function dayTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], { weekday: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function day(isoDate) {
  return isoDate ? new Date(`${isoDate}T12:00:00`).toLocaleDateString([], { day: "numeric", month: "short" }) : "";
}

// A moment today as its time, an earlier one with its day.
function since(iso) {
  return new Date(iso).toDateString() === new Date().toDateString() ? time(iso) : dayTime(iso);
}

function isPaused(op) {
  return op.status === "in_progress" && op.paused;
}

// Since when and why a paused operation waits, as far as the copy knows.
function pausedWhy(op) {
  const reason = op.pause_reason ? op.pause_reason.name : "";
  if (!op.paused_since) return reason;
  const vars = { time: since(op.paused_since), reason };
  return reason ? t("Since %(time)s · %(reason)s", vars) : t("Since %(time)s", vars);
}

function opLabel(op) {
  return `${op.job.number}/${op.sequence}`;
}

// Machines are known on the floor by their code; the name is for whoever is new.
function machineLabel(wc) {
  return `${wc.code} ${wc.name}`;
}

// The earlier steps a pending operation waits for, as the travelers name them ("J-1042/10 CUT").
function waitingFor(op) {
  const before = op.status === "pending" ? op.waiting_for || [] : [];
  if (!before.length) return "";
  return t("Waiting for %(steps)s", { steps: before.map((step) => `${step.job}/${step.sequence} ${step.operation_code}`).join(", ") });
}

// --- data ----------------------------------------------------------------------------------------

async function getJSON(path, snapshot) {
  try {
    const response = await fetch(API + path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => ({}));
      if (body.code === "not_authenticated" || response.status === 401) window.location.assign(document.body.dataset.loginUrl);
      throw new Error(body.detail || String(response.status));
    }
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    if (response.headers.has("X-Offline-Copy")) {
      // The service worker's last copy: the outbox's, which also keeps the answers of actions, is
      // at least as new.
      const stored = snapshot ? await outbox.storedSnapshot(snapshot) : undefined;
      return stored === undefined ? data : stored;
    }
    if (snapshot) await outbox.rememberSnapshot(snapshot, data);
    return data;
  } catch (error) {
    if (snapshot) {
      const stored = await outbox.storedSnapshot(snapshot);
      if (stored !== undefined) return stored;
    }
    throw error;
  }
}

// Every operation copy carries the server's version. On shop Wi-Fi a read sent before an action can
// be answered after it, a replayed action returns the answer it got the first time, and the service
// worker answers offline with its last read: the outbox keeps whichever copy is newest, and that is
// the one drawn.
async function loadOperation(id) {
  try {
    return await outbox.rememberOperation(await getJSON(`operations/${id}/`));
  } catch (error) {
    const stored = await outbox.storedOperation(id);
    if (stored) return stored;
    throw error;
  }
}

// An action's answer replaces the operation's entry at once: the queue is read again only later.
function showInQueue(op) {
  if (!state.queue) return;
  for (const center of state.queue.work_centers) center.entries = center.entries.map((entry) => (entry.id === op.id ? op : entry));
}

// Each operation of a list as the newest copy the phone has seen (see loadOperation).
async function newestCopies(ops) {
  const newest = [];
  for (const op of ops) newest.push(await outbox.rememberOperation(op));
  return newest;
}

async function refreshItems() {
  state.items = await outbox.pending();
  renderHeader();
  followMachines();
}

function myMachineIds() {
  const me = effectiveMe();
  return me && me.attendance ? me.attendance.work_centers.map((wc) => wc.id) : [];
}

// The "me" payload with the queued clock actions applied, so the header tells the truth offline.
function effectiveMe() {
  if (!state.me) return null;
  let me = state.me;
  for (const item of state.items) {
    if (item.action === "clock-in" || item.action === "machines") {
      const chosen = state.me.work_centers.filter((wc) => item.body.work_centers.includes(wc.id));
      const since = me.attendance ? me.attendance.clocked_in_at : item.created;
      me = { ...me, attendance: { id: null, clocked_in_at: since, work_centers: chosen } };
    } else if (item.action === "clock-out") {
      me = { ...me, attendance: null, labor: [] };
    }
  }
  return me;
}

// --- sending -------------------------------------------------------------------------------------

let flushing = null;
let flushAgain = false;

async function flush() {
  if (flushing) {
    flushAgain = true;
    return flushing;
  }
  flushing = (async () => {
    do {
      flushAgain = false;
      const done = await outbox.replay(onResult);
      setOnline(done && navigator.onLine);
      // A server hiccup (5xx) while the network is up is worth a quick retry, not a 20 s wait.
      if (!done && navigator.onLine) setTimeout(flush, RETRY_SOON_MS);
    } while (flushAgain);
  })();
  try {
    await flushing;
  } finally {
    flushing = null;
    await refreshItems();
    if (state.sentSinceRefresh) {
      // The answers are kept and the header says all is sent: the screen says so too at once, not only
      // after the reads below (several requests on shop Wi-Fi).
      render();
      // The server's answers changed the queue (a start, a completion, other machines).
      state.sentSinceRefresh = false;
      await refreshAll();
    }
    render();
  }
}

async function onResult(result) {
  const item = result.item;
  if (result.status === "sent") {
    state.sentSinceRefresh = true;
    const data = result.data;
    if (data && data.user && "attendance" in data) {
      // Kept as the offline copy too: a failed read of me/ must not bring back the machines of before.
      state.me = data;
      meAnswers += 1;
      await outbox.rememberSnapshot("me", data);
    } else if (data && data.job && data.id) showInQueue(await outbox.rememberOperation(data));
    if (item.action === "issue") notice(t("Issue sent. A supervisor will look at it."), "ok");
    if (item.action === "downtime-reason") state.answeredPrompts.add(item.prompt);
  } else if (result.error.code === "short" && state.interactive.has(item.key)) {
    const body = item.body;
    if (window.confirm(t("Only %(good)s of %(qty)s parts are good. Complete short?", { good: body.total, qty: body.quantity }))) {
      await queue({ ...item, key: undefined, seq: undefined, body: { ...body, accept_short: true } });
    }
  } else {
    const detail = result.error.detail || t("The server refused this action.");
    notice(detail.includes(item.label || "\u0000") ? detail : `${item.label}: ${detail}`, "conflict");
    if (item.operation) await loadOperation(item.operation).catch(() => null);
  }
  await refreshItems();
}

async function queue(entry) {
  const { key, seq, ...rest } = entry;
  const item = await outbox.enqueue(rest);
  state.interactive.add(item.key);
  await refreshItems();
  render();
  flush();
  return item;
}

function setOnline(online) {
  state.online = online;
  renderHeader();
}

function notice(text, kind) {
  const box = $("#notices");
  const node = h(
    "div",
    { className: `notice ${kind}`, role: kind === "conflict" ? "alert" : "status" },
    h("span", {}, text),
    h("button", { type: "button", className: "close", "aria-label": t("Dismiss"), onclick: () => node.remove() }, "×"),
  );
  box.append(node);
}

// --- live machine state ----------------------------------------------------------------------------
// While the app is open and online it follows each machine the operator is clocked in to on that
// machine's live socket (snapshot, then deltas): when one stops in a state that asks why, the prompts
// are fetched at once rather than at the next refresh, which stays as the fallback. A dropped socket
// comes back with back-off; a refused one (signed out, not allowed, no such machine) does not.

const followed = new Map();

function followMachines() {
  const wanted = new Set(navigator.onLine ? myMachineIds() : []);
  for (const [id, follow] of followed) {
    if (wanted.has(id)) continue;
    followed.delete(id);
    clearTimeout(follow.retry);
    if (follow.socket) follow.socket.close(1000);
  }
  for (const id of wanted) {
    if (followed.has(id)) continue;
    const follow = { id, socket: null, retry: null, delay: LIVE_FIRST_RETRY_MS, known: null };
    followed.set(id, follow);
    connectMachine(follow);
  }
}

function connectMachine(follow) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${window.location.host}/ws/machines/work-centers/${follow.id}/`);
  follow.socket = socket;
  socket.addEventListener("open", () => {
    follow.delay = LIVE_FIRST_RETRY_MS;
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const machines = message.event === "snapshot" ? message.data.machines : [message.data];
    machines.filter((machine) => machine.id === follow.id).forEach((machine) => machineChanged(follow, machine));
  });
  socket.addEventListener("close", (event) => {
    if (followed.get(follow.id) !== follow || follow.socket !== socket) return;
    follow.socket = null;
    if (LIVE_REFUSED.includes(event.code) || !navigator.onLine) return;
    follow.retry = setTimeout(() => connectMachine(follow), follow.delay + Math.floor(Math.random() * 500));
    follow.delay = Math.min(follow.delay * 2, LIVE_MAX_RETRY_MS);
  });
}

function machineChanged(follow, machine) {
  const before = follow.known;
  // A delta carries the machine's whole state, so one that skipped a version still tells the truth.
  if (before && machine.version <= before.version) return;
  follow.known = { version: machine.version, state: machine.state, since: machine.since };
  const asking = state.reasons && state.reasons.prompted_states;
  const stopped = asking ? asking.includes(machine.state) : true;
  if (stopped && (!before || before.state !== machine.state || before.since !== machine.since)) askForPrompts();
}

let promptsAsked = null;
let promptsAgain = false;

async function askForPrompts() {
  if (promptsAsked) {
    promptsAgain = true;
    return;
  }
  promptsAsked = (async () => {
    do {
      promptsAgain = false;
      state.prompts = await getJSON("downtime-prompts/").catch(() => state.prompts);
      renderPrompts();
    } while (promptsAgain);
  })();
  try {
    await promptsAsked;
  } finally {
    promptsAsked = null;
  }
}

// --- header, banners -------------------------------------------------------------------------------

function renderHeader() {
  const me = effectiveMe();
  $("#user-name").textContent = (me && me.user.name) || document.body.dataset.userName;
  const badge = $("#net");
  badge.textContent = state.online ? t("Online") : t("Offline");
  badge.dataset.online = state.online ? "yes" : "no";
  const waiting = $("#waiting");
  waiting.dataset.count = String(state.items.length);
  waiting.textContent = state.items.length ? t("%(n)s waiting to send", { n: state.items.length }) : t("All sent");
  const clock = $("#clock-state");
  if (me && me.attendance) {
    const codes = me.attendance.work_centers.map((wc) => wc.code).join(", ");
    clock.textContent = t("In since %(time)s · %(machines)s", { time: time(me.attendance.clocked_in_at), machines: codes });
  } else {
    clock.textContent = me ? t("Not clocked in") : "";
  }
}

function reasonPicker(onPick) {
  const downtime = (state.reasons && state.reasons.downtime) || [];
  const roots = downtime.filter((r) => !r.parent);
  const children = (id) => downtime.filter((r) => r.parent === id);
  const button = (reason) =>
    h("button", { type: "button", className: "choice", "data-reason": reason.id, onclick: () => onPick(reason) }, reason.name);
  if (!downtime.length) return h("p", { className: "muted" }, t("The reasons list is not loaded yet."));
  return h(
    "div",
    { className: "reason-tree" },
    roots.map((root) =>
      children(root.id).length
        ? h("details", {}, h("summary", {}, root.name), h("div", { className: "choices" }, children(root.id).map(button)))
        : button(root),
    ),
  );
}

function renderPrompts() {
  const box = $("#prompts");
  // A stop answered offline is still open on the server until the answer is sent, and an older read
  // may still list one answered since: neither is asked twice. A refused answer asks again.
  const answered = new Set(state.answeredPrompts);
  for (const item of state.items) if (item.action === "downtime-reason") answered.add(item.prompt);
  box.replaceChildren(
    ...state.prompts.filter((prompt) => !answered.has(prompt.id)).map((prompt) =>
      h(
        "section",
        { className: "prompt", "data-prompt": prompt.id },
        h("h2", {}, t("%(machine)s stopped at %(time)s — why?", { machine: machineLabel(prompt.work_center), time: time(prompt.started_at) })),
        reasonPicker((reason) =>
          queue({
            action: "downtime-reason",
            prompt: prompt.id,
            url: `${API}downtime-prompts/${prompt.id}/reason/`,
            body: { reason: reason.id },
            label: machineLabel(prompt.work_center),
          }).then(renderPrompts),
        ),
      ),
    ),
  );
}

// --- views ---------------------------------------------------------------------------------------

function go(view, path) {
  stopCamera();
  state.view = view;
  history.pushState(view, "", path || window.location.pathname);
  render();
  window.scrollTo(0, 0);
}

let rendered = 0;

// Views read the server, so two renders can finish out of order: only the one started last is drawn
// (it read after the other and knows at least as much).
function render() {
  renderHeader();
  const main = $("#view");
  const view = state.view;
  const ticket = ++rendered;
  main.dataset.view = view.name;
  const builders = { home: homeView, operation: operationView, job: jobView, scan: scanView, issue: issueView, machines: machinesView };
  Promise.resolve((builders[view.name] || homeView)(view)).then((content) => {
    if (state.view === view && ticket === rendered) main.replaceChildren(...[content].flat());
  });
  document.querySelectorAll("#tabs [data-tab]").forEach((tab) => {
    tab.setAttribute("aria-current", tab.dataset.tab === view.name ? "page" : "false");
  });
}

function machinePicker(selected, submitLabel, onSubmit) {
  const centers = (state.me && state.me.work_centers) || [];
  const departments = [...new Set(centers.map((wc) => wc.department || ""))];
  const form = h(
    "form",
    { className: "machine-picker" },
    departments.map((department) =>
      h(
        "fieldset",
        {},
        h("legend", {}, department || t("Machines")),
        centers
          .filter((wc) => (wc.department || "") === department)
          .map((wc) =>
            h(
              "label",
              { className: "check" },
              h("input", { type: "checkbox", name: "wc", value: wc.id, checked: selected.includes(wc.id) }),
              h("span", {}, h("strong", {}, wc.code), " ", wc.name),
            ),
          ),
      ),
    ),
    h("button", { type: "submit", className: "big primary" }, submitLabel),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const ids = [...form.querySelectorAll("input[name=wc]:checked")].map((input) => Number(input.value));
    if (!ids.length) {
      notice(t("Pick at least one machine."), "conflict");
      return;
    }
    onSubmit(ids);
  });
  return form;
}

function clockIn(ids) {
  return queue({ action: "clock-in", url: `${API}clock-in/`, body: { work_centers: ids }, label: t("Clock in") });
}

async function homeView() {
  const me = effectiveMe();
  if (!me) return h("p", { className: "muted" }, t("Loading…"));
  if (!me.attendance) {
    return [h("h1", {}, t("Clock in")), h("p", {}, t("Pick the machines you run this shift.")), machinePicker([], t("Clock in"), clockIn)];
  }
  const mine = h(
    "section",
    { className: "card my-machines" },
    h("h2", {}, t("My machines")),
    h("p", { className: "chips" }, me.attendance.work_centers.map((wc) => h("span", { className: "chip" }, `${wc.code} ${wc.name}`))),
    h(
      "div",
      { className: "row" },
      h("button", { type: "button", className: "secondary", onclick: () => go({ name: "machines" }, "/shop/") }, t("Change machines")),
      h(
        "button",
        {
          type: "button",
          className: "secondary",
          onclick: () => {
            if (window.confirm(t("Clock out now?"))) queue({ action: "clock-out", url: `${API}clock-out/`, body: {}, label: t("Clock out") });
          },
        },
        t("Clock out"),
      ),
    ),
    h("div", { className: "push-control", id: "push-control", "data-state": state.push || "unknown" }, pushControls()),
  );
  return [mine, queueSection()];
}

function queueSection() {
  const section = h("section", { className: "queue" }, h("h1", {}, t("Queue")));
  if (!state.queue) {
    section.append(h("p", { className: "muted" }, t("Loading…")));
    return section;
  }
  // The queue's read can be older than the machines the operator is on (changed offline, or the
  // network dropped right after the change): theirs are drawn, one not read yet says so.
  const read = new Map(state.queue.work_centers.map((center) => [center.id, center]));
  const me = effectiveMe();
  const centers = me && me.attendance ? me.attendance.work_centers.map((wc) => read.get(wc.id) || { ...wc, entries: null }) : [];
  if (!centers.length) section.append(h("p", { className: "muted" }, t("No machines, no queue.")));
  for (const center of centers) {
    const list = h("ol", { className: "entries" });
    if (!center.entries) list.append(h("li", { className: "muted" }, t("Not read yet: the queue comes when the phone is online.")));
    for (const entry of center.entries || []) {
      const op = outbox.withPending(entry, state.items);
      const blocked = waitingFor(op);
      list.append(
        h(
          "li",
          {},
          h(
            "a",
            {
              href: `/shop/o/${op.id}/`,
              className: `entry status-${op.status}${isPaused(op) ? " paused" : ""}${blocked ? " blocked" : ""}`,
              "data-operation": op.id,
              onclick: (event) => {
                event.preventDefault();
                go({ name: "operation", id: op.id }, `/shop/o/${op.id}/`);
              },
            },
            h("span", { className: "entry-title" }, h("strong", {}, op.job.number), ` ${op.sequence} ${op.operation_code}`),
            h("span", { className: "entry-part" }, `${op.part.number} ${op.part.description || ""}`),
            h(
              "span",
              { className: "entry-meta" },
              h("span", {}, t("%(good)s/%(qty)s good", { good: op.quantity_good, qty: op.quantity })),
              h("span", {}, t("due %(date)s", { date: day(op.job.due_date) })),
              op.planned_start ? h("span", {}, t("plan %(time)s", { time: dayTime(op.planned_start) })) : null,
              isPaused(op) ? h("span", { className: "tag paused" }, t("Paused")) : null,
              op.status === "in_progress" && !op.paused ? h("span", { className: "tag run" }, t("Running")) : null,
              op.waiting ? h("span", { className: "tag wait" }, t("waiting to send")) : null,
            ),
            isPaused(op) ? h("span", { className: "paused-why" }, pausedWhy(op)) : null,
            blocked ? h("span", { className: "blocked-why" }, blocked) : null,
          ),
        ),
      );
    }
    if (center.entries && !center.entries.length) list.append(h("li", { className: "muted" }, t("Nothing queued.")));
    section.append(
      h(
        "div",
        { className: "card machine-queue", "data-work-center": center.id },
        h("h2", {}, `${center.code} ${center.name}`),
        center.diverged ? h("p", { className: "diverged" }, t("Plan diverged — ranked by EDD")) : null,
        list,
      ),
    );
  }
  return section;
}

// push.js is loaded when first needed: a deploy without it, or a browser that refuses it, leaves the app working.
let pushModule = null;

function loadPush() {
  pushModule = pushModule || import(new URL("./push.js", import.meta.url).href);
  return pushModule;
}

// Asked on start and whenever the app comes back to the front: permission may have been changed in
// the browser's settings, and a subscription outlives the page that made it.
async function checkPush() {
  try {
    state.push = await (await loadPush()).pushStatus();
  } catch {
    state.push = "unsupported";
  }
  renderPush();
}

function renderPush() {
  const box = $("#push-control");
  if (!box) return;
  box.dataset.state = state.push;
  box.replaceChildren(...pushControls());
}

function pushControls() {
  if (state.push === "blocked") {
    return [h("p", { className: "muted", id: "push-state" }, t("Notifications are blocked for this site; allow them in the browser settings."))];
  }
  if (state.push === "off") {
    return [h("button", { type: "button", className: "secondary", id: "push", onclick: (event) => switchPush(event.currentTarget, "enablePush") }, t("Turn on notifications"))];
  }
  if (state.push === "on") {
    return [
      h("button", { type: "button", className: "secondary", id: "push", disabled: true }, t("Notifications are on")),
      h("button", { type: "button", className: "secondary", id: "push-off", onclick: (event) => switchPush(event.currentTarget, "disablePush") }, t("Turn off notifications")),
    ];
  }
  return [];
}

async function switchPush(button, verb) {
  button.disabled = true;
  try {
    const push = await loadPush();
    try {
      await push[verb]();
    } catch (error) {
      notice(String(error.message || error), "conflict");
    }
    state.push = await push.pushStatus();
  } catch {
    state.push = "unsupported";
  }
  renderPush();
}

function machinesView() {
  return [
    h("h1", {}, t("Change machines")),
    machinePicker(myMachineIds(), t("Save machines"), (ids) =>
      queue({ action: "machines", url: `${API}machines/`, body: { work_centers: ids }, label: t("Change machines") }).then(() =>
        go({ name: "home" }, "/shop/"),
      ),
    ),
  ];
}

const ACTION_LABELS = {
  start: "Start",
  finish_setup: "Setup done",
  pause: "Pause",
  resume: "Resume",
  report: "Report parts",
  complete: "Complete",
  join: "Join",
  leave: "Leave",
};

// `shown` is what the screen needs to draw the action before the server answers (a pause's reason).
function opAction(op, action, body = {}, shown = {}) {
  return queue({
    ...shown,
    action,
    operation: op.id,
    url: `${API}operations/${op.id}/${action.replace("_", "-")}/`,
    body,
    label: opLabel(op),
  });
}

function field(label, input) {
  return h("label", { className: "field" }, h("span", {}, label), input);
}

function numberInput(name, value) {
  return h("input", { type: "number", name, inputmode: "numeric", pattern: "[0-9]*", min: "0", step: "1", value: String(value) });
}

// A modal sheet; resolves with what `collect` returns on submit, or null when cancelled.
// `body` may be a function of `pick`, for sheets that close on a tap (a reason) rather than on submit.
function sheet(title, body, submitLabel, collect) {
  return new Promise((resolve) => {
    let answer = null;
    const dialog = h("dialog", { className: "sheet" });
    const pick = (value) => {
      answer = value;
      dialog.close();
    };
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, title),
      typeof body === "function" ? body(pick) : body,
      h(
        "div",
        { className: "row" },
        h("button", { type: "button", className: "secondary", value: "cancel", onclick: () => dialog.close() }, t("Cancel")),
        submitLabel ? h("button", { type: "submit", className: "primary", value: "ok" }, submitLabel) : null,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = collect(form);
      if (value !== undefined) pick(value);
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function askCounts(op, action) {
  const left = Math.max(0, op.quantity - op.quantity_good);
  const scrapReasons = (state.reasons && state.reasons.scrap) || [];
  const reasonSelect = h(
    "select",
    { name: "scrap_reason" },
    h("option", { value: "" }, t("Scrap reason…")),
    scrapReasons.map((r) => h("option", { value: r.id }, r.name)),
  );
  const reasonField = field(t("Scrap reason"), reasonSelect);
  reasonField.hidden = true;
  // Said in the sheet itself: the page's notices sit behind the modal.
  const reasonMissing = h("p", { className: "notice conflict", id: "scrap-reason-missing", role: "alert", hidden: true }, t("Scrapped parts need a scrap reason."));
  const good = numberInput("good", action === "complete" ? left : 0);
  const scrap = numberInput("scrap", 0);
  scrap.addEventListener("input", () => {
    reasonField.hidden = !(Number(scrap.value) > 0);
    if (reasonField.hidden) reasonMissing.hidden = true;
  });
  reasonSelect.addEventListener("change", () => {
    if (reasonSelect.value) reasonMissing.hidden = true;
  });
  const title = action === "complete" ? t("Complete %(op)s", { op: opLabel(op) }) : t("Report parts for %(op)s", { op: opLabel(op) });
  return sheet(
    title,
    [h("p", { className: "muted" }, t("%(good)s of %(qty)s good so far.", { good: op.quantity_good, qty: op.quantity })), field(t("Good"), good), field(t("Scrap"), scrap), reasonField, reasonMissing],
    action === "complete" ? t("Complete") : t("Report"),
    (form) => {
      const counts = { good: Number(good.value) || 0, scrap: Number(scrap.value) || 0, scrap_reason: reasonSelect.value ? Number(reasonSelect.value) : null };
      if (counts.scrap > 0 && !counts.scrap_reason) {
        reasonMissing.hidden = false;
        reasonSelect.focus();
        return undefined;
      }
      return counts;
    },
  );
}

async function doAction(op, action) {
  if (action === "start") {
    const mine = myMachineIds();
    const choices = op.eligible_work_centers.filter((wc) => mine.includes(wc.id));
    const select = $("#start-machine");
    const chosen = select ? Number(select.value) : choices.length ? choices[0].id : null;
    if (!chosen) {
      notice(t("Clock in to a machine that can run %(op)s first.", { op: opLabel(op) }), "conflict");
      return;
    }
    await opAction(op, "start", { work_center: chosen });
  } else if (action === "pause") {
    const reason = await sheet(t("Why pause %(op)s?", { op: opLabel(op) }), (pick) => reasonPicker(pick), null, () => undefined);
    if (reason) await opAction(op, "pause", { reason: reason.id, note: "" }, { reason: { id: reason.id, name: reason.name } });
  } else if (action === "report" || action === "complete") {
    const counts = await askCounts(op, action);
    if (!counts) return;
    if (action === "complete") {
      const total = op.quantity_good + counts.good;
      const body = { ...counts, accept_short: false, total, quantity: op.quantity };
      // Offline nobody would be there to answer the server's "short?" later: ask now.
      if (total < op.quantity && !state.online) {
        if (!window.confirm(t("Only %(good)s of %(qty)s parts are good. Complete short?", { good: total, qty: op.quantity }))) return;
        body.accept_short = true;
      }
      await opAction(op, "complete", body);
    } else {
      await opAction(op, "report", counts);
    }
  } else {
    await opAction(op, action);
  }
}

async function operationView(view) {
  let stored;
  try {
    stored = await loadOperation(view.id);
  } catch {
    return h("p", { className: "notice conflict" }, t("Operation %(id)s is not available offline.", { id: view.id }));
  }
  const op = outbox.withPending(stored, state.items);
  const mine = myMachineIds();
  const startChoices = op.eligible_work_centers.filter((wc) => mine.includes(wc.id));
  const buttons = h(
    "div",
    { className: "actions" },
    op.actions.map((action) =>
      h(
        "button",
        { type: "button", className: `big action-${action}${action === "start" || action === "complete" ? " primary" : ""}`, "data-action": action, onclick: () => doAction(op, action) },
        t(ACTION_LABELS[action] || action),
      ),
    ),
  );
  const status = op.status === "in_progress" ? (op.paused ? t("Paused") : op.phase === "setup" ? t("In setup") : t("Running")) : t(op.status);
  const statusClass = isPaused(op) ? "paused" : `status-${op.status}`;
  return h(
    "article",
    { className: "operation", "data-operation": op.id, "data-status": op.status, "data-phase": op.phase, "data-paused": op.paused ? "yes" : "no" },
    h("p", { className: "crumbs" }, h("a", { href: `/shop/j/${op.job.id}/`, onclick: (event) => { event.preventDefault(); go({ name: "job", id: op.job.id }, `/shop/j/${op.job.id}/`); } }, t("Job %(number)s", { number: op.job.number }))),
    h("h1", {}, `${opLabel(op)} ${op.operation_code}`),
    h("p", { className: "status-line" }, h("span", { className: `tag ${statusClass}`, id: "op-status" }, status), op.waiting ? h("span", { className: "tag wait" }, t("waiting to send")) : null),
    isPaused(op) ? h("p", { className: "paused-why", id: "op-paused" }, pausedWhy(op)) : null,
    op.description ? h("p", {}, op.description) : null,
    h(
      "dl",
      { className: "facts" },
      h("dt", {}, t("Part")), h("dd", {}, `${op.part.number} ${t("rev")} ${op.part.revision || "-"} · ${op.part.description || ""}`),
      h("dt", {}, t("Material")), h("dd", {}, [op.part.material, op.part.thickness_mm ? `${op.part.thickness_mm} mm` : ""].filter(Boolean).join(" · ") || "-"),
      h("dt", {}, t("Quantity")), h("dd", { id: "op-quantity" }, t("%(good)s good · %(scrap)s scrap · of %(qty)s", { good: op.quantity_good, scrap: op.quantity_scrap, qty: op.quantity })),
      h("dt", {}, t("Customer")), h("dd", {}, op.job.customer || "-"),
      h("dt", {}, t("Due")), h("dd", {}, `${day(op.job.due_date)}${op.job.priority ? ` · ${op.job.priority}` : ""}`),
      h("dt", {}, t("Machine")), h("dd", {}, op.work_center ? `${op.work_center.code} ${op.work_center.name}` : op.work_center_type.name),
      h("dt", {}, t("Times")), h("dd", {}, t("setup %(setup)s min · %(run)s min a part", { setup: op.setup_minutes, run: op.run_minutes_per_unit })),
      op.planned_start ? [h("dt", {}, t("Planned")), h("dd", {}, `${dayTime(op.planned_start)} – ${time(op.planned_end)}`)] : null,
      op.people.length ? [h("dt", {}, t("People")), h("dd", {}, op.people.map((p) => p.name).join(", "))] : null,
    ),
    op.job.notes ? h("p", { className: "notes" }, op.job.notes) : null,
    waitingFor(op) ? h("p", { className: "notice info", id: "op-waiting" }, waitingFor(op)) : null,
    op.actions.includes("start") && startChoices.length > 1
      ? field(t("Start on"), h("select", { id: "start-machine" }, startChoices.map((wc) => h("option", { value: wc.id }, `${wc.code} ${wc.name}`))))
      : null,
    buttons,
    op.files.length ? h("section", {}, h("h2", {}, t("Files")), h("ul", { className: "files" }, op.files.map((file) => h("li", {}, h("a", { href: file.url, target: "_blank", rel: "noopener" }, file.name))))) : null,
    h("button", { type: "button", className: "secondary", onclick: () => go({ name: "issue", operation: op.id, job: op.job.id, work_center: op.work_center && op.work_center.id, label: opLabel(op) }) }, t("Report a problem")),
  );
}

async function jobView(view) {
  let job;
  try {
    job = await getJSON(`jobs/${view.id}/`, `job-${view.id}`);
  } catch {
    return h("p", { className: "notice conflict" }, t("Job %(id)s is not available offline.", { id: view.id }));
  }
  job.operations = await newestCopies(job.operations);
  return [
    h("h1", {}, t("Job %(number)s", { number: job.number })),
    h(
      "ol",
      { className: "entries" },
      job.operations.map((raw) => {
        const op = outbox.withPending(raw, state.items);
        return h(
          "li",
          {},
          h(
            "a",
            { href: `/shop/o/${op.id}/`, className: `entry status-${op.status}`, "data-operation": op.id, onclick: (event) => { event.preventDefault(); go({ name: "operation", id: op.id }, `/shop/o/${op.id}/`); } },
            h("span", { className: "entry-title" }, h("strong", {}, op.sequence), ` ${op.operation_code} · ${op.work_center_type.name}`),
            h("span", { className: "entry-meta" }, h("span", {}, t(op.status)), h("span", {}, t("%(good)s/%(qty)s good", { good: op.quantity_good, qty: op.quantity }))),
            waitingFor(op) ? h("span", { className: "blocked-why" }, waitingFor(op)) : null,
          ),
        );
      }),
    ),
  ];
}

function openScanned(text) {
  const target = parseScan(text);
  if (!target) {
    notice(t("That code is not a traveler code: %(text)s", { text }), "conflict");
    return;
  }
  if (target.operation) go({ name: "operation", id: target.operation }, `/shop/o/${target.operation}/`);
  else go({ name: "job", id: target.job }, `/shop/j/${target.job}/`);
}

function stopCamera() {
  if (state.camera) {
    state.camera.stop();
    state.camera = null;
  }
}

function scanView() {
  const video = h("video", { className: "camera", muted: true, playsinline: true, hidden: true });
  const wedge = h("input", { type: "text", name: "code", id: "scan-text", autocomplete: "off", enterkeyhint: "go", placeholder: t("Scan or type the traveler code") });
  const form = h("form", { className: "wedge" }, field(t("Scanner"), wedge), h("button", { type: "submit", className: "secondary" }, t("Open")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    openScanned(wedge.value);
  });
  const file = h("input", { type: "file", id: "scan-file", accept: "image/*", capture: "environment" });
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    try {
      const text = await decodeFile(file.files[0]);
      if (text) openScanned(text);
      else notice(t("No QR code found in that picture."), "conflict");
    } catch (error) {
      notice(error instanceof DecoderUnavailable ? t("The code reader could not be loaded: type the traveler code or use a hand scanner.") : t("That picture could not be read."), "conflict");
    }
  });
  const cameraButton = h("button", { type: "button", className: "big primary", id: "scan-camera" }, t("Scan with camera"));
  cameraButton.addEventListener("click", async () => {
    try {
      video.hidden = false;
      state.camera = await scanCamera(video);
      const text = await state.camera.result;
      if (text) openScanned(text);
    } catch (error) {
      video.hidden = true;
      // Without the decoder a photo cannot be read either: only typing (or a hand scanner) is left.
      const why = error instanceof DecoderUnavailable ? t("The code reader could not be loaded: type the traveler code or use a hand scanner.") : t("The camera is not available. Take a photo of the code instead.");
      notice(why, "conflict");
    }
  });
  setTimeout(() => wedge.focus(), 0);
  return [
    h("h1", {}, t("Scan a traveler")),
    cameraButton,
    video,
    h("label", { className: "big secondary file-button" }, t("Photo of a QR code"), file),
    form,
  ];
}

function issueView(view) {
  const kinds = [["quality", t("Quality issue")], ["machine", t("Machine problem")], ["material", t("Material shortage")], ["safety", t("Safety")]];
  const text = h("textarea", { name: "text", rows: "4", required: true, placeholder: t("What happened?") });
  const photo = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
  const machines = (effectiveMe() && effectiveMe().attendance && effectiveMe().attendance.work_centers) || [];
  const machine = h("select", { name: "work_center" }, h("option", { value: "" }, t("No machine")), machines.map((wc) => h("option", { value: wc.id, selected: wc.id === (view.work_center || (machines.length === 1 && wc.id)) }, `${wc.code} ${wc.name}`)));
  const form = h(
    "form",
    { className: "issue-form" },
    h("fieldset", { className: "kinds" }, h("legend", {}, t("Kind")), kinds.map(([value, label], index) => h("label", { className: "check" }, h("input", { type: "radio", name: "kind", value, checked: index === 0 }), h("span", {}, label)))),
    field(t("What happened"), text),
    field(t("Machine"), machine),
    field(t("Photo (optional)"), photo),
    h("button", { type: "submit", className: "big primary" }, t("Send report")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      text.focus();
      return;
    }
    const picked = photo.files[0] || null;
    await queue({
      action: "issue",
      url: `${API}issues/`,
      form: {
        kind: form.querySelector("input[name=kind]:checked").value,
        text: text.value.trim(),
        work_center: machine.value,
        job: view.job || "",
        operation: view.operation || "",
      },
      // A File is kept as a plain Blob so that IndexedDB stores the bytes, not a handle to the picker.
      photo: picked ? new Blob([await picked.arrayBuffer()], { type: picked.type }) : null,
      photoName: picked ? picked.name : null,
      label: t("Issue report"),
    });
    notice(t("Issue saved."), "ok");
    if (view.operation) go({ name: "operation", id: view.operation }, `/shop/o/${view.operation}/`);
    else go({ name: "home" }, "/shop/");
  });
  return [h("h1", {}, view.label ? t("Problem with %(op)s", { op: view.label }) : t("Report a problem")), form];
}

// --- start-up ------------------------------------------------------------------------------------

// Answers of actions that said who is clocked in where (clock in or out, change of machines).
let meAnswers = 0;

async function refreshAll() {
  const answersBefore = meAnswers;
  try {
    const me = await getJSON("me/", "me");
    // A read sent before such an answer came may tell of the machines before it: the answer stays.
    if (meAnswers === answersBefore) state.me = me;
  } catch {
    // Nothing cached yet and no network: the header says offline and the next tick retries.
  }
  // One request after the other: a phone on shop Wi-Fi gains nothing from a burst, and the
  // server's SQLite (embedded default) serves one writer at a time.
  state.reasons = await getJSON("reasons/", "reasons").catch(() => state.reasons);
  if (effectiveMe() && effectiveMe().attendance) {
    try {
      const queue = await getJSON("queue/", "queue");
      for (const center of queue.work_centers) center.entries = await newestCopies(center.entries);
      state.queue = queue;
    } catch {
      // No queue cached yet: the view says so and the next tick retries.
    }
    state.prompts = await getJSON("downtime-prompts/").catch(() => state.prompts);
  }
  renderPrompts();
  followMachines();
}

async function tick() {
  await flush();
  if (!state.sentSinceRefresh) await refreshAll();
  if (state.view.name === "home") render();
}

function initialView() {
  const initial = JSON.parse(document.getElementById("initial").textContent || "{}") || {};
  const fromPath = parseScan(window.location.pathname);
  const target = initial.operation || initial.job ? initial : fromPath || {};
  if (target.operation) return { name: "operation", id: Number(target.operation) };
  if (target.job) return { name: "job", id: Number(target.job) };
  return { name: "home" };
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/shop/sw.js", { scope: "/shop/" });
    const registration = await navigator.serviceWorker.ready;
    // The page's own files may carry hashed names the worker cannot guess: hand it the list.
    const urls = performance
      .getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((name) => name.startsWith(`${window.location.origin}/static/`));
    registration.active.postMessage({ type: "cache", urls: [...urls, new URL(import.meta.url).href] });
    document.documentElement.dataset.sw = "ready";
  } catch (error) {
    console.warn("service worker not registered", error);
  }
}

function start() {
  state.view = initialView();
  history.replaceState(state.view, "", window.location.pathname);
  document.querySelectorAll("#tabs [data-tab]").forEach((tab) => {
    tab.addEventListener("click", (event) => {
      event.preventDefault();
      go({ name: tab.dataset.tab }, "/shop/");
    });
  });
  window.addEventListener("popstate", (event) => {
    stopCamera();
    state.view = event.state || initialView();
    render();
  });
  window.addEventListener("online", () => {
    setOnline(true);
    followMachines();
    tick();
  });
  window.addEventListener("offline", () => {
    setOnline(false);
    followMachines();
  });
  document.getElementById("logout-form").addEventListener("submit", () => {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "forget" });
  });
  refreshItems().then(render);
  tick().then(() => {
    document.documentElement.dataset.ready = "yes";
    // After the first reads rather than among them (see refreshAll): it may read the server's push key.
    checkPush();
  });
  refreshEvery(REPLAY_EVERY_MS);
  registerWorker();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") checkPush();
  });
}

let refreshing = null;

// How often the app sends what waits and reads the queue and prompts again; the test suite makes it
// long to show that a stop's prompt comes with the push, not with this refresh.
function refreshEvery(ms) {
  clearInterval(refreshing);
  refreshing = setInterval(tick, ms);
}

start();

// The test suite and the console reach the outbox here.
window.shopfloor = { flush, refreshEvery, pending: outbox.pending, newKey: outbox.newKey, csrfToken: outbox.csrfToken };
