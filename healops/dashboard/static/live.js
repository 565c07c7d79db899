// Live metrics and log tail for a service page: polls the JSON API and redraws.
// Untrusted text (log lines) only ever goes into textContent, never innerHTML.
"use strict";
(function () {
  const root = document.getElementById("live");
  if (!root) return;
  const SVG = "http://www.w3.org/2000/svg";
  const metricsUrl = root.dataset.metricsUrl;
  const logsUrl = root.dataset.logsUrl;
  const refreshMs = parseInt(root.dataset.refreshMs, 10) || 5000;
  const windowMinutes = parseInt(root.dataset.windowMinutes, 10) || 30;  // the server-rendered charts' window
  const status = document.getElementById("live-status");
  const tail = document.getElementById("log-tail");
  const MAX_LINES = 300;
  // Events can arrive with timestamps a little behind the newest shown: ask again for a short
  // overlap and skip the event ids already shown.
  const OVERLAP_MS = 15000;
  const seen = new Set(Array.from(tail.querySelectorAll("li[data-id]"), li => li.dataset.id));

  function lastTimestamp() {
    const items = tail.querySelectorAll("li[data-ts]");
    return items.length ? parseInt(items[items.length - 1].dataset.ts, 10) : null;
  }

  function insertInOrder(li, ts) {
    let before = null;
    for (let node = tail.lastElementChild; node && parseInt(node.dataset.ts, 10) > ts; node = node.previousElementSibling) {
      before = node;
    }
    tail.insertBefore(li, before);
  }

  function fmt(v) { return Number(v).toPrecision(4).replace(/\.?0+$/, ""); }

  function draw(svg, points) {
    const width = 360, height = 120, padX = 36, padTop = 18, padBottom = 16;
    const innerW = width - padX - 6, innerH = height - padTop - padBottom;
    const line = svg.querySelector("polyline") || svg.appendChild(document.createElementNS(SVG, "polyline"));
    line.setAttribute("class", "line");
    if (!points.length) return;
    const ts = points.map(p => Date.parse(p.t)), vs = points.map(p => p.v);
    const t0 = ts[0], span = (ts[ts.length - 1] - t0) || 1;
    const lo = Math.min(...vs), hi = Math.max(...vs), spanV = (hi - lo) || 1;
    line.setAttribute("points", ts.map((t, i) =>
      (padX + (t - t0) / span * innerW).toFixed(1) + "," + (padTop + innerH - (vs[i] - lo) / spanV * innerH).toFixed(1)
    ).join(" "));
    const last = svg.querySelector(".chart-last");
    if (last) last.textContent = "last " + fmt(vs[vs.length - 1]);
    const ticks = svg.querySelectorAll(".tick");
    if (ticks.length === 2) { ticks[0].textContent = fmt(hi); ticks[1].textContent = fmt(lo); }
    const empty = svg.querySelector(".chart-empty");
    if (empty) empty.remove();
  }

  async function refreshMetrics() {
    const response = await fetch(metricsUrl + "?minutes=" + windowMinutes, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("metrics: HTTP " + response.status);
    const body = await response.json();
    for (const figure of document.querySelectorAll("#metric-charts figure[data-metric]")) {
      const svg = figure.querySelector("svg");
      const points = body.series[figure.dataset.metric] || [];
      if (svg) draw(svg, points);
    }
  }

  async function refreshLogs() {
    const since = lastTimestamp();
    const url = logsUrl + (since !== null ? "?since_ms=" + Math.max(0, since - OVERLAP_MS) : "");
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("logs: HTTP " + response.status);
    const body = await response.json();
    for (const event of body.events) {
      if (seen.has(event.event_id)) continue;
      seen.add(event.event_id);
      const li = document.createElement("li");
      li.dataset.ts = String(event.timestamp);
      li.dataset.id = event.event_id;
      const time = document.createElement("time");
      time.textContent = event.at;
      const msg = document.createElement("span");
      msg.className = "msg";
      msg.textContent = event.message;
      li.append(time, " ", msg);
      insertInOrder(li, event.timestamp);
    }
    while (tail.children.length > MAX_LINES) tail.firstElementChild.remove();
  }

  async function tick() {
    try {
      await Promise.all([refreshMetrics(), refreshLogs()]);
      status.textContent = "updated " + new Date().toLocaleTimeString();
    } catch (err) {
      status.textContent = "refresh failed: " + err.message;
    }
    setTimeout(tick, refreshMs);
  }
  setTimeout(tick, refreshMs);
})();
