/* Live updates for the staff pages, over the WebSocket /ws/staff/.
 *
 * The server pushes {"type": "job.updated", "job": {...}} and {"type": "printer.updated",
 * "printer": {...}}. This script:
 *   - updates in place every job badge ([data-job-badge=ID]), job reason ([data-job-error=ID]),
 *     order's job list ([data-order-jobs=ORDER_ID]) and printer chip ([data-printer-chip=ID]);
 *   - re-fetches page regions ([data-live-region]) from the server (same URL + ?region=NAME)
 *     when something they show changed;
 *   - reconnects by itself with exponential backoff, shows when it is disconnected, and after
 *     each (re)connect catches up from the JSON status endpoints, since updates sent while it
 *     was away are lost.
 * Labels come from the server, in the reader's language (#live-config).
 */
(function () {
  "use strict";

  const configElement = document.getElementById("live-config");
  if (!configElement) return;
  const config = JSON.parse(configElement.textContent);

  const FIRST_DELAY_MS = 500;
  const MAX_DELAY_MS = 15000;
  const PING_EVERY_MS = 20000;
  const PONG_TIMEOUT_MS = 8000;
  const REGION_DEBOUNCE_MS = 250;
  const UNFINISHED_RECHECK_MS = 10000;

  let socket = null;
  let attempt = 0;
  // The last update the socket brought for each job, and when: a snapshot fetched over HTTP
  // that was requested before it is older and must not undo it.
  const liveJobs = new Map();
  const livePrinters = new Map();
  let reconnectTimer = null;
  let pingTimer = null;
  let pongTimer = null;

  // --- connection ------------------------------------------------------------------------

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + config.socketPath;
  }

  function setLinkState(state) {
    document.documentElement.dataset.live = state;
    const status = document.getElementById("live-status");
    if (status) {
      status.dataset.state = state;
      const text = status.querySelector("[data-live-text]");
      if (text) text.textContent = config.text[state];
    }
    const banner = document.getElementById("live-banner");
    if (banner) banner.hidden = state !== "offline";
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (socket) return;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (error) {
      lost(null);
      return;
    }
    socket = ws;
    ws.onopen = function () {
      attempt = 0;
      setLinkState("live");
      startHeartbeat(ws);
      catchUp();
    };
    ws.onmessage = function (event) {
      clearTimeout(pongTimer);
      pongTimer = null;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "job.updated" && message.job) applyJob(message.job, true);
      else if (message.type === "printer.updated" && message.printer) applyPrinter(message.printer, true);
      else if (message.type === "order.updated" && message.order) applyOrder(message.order);
    };
    ws.onclose = function () { lost(ws); };
  }

  function lost(ws) {
    if (ws !== socket) return; // an older socket we already gave up on
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(); } catch (error) { /* already closed */ }
    }
    socket = null;
    stopHeartbeat();
    setLinkState("offline");
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * Math.pow(2, attempt));
    attempt += 1;
    // Jitter: after a server restart, a room full of tablets does not reconnect in lockstep.
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (socket) return;
    attempt = 0;
    connect();
  }

  // A connection can die without a close (Wi-Fi drops, laptop sleeps): ping, expect an answer.
  function startHeartbeat(ws) {
    stopHeartbeat();
    pingTimer = setInterval(function () {
      if (ws !== socket || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: "ping" }));
      if (!pongTimer) pongTimer = setTimeout(function () { lost(ws); }, PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  function stopHeartbeat() {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    pingTimer = pongTimer = null;
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });

  // --- catching up -----------------------------------------------------------------------

  function idsOf(root, selector, attribute) {
    const ids = new Set();
    root.querySelectorAll(selector).forEach(function (element) { ids.add(element.getAttribute(attribute)); });
    return Array.from(ids);
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.redirected || response.status === 401 || response.status === 403) {
      location.reload(); // logged out meanwhile: the page shows the login form
      return null;
    }
    return response.ok ? response.json() : null;
  }

  async function catchUp() {
    try {
      await syncJobs(document);
      const requestedAt = performance.now();
      const printers = await getJson(config.printerStatusUrl);
      if (printers) {
        printers.printers.forEach(function (printer) {
          const live = livePrinters.get(printer.id);
          if (!live || live < requestedAt) applyPrinter(printer, false);
        });
      }
    } catch (error) {
      // The socket's own close will bring us back here.
    }
    document.querySelectorAll("[data-live-region]").forEach(scheduleRegionRefresh);
  }

  // The current state of every job shown under ``root``: by order ([data-order-jobs]) and by id.
  async function syncJobs(root) {
    const orders = idsOf(root, "[data-order-jobs]", "data-order-jobs");
    const jobs = idsOf(root, "[data-job-badge]", "data-job-badge");
    if (!orders.length && !jobs.length) return;
    const query = new URLSearchParams();
    if (orders.length) query.set("order", orders.join(","));
    if (jobs.length) query.set("job", jobs.join(","));
    const requestedAt = performance.now();
    const data = await getJson(config.jobStatusUrl + "?" + query);
    if (!data) return;
    data.jobs.forEach(function (job) {
      const live = liveJobs.get(job.id);
      if (!live || live.at < requestedAt) applyJob(job, false);
    });
    showMissingJobHints();
  }

  // An order confirmed with no printer for its channel: say so rather than show nothing.
  function showMissingJobHints() {
    document.querySelectorAll("[data-order-jobs]").forEach(function (list) {
      const hint = list.parentElement.querySelector("[data-no-jobs]");
      if (hint) hint.hidden = list.children.length > 0;
    });
  }

  // --- jobs ------------------------------------------------------------------------------

  function renderJobBadge(element, job) {
    element.textContent = config.jobLabels[job.status] || job.status;
    element.className = "badge job-" + job.status;
    element.dataset.status = job.status;
    element.title = job.error_message || "";
  }

  function jobChip(job) {
    const chip = document.createElement("a");
    chip.className = "job-chip";
    chip.href = config.jobUrl.replace("{id}", job.id);
    chip.dataset.jobChip = job.id;
    const printer = document.createElement("span");
    printer.className = "job-printer";
    printer.textContent = job.printer_name;
    const badge = document.createElement("span");
    badge.dataset.jobBadge = job.id;
    chip.append(printer, badge);
    if (job.kind !== "order_receipt") {
      const kind = document.createElement("span");
      kind.className = "job-kind";
      kind.textContent = config.kindLabels[job.kind] || job.kind;
      chip.append(kind);
    }
    const reason = document.createElement("span");
    reason.className = "reason";
    reason.dataset.jobError = job.id;
    chip.append(reason);
    return chip;
  }

  function applyJob(job, fromSocket) {
    if (fromSocket) liveJobs.set(job.id, { job: job, at: performance.now() });
    if (job.order_id !== null && job.order_id !== undefined) {
      document.querySelectorAll('[data-order-jobs="' + job.order_id + '"]').forEach(function (list) {
        if (!list.querySelector('[data-job-badge="' + job.id + '"]')) list.append(jobChip(job));
        const hint = list.parentElement.querySelector("[data-no-jobs]");
        if (hint) hint.hidden = true;
      });
    }
    document.querySelectorAll('[data-job-badge="' + job.id + '"]').forEach(function (badge) { renderJobBadge(badge, job); });
    document.querySelectorAll('[data-job-error="' + job.id + '"]').forEach(function (reason) {
      reason.textContent = job.error_message || "";
    });
    updateReprintButtons();
    if (fromSocket) {
      document.querySelectorAll("[data-live-region]").forEach(function (region) {
        if (!listensTo(region, "job")) return;
        if (region.dataset.liveJob && region.dataset.liveJob !== String(job.id)) return;
        scheduleRegionRefresh(region);
      });
    }
  }

  // "Print again" only once the original is printed or failed: while it waits, a reprint would
  // print the order twice (the server refuses it too).
  function updateReprintButtons() {
    document.querySelectorAll('[data-action="reprint"]').forEach(function (button) {
      const card = button.closest("[data-last-order], [data-order]");
      if (!card) return;
      const badges = card.querySelectorAll("[data-order-jobs] [data-job-badge]");
      const waiting = Array.prototype.some.call(badges, function (badge) {
        return ["pending", "sent", "printing"].indexOf(badge.dataset.status) !== -1;
      });
      button.hidden = waiting;
    });
  }

  // --- printers ----------------------------------------------------------------------------

  function printerState(printer) {
    if (!printer.is_active) return "disabled";
    if (!printer.connected) return "offline";
    return config.printerStates[printer.status] || "error";
  }

  function formatTime(iso) {
    if (!iso) return "";
    try {
      return new Date(iso).toLocaleString(config.language, { timeZone: config.timeZone, dateStyle: "short", timeStyle: "medium" });
    } catch (error) {
      return iso;
    }
  }

  function applyPrinter(printer, fromSocket) {
    if (fromSocket) livePrinters.set(printer.id, performance.now());
    const state = printerState(printer);
    const chips = document.getElementById("printer-chips");
    let chip = document.querySelector('[data-printer-chip="' + printer.id + '"]');
    if (!chip && printer.is_active && chips) {
      const placeholder = chips.querySelector("[data-no-printers]");
      if (placeholder) placeholder.remove();
      chip = document.createElement("span");
      chip.dataset.printerChip = printer.id;
      chip.innerHTML = '<span class="dot" aria-hidden="true"></span><span class="chip-name"></span> <span class="chip-state" data-printer-state></span>';
      chips.append(chip);
    }
    if (chip && !printer.is_active) {
      chip.remove();
    } else if (chip) {
      chip.className = "printer-chip level-" + config.printerLevels[state];
      chip.dataset.state = state;
      chip.querySelector(".chip-name").textContent = printer.name;
      chip.querySelector("[data-printer-state]").textContent = config.printerLabels[state];
      chip.title = printer.last_seen_at ? config.text.lastSeen.replace("%(time)s", formatTime(printer.last_seen_at)) : "";
    }
    if (fromSocket) {
      document.querySelectorAll("[data-live-region]").forEach(function (region) {
        if (listensTo(region, "printer")) scheduleRegionRefresh(region);
      });
    }
  }

  // --- orders (confirm, ready, delivered, cancel, edit on another tablet) -------------------

  function applyOrder(order) {
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      if (listensTo(region, "order")) scheduleRegionRefresh(region);
    });
    document.querySelectorAll('[data-order-status="' + order.id + '"]').forEach(function (element) {
      element.dataset.status = order.status;
      element.textContent = (config.orderLabels || {})[order.status] || order.status;
    });
  }

  // --- regions re-rendered by the server ---------------------------------------------------

  function listensTo(region, kind) {
    return (region.dataset.liveOn || "").split(/\s+/).indexOf(kind) !== -1;
  }

  function scheduleRegionRefresh(region) {
    if (region.refreshTimer) return;
    region.refreshTimer = setTimeout(function () {
      region.refreshTimer = null;
      refreshRegion(region);
    }, REGION_DEBOUNCE_MS);
  }

  // Orders' job lists are filled in by this script, not by the server: carry them over.
  function replaceRegion(region, html, requestedAt) {
    const kept = {};
    region.querySelectorAll("[data-order-jobs]").forEach(function (list) {
      kept[list.dataset.orderJobs] = Array.from(list.children);
    });
    region.innerHTML = html;
    region.querySelectorAll("[data-order-jobs]").forEach(function (list) {
      (kept[list.dataset.orderJobs] || []).forEach(function (chip) { list.append(chip); });
    });
    liveJobs.forEach(function (live) {
      if (live.at > requestedAt && region.querySelector('[data-job-badge="' + live.job.id + '"]')) applyJob(live.job, false);
    });
  }

  async function refreshRegion(region) {
    if (region.loading) {
      region.again = true;
      return;
    }
    region.loading = true;
    try {
      const requestedAt = performance.now();
      const url = new URL(location.href);
      url.searchParams.set("region", region.dataset.liveRegion);
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.redirected) {
        location.reload();
      } else if (response.ok) {
        replaceRegion(region, await response.text(), requestedAt);
        if (region.querySelector("[data-order-jobs]")) await syncJobs(region);
      }
    } catch (error) {
      // Offline: the next (re)connect refreshes every region.
    } finally {
      region.loading = false;
      if (region.again) {
        region.again = false;
        scheduleRegionRefresh(region);
      }
    }
  }

  // Staff updates ride the channel layer, which may drop a message under load: while receipts
  // shown here are unfinished, ask for their state now and then rather than wait forever.
  setInterval(function () {
    if (document.visibilityState !== "visible") return;
    if (document.querySelector('[data-job-badge][data-status="pending"], [data-job-badge][data-status="sent"], [data-job-badge][data-status="printing"]')) {
      syncJobs(document).catch(function () {});
    }
  }, UNFINISHED_RECHECK_MS);

  // --- start -----------------------------------------------------------------------------

  setLinkState("connecting");
  // Pages that list orders' jobs render them empty: fill them now, not only once the socket is up.
  if (document.querySelector("[data-order-jobs]")) syncJobs(document).catch(function () {});
  connect();
})();
