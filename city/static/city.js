// The city page: the API's lists first, then live updates from /api/stream (server-sent
// events). Plain JS, no build step; it only reads.
"use strict";
const state = { intersections: new Map(), parking: new Map(), alarms: [] };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}
function when(ts) { return ts ? new Date(ts * 1000).toLocaleTimeString() : "—"; }
function slug(s) { return String(s).replace(/[^a-z]+/gi, "-"); }

function intersectionRow(i) {
  const aspects = el("td");
  for (const [g, a] of Object.entries(i.aspects || {}))
    aspects.append(el("span", { class: `asp ${slug(a)}`, title: `${g}: ${a}`,
                                 "data-group": g, "data-aspect": a }, g));
  const mode = (i.mode || "—") + (i.stage ? ` ${i.stage}` : "");
  const alarms = (i.alarms || []).map(a => a.text).join("; ");
  const hour = Math.floor(Date.now() / 1000);
  const link = el("a", { href: `/api/intersections/${encodeURIComponent(i.id)}/events?from=${hour - 3600}&to=${hour + 60}` }, "CSV");
  const atspm = el("button", { class: "atspm", "data-id": i.id }, "ATSPM");
  atspm.onclick = () => showMeasures(i.id);
  return el("tr", { id: `i-${i.id}`, class: i.online ? "" : "offline" },
    el("td", {}, `${i.name} (${i.intersection})`), el("td", {}, i.group),
    el("td", { class: `mode mode-${i.mode}` }, mode), aspects,
    el("td", { class: "alarm critical" }, alarms), el("td", {}, when(i.updated)),
    el("td", {}, link), el("td", {}, atspm));
}

async function showMeasures(id) {
  const now = Math.floor(Date.now() / 1000);
  const r = await fetch(`/api/intersections/${encodeURIComponent(id)}/measures?from=${now - 3600}&to=${now + 3600}`);
  const m = await r.json();
  document.getElementById("atspm").hidden = false;
  document.getElementById("atspm-name").textContent = id;
  const dash = v => (v === undefined || v === null ? "—" : v);
  document.querySelector("#measures tbody").replaceChildren(...Object.entries(m.measures).map(
    ([g, x]) => el("tr", { "data-phase": g }, el("td", {}, g), el("td", {}, x.cycles),
      el("td", {}, x.mean_green_s), el("td", {}, x.mean_cycle_s),
      el("td", {}, `${x.gap_out}/${x.max_out}/${x.force_off}`),
      el("td", { class: "aog" }, dash(x.arrivals_on_green_pct)), el("td", {}, dash(x.platoon_ratio)),
      el("td", {}, dash(x.split_failures)), el("td", {}, dash(x.green_occupancy_pct)))));
  drawPcd(m.pcd);
}

function drawPcd(pcd) {
  const c = document.getElementById("pcd"), g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  document.getElementById("pcd-phase").textContent = pcd ? `${pcd.phase} (${pcd.number})` : "—";
  c.dataset.points = pcd ? pcd.arrivals.length : 0;
  if (!pcd) return;
  const all = [...pcd.arrivals, ...pcd.green, ...pcd.yellow];
  if (!all.length) return;
  const t0 = Math.min(...all.map(p => p[0])), t1 = Math.max(...all.map(p => p[0])) + 1;
  const ymax = Math.max(...all.map(p => p[1]), 1);
  const x = t => 40 + (c.width - 50) * (t - t0) / (t1 - t0);
  const y = v => c.height - 20 - (c.height - 30) * v / ymax;
  g.fillStyle = "#222";
  g.fillText(`${ymax.toFixed(0)} s`, 2, 12);
  g.fillText("0", 2, c.height - 20);
  for (const [t, v] of pcd.arrivals) g.fillRect(x(t) - 1, y(v) - 1, 3, 3);
  for (const [key, colour] of [["green", "#2e7d32"], ["yellow", "#e0a100"]]) {
    g.strokeStyle = colour; g.lineWidth = 2; g.beginPath();
    pcd[key].forEach(([t, v], i) => (i ? g.lineTo(x(t), y(v)) : g.moveTo(x(t), y(v))));
    g.stroke();
    g.fillStyle = colour;
    for (const [t, v] of pcd[key]) g.fillRect(x(t) - 2, y(v) - 2, 5, 5);
  }
}

function parkingRow(a) {
  return el("tr", { id: `p-${a.id}`, class: a.online ? "" : "offline" },
    el("td", {}, a.name), el("td", {}, a.group),
    el("td", { class: "free" }, a.free === null ? "—" : a.free), el("td", {}, a.capacity),
    el("td", {}, el("span", { class: `sign ${a.state}` }, a.sign)), el("td", {}, when(a.updated)));
}

function render(map, tableId, rowFn) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...[...map.keys()].sort().map(k => rowFn(map.get(k))));
}

function renderAlarms() {
  const ul = document.getElementById("alarms");
  document.getElementById("alarm-count").textContent = state.alarms.length;
  if (!state.alarms.length) { ul.replaceChildren(el("li", { class: "none" }, "none")); return; }
  ul.replaceChildren(...state.alarms.map(a =>
    el("li", { class: `alarm ${a.severity}`, "data-id": a.id }, `${a.group}: ${a.text}`)));
}

async function load() {
  const [inters, parking, alarms] = await Promise.all(
    ["/api/intersections", "/api/parking", "/api/alarms"].map(u => fetch(u).then(r => r.json())));
  for (const i of inters) state.intersections.set(i.id, i);
  for (const a of parking) state.parking.set(a.id, a);
  state.alarms = alarms.active;
  render(state.intersections, "intersections", intersectionRow);
  render(state.parking, "parking", parkingRow);
  renderAlarms();
}

function live() {
  const badge = document.getElementById("live");
  const es = new EventSource("/api/stream");
  es.onopen = () => { badge.textContent = "live"; badge.className = "live on"; load(); };
  es.onerror = () => { badge.textContent = "reconnecting…"; badge.className = "live off"; };
  es.addEventListener("intersection", e => {
    const i = JSON.parse(e.data);
    state.intersections.set(i.id, i);
    render(state.intersections, "intersections", intersectionRow);
  });
  es.addEventListener("parking", e => {
    const a = JSON.parse(e.data);
    state.parking.set(a.id, a);
    render(state.parking, "parking", parkingRow);
  });
  for (const kind of ["alarms", "status", "node", "alarm", "info"])
    es.addEventListener(kind, e => {
      state.alarms = JSON.parse(e.data).alarms;
      renderAlarms();
      if (kind === "status" || kind === "info") load();
    });
}

live();
