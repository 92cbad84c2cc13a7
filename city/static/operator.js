// The operator's panel: log in (POST /api/login, a bearer token kept in this page's
// memory only), send a plan selection or a flash request (POST /api/commands), and the
// command audit (GET /api/commands). The server decides who may do what.
"use strict";
let token = null;
const $ = id => document.getElementById(id);

async function call(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  return [r.status, await r.json()];
}

async function audit() {
  const [, rows] = await call("GET", "/api/commands");
  const cell = v => el("td", {}, v === null || v === undefined ? "—" : v);
  $("commands").tBodies[0].replaceChildren(...rows.map(c => el("tr",
    { "data-id": c.id, "data-outcome": c.outcome || "" },
    cell(when(c.ts)), cell(c.by), cell(c.group), cell(c.kind), cell(JSON.stringify(c.args)),
    cell(c.sent), el("td", { class: "outcome" }, c.outcome || "—"), cell(c.message))));
}

function kindChanged() {
  const flash = $("cmd-kind").value === "flash";
  $("cmd-plan").hidden = flash;
  $("cmd-intersection").hidden = !flash;
  $("cmd-on-label").hidden = !flash;
}

$("login").onsubmit = async ev => {
  ev.preventDefault();
  const [status, doc] = await call("POST", "/api/login",
    { user: $("login-user").value, password: $("login-password").value });
  $("login-password").value = "";
  if (status !== 200) { $("login-msg").textContent = doc.error; return; }
  token = doc.token;
  $("login").hidden = true;
  $("command").hidden = false;
  $("whoami").textContent = `${doc.user} (${doc.role})`;
};

$("logout").onclick = async () => {
  await call("POST", "/api/logout");
  token = null;
  $("login").hidden = false;
  $("command").hidden = true;
};

$("cmd-kind").onchange = kindChanged;

$("command").onsubmit = async ev => {
  ev.preventDefault();
  const kind = $("cmd-kind").value;
  const args = kind === "plan" ? { plan: $("cmd-plan").value || null }
    : { intersection: $("cmd-intersection").value, on: $("cmd-on").checked };
  const [status, doc] = await call("POST", "/api/commands",
    { group: $("cmd-group").value, kind, args });
  $("cmd-msg").textContent = status === 202 ? `sent ${doc.id.slice(0, 8)}` : doc.error;
  audit();
};

kindChanged();
audit();
setInterval(audit, 5000);
