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

  function clock(ms) { return new Date(ms).toISOString().slice(11, 19); }

  // The same drawing as healops/dashboard/charts.py line_chart: keep the two in step.
  function draw(svg, points) {
    const width = 360, height = 130, padX = 40, padTop = 18, padBottom = 26;
    const innerW = width - padX - 8, innerH = height - padTop - padBottom, base = padTop + innerH;
    const unit = svg.dataset.unit ? " " + svg.dataset.unit : "";
    const line = svg.querySelector("polyline") || svg.appendChild(document.createElementNS(SVG, "polyline"));
    line.setAttribute("class", "line");
    if (!points.length) return;
    const ts = points.map(p => Date.parse(p.t)), vs = points.map(p => p.v);
    const t0 = ts[0], span = (ts[ts.length - 1] - t0) || 1;
    const lo = Math.min(...vs), hi = Math.max(...vs), spanV = (hi - lo) || 1;
    const x = t => padX + (t - t0) / span * innerW, y = v => padTop + innerH - (v - lo) / spanV * innerH;
    line.setAttribute("points", ts.map((t, i) => x(t).toFixed(1) + "," + y(vs[i]).toFixed(1)).join(" "));
    const last = svg.querySelector(".chart-last");
    if (last) last.textContent = "last " + fmt(vs[vs.length - 1]) + unit;
    const ticks = svg.querySelectorAll(".tick");
    if (ticks.length === 2) { ticks[0].textContent = fmt(hi); ticks[1].textContent = fmt(lo); }
    const empty = svg.querySelector(".chart-empty");
    if (empty) empty.remove();
    // Time labels: first, middle, last (created when the server drew "no data").
    const anchors = ["start", "middle", "end"];
    let labels = svg.querySelectorAll(".time-tick");
    if (labels.length !== 3) {
      labels.forEach(l => l.remove());
      labels = anchors.map(a => {
        const text = svg.appendChild(document.createElementNS(SVG, "text"));
        text.setAttribute("class", "time-tick");
        text.setAttribute("text-anchor", a);
        text.setAttribute("y", String(base + 12));
        return text;
      });
    }
    labels.forEach((label, k) => {
      const t = t0 + span * k / 2;
      label.setAttribute("x", x(t).toFixed(1));
      label.textContent = clock(t) + (k === 2 ? " UTC" : "");
    });
    // A hover per point: its time and value, as text (never markup).
    svg.querySelectorAll(".point").forEach(c => c.remove());
    ts.forEach((t, i) => {
      const c = svg.appendChild(document.createElementNS(SVG, "circle"));
      c.setAttribute("class", "point");
      c.setAttribute("r", "3");
      c.setAttribute("cx", x(t).toFixed(1));
      c.setAttribute("cy", y(vs[i]).toFixed(1));
      const title = c.appendChild(document.createElementNS(SVG, "title"));
      title.textContent = clock(t) + " UTC: " + fmt(vs[i]) + unit;
    });
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
