// Duplex PBX admin page: talks to /api/v1 with the bearer token from the
// login (kept in sessionStorage, so closing the tab logs out). No framework,
// no network access beyond this PBX.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("duplex-token") || "";
let callsOffset = 0;
const CALLS_PAGE = 50;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function say(text, ok) {
  const m = $("message");
  m.textContent = text;
  m.className = ok ? "ok" : "";
  m.hidden = !text;
}

async function api(method, path, body) {
  const headers = {};
  if (token) headers["Authorization"] = "Bearer " + token;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401 && path !== "/api/v1/auth/login") {
    logout("Your session ended; please log in again.");
    throw new Error("unauthorized");
  }
  const type = r.headers.get("Content-Type") || "";
  const data = r.status === 204 ? null : type.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) {
    const e = new Error(data && data.detail ? data.detail : "HTTP " + r.status);
    e.status = r.status;
    e.field = data && data.field;
    throw e;
  }
  return data;
}

function show(view) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== "view-" + view;
  for (const b of document.querySelectorAll("#tabs button[data-view]")) b.classList.toggle("active", b.dataset.view === view);
  $("tabs").hidden = view === "login";
  say("");
  if (view === "status") loadStatus();
  if (view === "extensions") loadExtensions();
  if (view === "settings") loadSettings();
  if (view === "calls") loadCalls();
}

function logout(text) {
  if (token) fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).catch(() => {});
  token = "";
  sessionStorage.removeItem("duplex-token");
  show("login");
  if (text) say(text);
}

// ---- status ----------------------------------------------------------

function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + " d " : "") + (h || d ? h + " h " : "") + m + " min";
}

function notAvailable(v) {
  return v && !Array.isArray(v) && v.available === false;
}

// One-way audio in plain words: the relay's diagnosis when it made one,
// else what the packet counters say so far.
function audioText(c) {
  // The relay names the legs A and B; say who they are.
  if (c.diagnosis) return c.diagnosis + " (leg A: " + c.caller + ", leg B: " + (c.callee || c.dialled) + ")";
  switch (c.audio) {
    case "both_ways": return "Audio flows both ways.";
    case "caller_only": return "So far only " + c.caller + " sends audio; nothing from " + (c.callee || c.dialled) + " yet.";
    case "callee_only": return "So far only " + (c.callee || c.dialled) + " sends audio; nothing from " + c.caller + " yet.";
    case "none": return c.state === "answered" ? "No audio from either phone yet." : "Not answered yet.";
    default: return "";
  }
}

function legText(l) {
  let t = l.side + " " + (l.extension || "") + " at " + l.peer + " (" + l.transport + "), " + l.state;
  if (l.status) t += " " + l.status + " " + l.reason;
  return t;
}

function mediaText(l) {
  const m = l.media;
  if (!m) return l.side + ": no media facts";
  let t = l.side + ": " + m.rtp_packets_in + " packets in, " + m.rtp_packets_out + " out";
  if (m.latched_source) t += ", from " + m.latched_source;
  else if (m.sdp_address) t += ", expected from " + m.sdp_address;
  if (m.foreign_dropped) t += ", " + m.foreign_dropped + " foreign dropped";
  if (m.hold) t += ", on hold";
  return t;
}

function lines(texts) {
  const d = el("div");
  for (const t of texts) d.appendChild(el("div", t));
  return d;
}

function renderCalls(calls) {
  const box = $("active-calls");
  box.textContent = "";
  if (notAvailable(calls)) { box.appendChild(el("p", "Not available yet: " + calls.detail, "muted")); return; }
  if (!calls.length) { box.appendChild(el("p", "No calls right now.", "muted")); return; }
  const table = el("table");
  table.id = "active-calls-table";
  table.appendChild(row(["Call", "State", "Legs", "Media", "Audio"]));
  for (const c of calls) {
    const legs = c.legs || [];
    const who = c.caller + " → " + (c.callee || c.dialled) + (c.dialled && c.dialled !== c.callee ? " (dialled " + c.dialled + ")" : "") +
      (c.trunk ? (c.direction === "inbound" ? ", in via trunk " : ", out via trunk ") + c.trunk : "");
    const state = c.state + ", " + c.duration_s + " s";
    const audio = el("span", audioText(c), c.diagnosis || (c.state === "answered" && c.audio !== "both_ways") ? "warn" : "");
    table.appendChild(row([who, state, lines(legs.map(legText)), lines(legs.map(mediaText)), audio]));
  }
  box.appendChild(table);
}

function renderRouter(nat) {
  const box = $("router");
  box.textContent = "";
  if (notAvailable(nat)) { box.appendChild(el("p", "Not available yet: " + nat.detail, "muted")); return; }
  const upnp = nat.upnp || {};
  const dl = el("dl");
  const add = (k, v, cls) => { if (v === undefined || v === null || v === "") return; dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v, cls)); };
  add("Public address", nat.public_address || "unknown");
  add("Sources", (nat.sources || []).map((x) => x.source + ": " + (x.address || x.error)).join("; "));
  add("Disagreement", nat.disagreement, "warn");
  add("UPnP", upnp.text || upnp.state);
  add("Double NAT", upnp.double_nat_text, "warn");
  add("NAT type", nat.nat_type && nat.nat_type.text);
  add("DynDNS", nat.dyndns && nat.dyndns.enabled ? nat.dyndns.text || nat.dyndns.last_result : "off");
  box.appendChild(dl);
  const mappings = upnp.mappings || [];
  if (mappings.length) {
    box.appendChild(el("h4", "Port mappings on the router"));
    const t = el("table");
    t.appendChild(row(["Protocol", "External", "Internal", "Purpose", "Lease ends"]));
    for (const m of mappings) t.appendChild(row([m.protocol, m.external_port, (m.internal_client || "") + ":" + m.internal_port, m.purpose, m.permanent ? "permanent" : m.expires]));
    box.appendChild(t);
  }
  const plan = nat.manual_forwarding || [];
  if (plan.length) {
    box.appendChild(el("h4", "Forward these ports by hand on your router"));
    const t = el("table");
    t.appendChild(row(["Protocol", "External ports", "To", "Purpose"]));
    for (const f of plan) {
      const ext = f.external_first + (f.external_last !== f.external_first ? "-" + f.external_last : "");
      const to = f.internal_ip + ":" + f.internal_first + (f.internal_last !== f.internal_first ? "-" + f.internal_last : "");
      t.appendChild(row([f.protocol, ext, to, f.purpose]));
    }
    box.appendChild(t);
    if (nat.manual_forwarding_text) box.appendChild(el("p", nat.manual_forwarding_text));
  }
}

// Trunk registrations: state, why it failed, when it expires / is tried next.
function renderTrunks(trunks) {
  const tbody = $("trunks");
  tbody.textContent = "";
  if (notAvailable(trunks)) { tbody.appendChild(row(["Not available: " + trunks.detail])); return; }
  if (!trunks.length) { tbody.appendChild(row(["No trunk is configured."])); return; }
  const when = (t) => (t ? new Date(t * 1000).toLocaleString() : "");
  for (const t of trunks) {
    const state = t.state.replace("_", " ") + (t.behind_nat ? " (behind NAT)" : "");
    tbody.appendChild(row([t.name, state, t.last_error, when(t.registered_until), when(t.next_attempt), t.contact]));
  }
}

async function loadStatus() {
  try {
    const s = await api("GET", "/api/v1/status");
    $("status-summary").textContent = "Version " + s.version + ", up " + duration(s.uptime_s) +
      (s.restart_required.length ? ". Restart needed for: " + s.restart_required.join(", ") : ".");
    const tbody = $("registrations");
    tbody.textContent = "";
    if (!s.registrations.length) tbody.appendChild(row(["No phone is registered."]));
    for (const r of s.registrations) {
      tbody.appendChild(row([r.extension, r.contact, r.source, r.transport, r.behind_nat ? "yes" : "no", r.user_agent, r.expires_in_s + " s"]));
    }
    renderTrunks(s.trunks);
    renderCalls(s.active_calls);
    renderRouter(s.nat);
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

// ---- extensions --------------------------------------------------------

let extensions = [];

async function loadExtensions() {
  try {
    extensions = (await api("GET", "/api/v1/extensions")).extensions;
    const tbody = $("extensions-table");
    tbody.textContent = "";
    for (const x of extensions) {
      const actions = el("span");
      const edit = el("button", "Edit");
      edit.onclick = () => openEdit(x);
      const del = el("button", "Delete");
      del.onclick = () => removeExtension(x.number);
      actions.append(edit, " ", del);
      const fwd = [x.forward_unconditional && "always → " + x.forward_unconditional,
        x.forward_busy && "busy → " + x.forward_busy,
        x.forward_no_answer && "no answer (" + x.forward_no_answer_seconds + " s) → " + x.forward_no_answer].filter(Boolean).join("; ");
      const tr = row([x.number, x.display_name, x.enabled ? "yes" : "no", x.dnd ? "on" : "", fwd, actions]);
      tr.dataset.number = x.number;
      tbody.appendChild(tr);
    }
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

function showPassword(number, password) {
  $("new-password-number").textContent = number;
  $("new-password").textContent = password;
  $("new-password-box").hidden = false;
}

async function addExtension(ev) {
  ev.preventDefault();
  const body = { number: $("new-number").value.trim() };
  if ($("new-name").value.trim()) body.display_name = $("new-name").value.trim();
  if ($("new-sip-password").value) body.sip_password = $("new-sip-password").value;
  try {
    const x = await api("POST", "/api/v1/extensions", body);
    $("add-form").reset();
    $("new-password-box").hidden = true;
    if (x.sip_password) showPassword(x.number, x.sip_password);
    say("Extension " + x.number + " added.", true);
    await loadExtensions();
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

async function removeExtension(number) {
  if (!confirm("Delete extension " + number + "? Its phones are logged out.")) return;
  try {
    await api("DELETE", "/api/v1/extensions/" + encodeURIComponent(number));
    say("Extension " + number + " deleted.", true);
    await loadExtensions();
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

function openEdit(x) {
  $("edit-form").hidden = false;
  $("edit-form").dataset.number = x.number;
  $("edit-number").textContent = x.number;
  $("edit-name").value = x.display_name;
  $("edit-enabled").checked = x.enabled;
  $("edit-dnd").checked = x.dnd;
  $("edit-fwd-always").value = x.forward_unconditional || "";
  $("edit-fwd-busy").value = x.forward_busy || "";
  $("edit-fwd-noanswer").value = x.forward_no_answer || "";
  $("edit-fwd-seconds").value = x.forward_no_answer_seconds;
  $("edit-max-contacts").value = x.max_contacts;
  $("edit-new-password").checked = false;
}

async function saveEdit(ev) {
  ev.preventDefault();
  const number = $("edit-form").dataset.number;
  const old = extensions.find((x) => x.number === number) || {};
  const body = {};
  const set = (k, v) => { if (v !== old[k]) body[k] = v; };
  set("display_name", $("edit-name").value);
  set("enabled", $("edit-enabled").checked);
  set("dnd", $("edit-dnd").checked);
  set("forward_unconditional", $("edit-fwd-always").value.trim() || null);
  set("forward_busy", $("edit-fwd-busy").value.trim() || null);
  set("forward_no_answer", $("edit-fwd-noanswer").value.trim() || null);
  set("forward_no_answer_seconds", Number($("edit-fwd-seconds").value));
  set("max_contacts", Number($("edit-max-contacts").value));
  if ($("edit-new-password").checked) body.sip_password = null;
  try {
    const x = await api("PATCH", "/api/v1/extensions/" + encodeURIComponent(number), body);
    $("edit-form").hidden = true;
    if (x.sip_password) showPassword(x.number, x.sip_password);
    say("Extension " + number + " saved.", true);
    await loadExtensions();
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

// ---- settings ----------------------------------------------------------

let settingTypes = {};

async function loadSettings() {
  try {
    const [doc, s] = await Promise.all([api("GET", "/api/v1/openapi.json"), api("GET", "/api/v1/settings")]);
    settingTypes = doc.components.schemas.SettingsPatch.properties;
    const box = $("settings-fields");
    box.textContent = "";
    for (const [key, schema] of Object.entries(settingTypes)) {
      const label = el("label");
      label.appendChild(el("span", key));
      // Not stored = the value from duplex.conf or the built-in default.
      let input;
      if (schema.enum || schema.type === "boolean") {
        input = el("select");
        input.appendChild(el("option", "(default)")).value = "";
        for (const v of schema.enum || ["true", "false"]) input.appendChild(el("option", v === "true" ? "on" : v === "false" ? "off" : v)).value = v;
      } else {
        input = el("input");
        input.placeholder = "(default)";
        if (schema.type === "integer") { input.type = "number"; input.min = schema.minimum; input.max = schema.maximum; }
        else if (schema.writeOnly) { input.type = "password"; }
      }
      input.name = key;
      input.id = "setting-" + key;
      const value = key in s.settings ? s.settings[key] : null;
      if (Array.isArray(value)) input.value = value.join(", ");
      else if (value !== null && value !== undefined) input.value = String(value);
      if (schema.writeOnly) input.placeholder = s.secrets_set[key] ? "(set; type to replace)" : "(not set)";
      input.dataset.initial = input.value;
      label.appendChild(input);
      if (schema.description) label.appendChild(el("small", " " + schema.description, "muted"));
      box.appendChild(label);
    }
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

async function saveSettings(ev) {
  ev.preventDefault();
  const body = {};
  for (const [key, schema] of Object.entries(settingTypes)) {
    const input = $("setting-" + key);
    const now = input.value;
    if (now === input.dataset.initial) continue;
    if (now.trim() === "") body[key] = null;
    else if (schema.type === "boolean") body[key] = now === "true";
    else if (schema.type === "integer") body[key] = Number(now);
    else if (schema.type === "array") body[key] = now.split(",").map((v) => v.trim()).filter(Boolean);
    else body[key] = now;
  }
  if (!Object.keys(body).length) { say("Nothing changed."); return; }
  try {
    const r = await api("PATCH", "/api/v1/settings", body);
    $("settings-result").textContent =
      (r.applied_live.length ? "Applied now: " + r.applied_live.join(", ") + ". " : "") +
      (r.needs_restart.length ? "Takes effect after a restart: " + r.needs_restart.join(", ") + "." : "");
    say("Settings saved.", true);
    await loadSettings();
  } catch (e) { if (e.message !== "unauthorized") say((e.field ? e.field + ": " : "") + e.message); }
}

// ---- calls -------------------------------------------------------------

function callsQuery() {
  const q = new URLSearchParams();
  if ($("calls-extension").value.trim()) q.set("extension", $("calls-extension").value.trim());
  if ($("calls-disposition").value) q.set("disposition", $("calls-disposition").value);
  return q;
}

async function loadCalls() {
  const q = callsQuery();
  q.set("limit", CALLS_PAGE);
  q.set("offset", callsOffset);
  try {
    const page = await api("GET", "/api/v1/calls?" + q);
    const tbody = $("calls-table");
    tbody.textContent = "";
    for (const c of page.records) {
      tbody.appendChild(row([new Date(c.start_at * 1000).toLocaleString(), c.caller, c.callee, c.disposition, c.billable_s, c.diagnosis || ""]));
    }
    $("calls-page").textContent = page.total ? (callsOffset + 1) + "–" + (callsOffset + page.records.length) + " of " + page.total : "No calls.";
    $("calls-prev").disabled = callsOffset === 0;
    $("calls-next").disabled = callsOffset + page.records.length >= page.total;
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

async function downloadCsv() {
  try {
    const text = await api("GET", "/api/v1/calls.csv?" + callsQuery());
    const a = el("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = "calls.csv";
    a.click();
    URL.revokeObjectURL(a.href);
  } catch (e) { if (e.message !== "unauthorized") say(e.message); }
}

// ---- start -------------------------------------------------------------

async function login(ev) {
  ev.preventDefault();
  try {
    const r = await api("POST", "/api/v1/auth/login", { username: $("login-user").value, password: $("login-password").value });
    token = r.token;
    sessionStorage.setItem("duplex-token", token);
    $("login-password").value = "";
    show("status");
  } catch (e) { say(e.status === 401 ? "Wrong user name or password." : e.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("add-form").addEventListener("submit", addExtension);
  $("edit-form").addEventListener("submit", saveEdit);
  $("edit-cancel").addEventListener("click", () => { $("edit-form").hidden = true; });
  $("settings-form").addEventListener("submit", saveSettings);
  $("calls-form").addEventListener("submit", (e) => { e.preventDefault(); callsOffset = 0; loadCalls(); });
  $("calls-csv").addEventListener("click", downloadCsv);
  $("calls-prev").addEventListener("click", () => { callsOffset = Math.max(0, callsOffset - CALLS_PAGE); loadCalls(); });
  $("calls-next").addEventListener("click", () => { callsOffset += CALLS_PAGE; loadCalls(); });
  $("logout").addEventListener("click", () => logout("Logged out."));
  for (const b of document.querySelectorAll("#tabs button[data-view]")) b.addEventListener("click", () => show(b.dataset.view));
  show(token ? "status" : "login");
  // The status (active calls above all) follows along while it is on screen.
  setInterval(() => { if (token && !$("view-status").hidden && !document.hidden) loadStatus(); }, 5000);
});
