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
  return el("tr", { id: `i-${i.id}`, class: i.online ? "" : "offline" },
    el("td", {}, `${i.name} (${i.intersection})`), el("td", {}, i.group),
    el("td", { class: `mode mode-${i.mode}` }, mode), aspects,
    el("td", { class: "alarm critical" }, alarms), el("td", {}, when(i.updated)),
    el("td", {}, link));
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
