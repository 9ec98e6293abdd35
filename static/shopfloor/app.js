// The operator app: clock in, see the queue, scan a traveler, run an operation; also offline.
import * as outbox from "./outbox.js";
import { decodeFile, parseScan, scanCamera } from "./scan.js";

const API = "/api/v1/shopfloor/";
const REPLAY_EVERY_MS = 20000;
const RETRY_SOON_MS = 3000;

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
  items: [],
  online: navigator.onLine,
  view: { name: "home" },
  camera: null,
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

function opLabel(op) {
  return `${op.job.number}/${op.sequence}`;
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

// When an action's answer last replaced each operation's copy. On shop Wi-Fi a read sent before
// that moment can be answered after it, with the state from before the action: it must not win.
const answeredAt = new Map();

async function rememberRead(op, askedAt) {
  if ((answeredAt.get(op.id) ?? -Infinity) > askedAt) return (await outbox.storedOperation(op.id)) || op;
  await outbox.rememberOperation(op);
  return op;
}

async function loadOperation(id) {
  const askedAt = performance.now();
  try {
    return await rememberRead(await getJSON(`operations/${id}/`), askedAt);
  } catch (error) {
    const stored = await outbox.storedOperation(id);
    if (stored) return stored;
    throw error;
  }
}

async function refreshItems() {
  state.items = await outbox.pending();
  renderHeader();
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
    if (data && data.user && "attendance" in data) state.me = data;
    else if (data && data.job && data.id) {
      answeredAt.set(data.id, performance.now());
      await outbox.rememberOperation(data);
    }
    if (item.action === "issue") notice(t("Issue sent. A supervisor will look at it."), "ok");
    if (item.action === "downtime-reason") state.prompts = state.prompts.filter((p) => p.id !== item.prompt);
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
  box.replaceChildren(
    ...state.prompts.map((prompt) =>
      h(
        "section",
        { className: "prompt", "data-prompt": prompt.id },
        h("h2", {}, t("%(machine)s stopped at %(time)s — why?", { machine: prompt.work_center.name, time: time(prompt.started_at) })),
        reasonPicker((reason) =>
          queue({
            action: "downtime-reason",
            prompt: prompt.id,
            url: `${API}downtime-prompts/${prompt.id}/reason/`,
            body: { reason: reason.id },
            label: prompt.work_center.name,
          }).then(() => {
            state.prompts = state.prompts.filter((p) => p.id !== prompt.id);
            renderPrompts();
          }),
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

function render() {
  renderHeader();
  const main = $("#view");
  const view = state.view;
  main.dataset.view = view.name;
  const builders = { home: homeView, operation: operationView, job: jobView, scan: scanView, issue: issueView, machines: machinesView };
  Promise.resolve((builders[view.name] || homeView)(view)).then((content) => {
    if (state.view === view) main.replaceChildren(...[content].flat());
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
    pushButton(),
  );
  return [mine, queueSection()];
}

function queueSection() {
  const section = h("section", { className: "queue" }, h("h1", {}, t("Queue")));
  if (!state.queue) {
    section.append(h("p", { className: "muted" }, t("Loading…")));
    return section;
  }
  if (!state.queue.work_centers.length) section.append(h("p", { className: "muted" }, t("No machines, no queue.")));
  for (const center of state.queue.work_centers) {
    const list = h("ol", { className: "entries" });
    for (const entry of center.entries) {
      const op = outbox.withPending(entry, state.items);
      list.append(
        h(
          "li",
          {},
          h(
            "a",
            {
              href: `/shop/o/${op.id}/`,
              className: `entry status-${op.status}`,
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
              op.status === "in_progress" ? h("span", { className: "tag run" }, op.paused ? t("Paused") : t("Running")) : null,
              op.waiting ? h("span", { className: "tag wait" }, t("waiting to send")) : null,
            ),
          ),
        ),
      );
    }
    if (!center.entries.length) list.append(h("li", { className: "muted" }, t("Nothing queued.")));
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

function pushButton() {
  const button = h("button", { type: "button", className: "secondary", id: "push", hidden: true }, t("Turn on notifications"));
  import(new URL("./push.js", import.meta.url).href)
    .then((module) => {
      if (typeof module.enablePush !== "function") return;
      button.hidden = false;
      button.addEventListener("click", async () => {
        try {
          await module.enablePush();
          button.textContent = t("Notifications are on");
          button.disabled = true;
        } catch (error) {
          notice(String(error.message || error), "conflict");
        }
      });
    })
    .catch(() => button.remove());
  return button;
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

function opAction(op, action, body = {}) {
  return queue({
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
    if (reason) await opAction(op, "pause", { reason: reason.id, note: "" });
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
  return h(
    "article",
    { className: "operation", "data-operation": op.id, "data-status": op.status, "data-phase": op.phase, "data-paused": op.paused ? "yes" : "no" },
    h("p", { className: "crumbs" }, h("a", { href: `/shop/j/${op.job.id}/`, onclick: (event) => { event.preventDefault(); go({ name: "job", id: op.job.id }, `/shop/j/${op.job.id}/`); } }, t("Job %(number)s", { number: op.job.number }))),
    h("h1", {}, `${opLabel(op)} ${op.operation_code}`),
    h("p", { className: "status-line" }, h("span", { className: `tag status-${op.status}`, id: "op-status" }, status), op.waiting ? h("span", { className: "tag wait" }, t("waiting to send")) : null),
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
    !op.ready && op.status === "pending" ? h("p", { className: "notice info" }, t("Not ready: an earlier step has not started.")) : null,
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
  const askedAt = performance.now();
  try {
    job = await getJSON(`jobs/${view.id}/`, `job-${view.id}`);
  } catch {
    return h("p", { className: "notice conflict" }, t("Job %(id)s is not available offline.", { id: view.id }));
  }
  job.operations.forEach((op) => rememberRead(op, askedAt));
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
    } catch {
      notice(t("That picture could not be read."), "conflict");
    }
  });
  const cameraButton = h("button", { type: "button", className: "big primary", id: "scan-camera" }, t("Scan with camera"));
  cameraButton.addEventListener("click", async () => {
    try {
      video.hidden = false;
      state.camera = await scanCamera(video);
      const text = await state.camera.result;
      if (text) openScanned(text);
    } catch {
      video.hidden = true;
      notice(t("The camera is not available. Take a photo of the code instead."), "conflict");
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

async function refreshAll() {
  try {
    state.me = await getJSON("me/", "me");
  } catch {
    // Nothing cached yet and no network: the header says offline and the next tick retries.
  }
  // One request after the other: a phone on shop Wi-Fi gains nothing from a burst, and the
  // server's SQLite (embedded default) serves one writer at a time.
  state.reasons = await getJSON("reasons/", "reasons").catch(() => state.reasons);
  if (effectiveMe() && effectiveMe().attendance) {
    try {
      const askedAt = performance.now();
      state.queue = await getJSON("queue/", "queue");
      for (const center of state.queue.work_centers) for (const entry of center.entries) await rememberRead(entry, askedAt);
    } catch {
      // No queue cached yet: the view says so and the next tick retries.
    }
    state.prompts = await getJSON("downtime-prompts/").catch(() => state.prompts);
  }
  renderPrompts();
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
    tick();
  });
  window.addEventListener("offline", () => setOnline(false));
  document.getElementById("logout-form").addEventListener("submit", () => {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "forget" });
  });
  refreshItems().then(render);
  tick().then(() => {
    document.documentElement.dataset.ready = "yes";
  });
  setInterval(tick, REPLAY_EVERY_MS);
  registerWorker();
}

start();

// The test suite and the console reach the outbox here.
window.shopfloor = { flush, pending: outbox.pending, newKey: outbox.newKey, csrfToken: outbox.csrfToken };
