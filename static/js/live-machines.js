// Live machine tiles: open the page's websocket, draw the snapshot, apply deltas, keep the time
// in state current, and reconnect with back-off (1 s doubling to 30 s) when the socket drops.
// Every machine payload carries a version; a delta that skips one means a message was missed,
// so the page asks for a snapshot ({"action": "resync"}), as it gets one after every reconnect.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-socket]");
  if (!root) { return; }
  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }
  var labels = json("live-state-labels");
  var texts = json("live-texts");
  var statusNode = root.querySelector("[data-live-status]");
  var versions = {};
  var socket = null;
  var delay = 1000;
  var MAX_DELAY = 30000;

  function setStatus(text, state) {
    if (!statusNode) { return; }
    statusNode.textContent = text;
    statusNode.dataset.state = state;
  }

  function durationText(sinceIso) {
    var minutes = Math.max(0, Math.floor((Date.now() - Date.parse(sinceIso)) / 60000));
    var rest = minutes % 60;
    var format = minutes < 60 ? (texts.minutes || "{m} min") : (texts.hours || "{h} h {mm} min");
    return format.replace("{m}", String(minutes)).replace("{h}", String(Math.floor(minutes / 60)))
      .replace("{mm}", (rest < 10 ? "0" : "") + rest);
  }

  function text(tile, field, value) {
    var node = tile.querySelector('[data-field="' + field + '"]');
    if (node) { node.textContent = value === null || value === undefined || value === "" ? "\u2014" : String(value); }
    return node;
  }

  function alarmChips(node, alarms) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
    alarms.forEach(function (alarm) {
      var chip = document.createElement("span");
      chip.className = "alarm-chip alarm-" + alarm.level;
      chip.textContent = alarm.code;
      node.appendChild(chip);
      node.appendChild(document.createTextNode(" "));
    });
  }

  function apply(machine) {
    versions[machine.id] = machine.version;
    document.querySelectorAll('[data-machine="' + machine.id + '"]').forEach(function (tile) {
      tile.className = tile.className.replace(/\bstate-[a-z_]+/g, "").trim() + " state-" + machine.state;
      tile.dataset.state = machine.state;
      tile.dataset.version = machine.version;
      text(tile, "state", labels[machine.state] || machine.state);
      var since = text(tile, "since", durationText(machine.since));
      if (since) { since.dataset.since = machine.since; }
      text(tile, "program", machine.program);
      text(tile, "part_count", machine.part_count);
      var alarms = tile.querySelector('[data-field="alarms"]');
      if (alarms) { alarmChips(alarms, machine.alarms || []); }
    });
    var signals = document.querySelector('[data-signals="' + machine.id + '"]');
    if (signals) {
      Object.keys(machine.signals || {}).forEach(function (name) {
        var cell = signals.querySelector('[data-signal="' + CSS.escape(name) + '"]');
        if (!cell) {
          var dt = document.createElement("dt");
          dt.textContent = name;
          cell = document.createElement("dd");
          cell.dataset.signal = name;
          signals.insertBefore(cell, signals.querySelector('[data-field="last_seen"]').previousElementSibling);
          signals.insertBefore(dt, cell);
        }
        var value = machine.signals[name];
        cell.textContent = value === null || value === undefined ? "\u2014" : String(value);
      });
      text(signals, "last_seen", machine.last_seen ? new Date(machine.last_seen).toLocaleString() : null);
    }
    recount();
  }

  function recount() {
    var counts = {};
    document.querySelectorAll("[data-machine][data-state]").forEach(function (tile) {
      counts[tile.dataset.state] = (counts[tile.dataset.state] || 0) + 1;
    });
    document.querySelectorAll("[data-count]").forEach(function (node) {
      node.textContent = counts[node.dataset.count] || 0;
    });
  }

  function onMessage(event) {
    var message = JSON.parse(event.data);
    if (message.event === "snapshot") {
      versions = {};
      message.data.machines.forEach(apply);
      root.dataset.liveVersion = message.version;
      setStatus(texts.live || "Live", "live");
    } else if (message.event === "delta") {
      var machine = message.data;
      var known = versions[machine.id];
      if (known !== undefined && machine.version <= known) { return; }
      if (known !== undefined && machine.version > known + 1) {
        socket.send(JSON.stringify({ action: "resync" }));
        return;
      }
      apply(machine);
      root.dataset.liveVersion = Math.max(Number(root.dataset.liveVersion || 0), machine.version);
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.liveSocket);
    socket.addEventListener("open", function () { delay = 1000; });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        setStatus(texts.denied || "Not allowed", "denied");
        return;
      }
      setStatus(texts.reconnecting || "Reconnecting\u2026", "reconnecting");
      var wait = delay + Math.floor(Math.random() * 500);
      delay = Math.min(delay * 2, MAX_DELAY);
      window.setTimeout(connect, wait);
    });
  }

  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (node) {
      node.textContent = durationText(node.dataset.since);
    });
    var clock = document.querySelector("[data-live-clock]");
    if (clock) { clock.textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  }

  connect();
  tick();
  window.setInterval(tick, 15000);
  // Without a shared channel layer the server cannot push other processes' changes: ask for them.
  var refresh = Number(root.dataset.liveRefresh || 0);
  if (refresh > 0) {
    window.setInterval(function () {
      if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify({ action: "resync" })); }
    }, refresh * 1000);
  }
})();
