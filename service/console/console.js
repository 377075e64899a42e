// Agent console of helpdesk-triage: plain browser JavaScript, no build step, no network
// beyond this service. Every text from a customer or an article is inserted with
// textContent (never as HTML): customer text is hostile.
"use strict";

const KEY_STORAGE = "triage-api-key";
const PAGE = 50;

const REASONS = {
  human_requested: "the customer asked for a person",
  urgency_critical: "the message is critical",
  identity_missing: "the customer is not identified",
  order_not_verified: "the order does not belong to this customer (or does not exist)",
  order_lookup_failed: "the order system failed",
  order_lookup_timeout: "the order system did not answer in time",
  order_lookup_malformed: "the order system answered something unreadable",
  order_lookup_unavailable: "the order system is unavailable",
  already_answered: "this was already answered automatically",
  intent_not_allowed: "this kind of request is never answered automatically",
  low_confidence: "the intent is not certain enough",
  ambiguous_intent: "two intents are equally likely",
  out_of_scope: "the message is about nothing the service knows",
  language_unsupported: "the language is not supported",
  intent_untrusted: "the intent cannot be trusted",
  urgency_too_high: "too urgent to answer automatically",
  channel_not_allowed: "no automatic answers on this channel",
  order_not_identified: "no order number was found",
  no_recent_orders: "the customer has no recent orders",
  no_open_order: "the customer has no open order",
  several_orders_mentioned: "several orders are mentioned",
  order_verified: "the order belongs to this customer",
  only_open_order: "it is the customer's only open order",
  several_open_orders: "the customer has several open orders",
  public_channel: "public channel: no order details in the reply",
  repeat_contact: "the customer wrote before about this",
  earlier_commitment: "an agent already promised something in this conversation",
  kb_passages: "the help centre holds an answer",
  no_kb_passages: "the help centre holds no answer: an agent has to write one",
};
const ACTIONS = { auto_reply: "Answered automatically", suggest: "Drafts for an agent", escalate: "Escalated to an agent" };
const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
  "#65a30d", "#9333ea", "#ea580c", "#475569", "#0d9488"];
const URGENCY_COLOURS = { critical: "#b91c1c", high: "#ea580c", normal: "#2563eb", low: "#64748b", unknown: "#94a3b8" };

const state = { view: "queue", messages: [], total: 0, nextOffset: null, selected: null, draft: 0, queues: new Set(), historyRoute: null };

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

// -- helpers ---------------------------------------------------------------------------------
function $(id) { return document.getElementById(id); }

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function pct(x) { return x === null || x === undefined ? "–" : `${Math.round(x * 1000) / 10}%`; }
function when(iso) { return new Date(iso).toLocaleString(); }
function words(code) { return REASONS[code] || code.replaceAll("_", " "); }

function say(text) { $("status").textContent = text; }
function fail(err) {
  const box = $("error");
  box.textContent = err instanceof Error ? err.message : String(err);
  box.hidden = false;
}
function clearError() { $("error").hidden = true; $("error").textContent = ""; }

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 401) {
    showSignIn(key ? "The API key was refused." : null);
    throw new ApiError(401, (data && data.detail) || "an API key is needed");
  }
  if (!response.ok) {
    let detail = (data && data.detail) || response.statusText;
    if (data && Array.isArray(data.errors)) detail += ": " + data.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new ApiError(response.status, detail);
  }
  return data;
}

// -- sign-in ---------------------------------------------------------------------------------
function showSignIn(message) {
  $("signin").hidden = false;
  $("nav").hidden = true;
  for (const v of document.querySelectorAll(".view")) v.hidden = true;
  const err = $("signin-error");
  err.hidden = !message;
  err.textContent = message || "";
  $("api-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  try {
    await api("/v1/messages?limit=1");
  } catch (err) {
    sessionStorage.removeItem(KEY_STORAGE);
    if (err.status !== 401) fail(err);
    else showSignIn(`The API key was refused (${err.message}).`);
    return;
  }
  $("api-key").value = "";
  start();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  showSignIn("Signed out.");
}

// -- views -----------------------------------------------------------------------------------
function show(view) {
  state.view = view;
  $("signin").hidden = true;
  $("nav").hidden = false;
  for (const b of document.querySelectorAll("#nav [data-view]")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  for (const name of ["queue", "dashboard", "kb"]) $(`view-${name}`).hidden = name !== view;
  clearError();
  if (view === "queue") loadQueue().catch(fail);
  if (view === "dashboard") loadDashboard().catch(fail);
  if (view === "kb") loadArticles().catch(fail);
}

async function start() {
  try {
    await api("/v1/messages?limit=1");
  } catch (err) {
    if (err.status !== 401) fail(err);
    return;
  }
  show(state.view);
  findHistoryRoute();
}

// -- queue -----------------------------------------------------------------------------------
function filterQuery(offset) {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  const pairs = { queue: "filter-queue", urgency: "filter-urgency", action: "filter-action", needs_agent: "filter-needs-agent", source: "filter-source" };
  for (const [name, id] of Object.entries(pairs)) if ($(id).value) params.set(name, $(id).value);
  return params.toString();
}

async function loadQueue({ append = false, select = null } = {}) {
  const offset = append ? state.messages.length : 0;
  const page = await api(`/v1/messages?${filterQuery(offset)}`);
  state.messages = append ? state.messages.concat(page.items) : page.items;
  state.total = page.total;
  state.nextOffset = page.next_offset;
  for (const m of page.items) if (m.queue) state.queues.add(m.queue);
  renderQueueFilter();
  renderList();
  const wanted = select || (state.selected && state.selected.id);
  const found = state.messages.find((m) => m.id === wanted);
  if (found) selectMessage(found, { focus: false });
}

function renderQueueFilter() {
  const select = $("filter-queue");
  const have = new Set([...select.options].map((o) => o.value));
  for (const q of [...state.queues].sort()) if (!have.has(q)) select.append(h("option", { value: q }, q));
}

function renderList() {
  const list = $("message-list");
  list.replaceChildren();
  $("list-count").textContent = `(${state.total})`;
  for (const m of state.messages) {
    const urgency = m.urgency || "unknown";
    const selected = state.selected && state.selected.id === m.id;
    const button = h("button", { type: "button", class: "message-row", "aria-pressed": selected ? "true" : "false", onclick: () => selectMessage(m) },
      h("span", { class: `badge urgency-${urgency}` }, urgency),
      h("span", { class: "row-intent" }, m.out_of_scope ? "out of scope" : m.intent || "–"),
      h("span", { class: "row-action" }, m.action ? ACTIONS[m.action] : m.source.replace("_", " ")),
      h("span", { class: "row-text" }, (m.subject ? `${m.subject} — ` : "") + m.text.slice(0, 120)),
      h("time", { datetime: m.created_at }, when(m.created_at)));
    list.append(h("li", {}, button));
  }
  $("more").hidden = state.nextOffset === null;
}

function selectMessage(message, { focus = true } = {}) {
  state.selected = message;
  state.draft = 0;
  $("passage").hidden = true;
  renderList();
  renderDetail(message);
  if (focus) $("detail").focus();
}

function highlighted(text, entities) {
  // Entity offsets point into the stored (redacted) text.
  const spans = entities.filter((e) => e.source === "text").sort((a, b) => a.start - b.start);
  const out = [];
  let at = 0;
  for (const e of spans) {
    if (e.start < at || e.end > text.length) continue;
    out.push(text.slice(at, e.start));
    const type = e.type.replaceAll("_", " ");
    out.push(h("mark", { class: "entity", title: type, "data-type": type }, text.slice(e.start, e.end)));
    at = e.end;
  }
  out.push(text.slice(at));
  return out;
}

function fact(label, ...value) { return [h("dt", {}, label), h("dd", {}, ...value)]; }

function renderDetail(m) {
  const t = m.triage;
  const detail = $("detail");
  detail.setAttribute("tabindex", "-1");
  const alternatives = t.intent.alternatives.slice(0, 3).map((a) => `${a.label} ${pct(a.confidence)}`).join(", ");
  const urgency = t.urgency;
  const parts = [
    h("h3", {}, m.subject || "Message", " ", h("span", { class: "muted" }, `· ${m.channel || "no channel"} · ${when(m.created_at)}`)),
    h("p", { class: "message-text", "aria-label": "Message text" }, ...highlighted(m.text, t.entities)),
    h("dl", { class: "facts" },
      ...fact("Intent", t.intent.out_of_scope ? "out of scope" : t.intent.label, ` (${pct(t.intent.confidence)})`,
        t.intent.ambiguous ? " · ambiguous" : "", alternatives ? h("span", { class: "muted" }, ` · alternatives: ${alternatives}`) : ""),
      ...fact("Urgency", urgency ? h("span", { class: `badge urgency-${urgency.level}` }, urgency.level) : "–",
        urgency && urgency.reasons.length ? ` ${urgency.reasons.join("; ")}` : ""),
      ...fact("Sentiment", t.sentiment ? `${t.sentiment.label} (${t.sentiment.score.toFixed(2)})` : "–"),
      ...fact("Language", t.language ? `${t.language.code}${t.language.supported ? "" : " (not supported)"}` : "–"),
      ...fact("Queue", m.queue ? `${m.queue} · ${m.priority}` : "–"),
      ...fact("Entities", t.entities.length ? t.entities.map((e) => `${e.type.replaceAll("_", " ")}: ${e.value}`).join(", ") : "none")),
  ];
  if (m.action) {
    parts.push(h("section", { class: `decision decision-${m.action}`, "aria-label": "Decision" },
      h("h4", {}, ACTIONS[m.action]),
      h("ul", {}, m.reasons.map((r) => h("li", {}, words(r), " ", h("code", {}, r))))));
  }
  if (m.reply) {
    parts.push(h("section", { class: "sent", "aria-label": "Sent to the customer" }, h("h4", {}, "Sent to the customer"), h("pre", {}, m.reply)));
  }
  if (m.history.length) {
    parts.push(h("section", { "aria-label": "Conversation history" }, h("h4", {}, "Conversation history"),
      h("ol", { class: "history" }, m.history.map((turn) => h("li", { class: `turn-${turn.role}` },
        h("strong", {}, turn.role), turn.at ? ` (${when(turn.at)})` : "", ": ", turn.text)))));
  }
  if (m.drafts.length) parts.push(renderDrafts(m));
  detail.replaceChildren(...parts);
}

function renderDrafts(m) {
  const channel = m.channel && ["email", "chat", "social"].includes(m.channel) ? m.channel : "email";
  const switcher = h("fieldset", { class: "channel-switch" }, h("legend", {}, "Draft form"),
    ["email", "chat", "social"].map((c) => h("label", {},
      h("input", { type: "radio", name: "draft-channel", value: c, checked: c === channel, onchange: () => redraft(m, c) }), ` ${c}`)));
  const cards = m.drafts.map((d, i) => renderDraft(m, d, i));
  return h("section", { class: "drafts", "aria-label": "Drafts" },
    h("h4", {}, "Drafts", m.needs_agent ? h("span", { class: "badge needs-agent" }, "needs agent") : ""), switcher, ...cards);
}

function renderDraft(m, d, i) {
  const chosen = i === state.draft;
  const card = h("div", { class: `draft${chosen ? " chosen" : ""}`, "data-draft": d.id, "aria-label": `Draft ${i + 1}`, role: "group" });
  const body = h("pre", { class: "draft-text" }, d.text);
  const citations = h("ul", { class: "citations", "aria-label": "Citations" },
    d.citations.map((c) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => openPassage(c, d) }, `Open “${c.title}”`))));
  const verdict = h("p", { class: "verdict", role: "status" });
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", onclick: () => accept(m, d, verdict), "aria-keyshortcuts": "a" }, "Accept"),
    h("button", { type: "button", onclick: () => edit(m, d, card, verdict), "aria-keyshortcuts": "e" }, "Edit"),
    h("button", { type: "button", onclick: () => reject(m, d, card, verdict), "aria-keyshortcuts": "r" }, "Reject"));
  card.append(h("h5", {}, `Draft ${i + 1}`, d.grounded ? "" : " (holding reply)", h("span", { class: "muted" }, ` · confidence ${pct(d.confidence)}`)),
    body, citations, actions, verdict);
  card.addEventListener("focusin", () => { state.draft = i; markChosen(); });
  return card;
}

function markChosen() {
  document.querySelectorAll(".draft").forEach((el, i) => el.classList.toggle("chosen", i === state.draft));
}

async function sendFeedback(body, verdict, label) {
  try {
    await api("/v1/feedback", { method: "POST", body });
    verdict.textContent = `${label}: recorded.`;
    say(`${label}: recorded.`);
  } catch (err) {
    verdict.textContent = `Not recorded: ${err.message}`;
    fail(err);
  }
}

function accept(m, d, verdict) {
  return sendFeedback({ suggestion_id: d.id, outcome: "accepted" }, verdict, "Accepted");
}

function edit(m, d, card, verdict) {
  if (card.querySelector(".editor")) { card.querySelector(".editor textarea").focus(); return; }
  const id = `edit-${d.id}`;
  const area = h("textarea", { id, rows: "8" }, d.text);
  const form = h("form", { class: "editor" }, h("label", { for: id }, "Edited reply"), area,
    h("button", { type: "submit" }, "Send edited reply"),
    h("button", { type: "button", onclick: () => form.remove() }, "Cancel edit"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await sendFeedback({ suggestion_id: d.id, outcome: "edited", final_text: area.value }, verdict, "Edited");
    form.remove();
  });
  card.querySelector(".actions").after(form);
  area.focus();
}

function reject(m, d, card, verdict) {
  if (card.querySelector(".rejecter")) { card.querySelector(".rejecter input").focus(); return; }
  const intents = [m.triage.intent.label, ...m.triage.intent.alternatives.map((a) => a.label)].filter((l) => l !== "out_of_scope");
  const listId = `intents-${d.id}`;
  const intent = h("input", { id: `ci-${d.id}`, list: listId, maxlength: "64" });
  const urgency = h("select", { id: `cu-${d.id}` }, h("option", { value: "" }, "keep"),
    ["critical", "high", "normal", "low"].map((u) => h("option", { value: u }, u)));
  const form = h("form", { class: "rejecter" },
    h("label", { for: `ci-${d.id}` }, "Correct intent (optional)"), intent,
    h("datalist", { id: listId }, intents.map((l) => h("option", { value: l }))),
    h("label", { for: `cu-${d.id}` }, "Correct urgency (optional)"), urgency,
    h("button", { type: "submit" }, "Confirm rejection"),
    h("button", { type: "button", onclick: () => form.remove() }, "Cancel rejection"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { suggestion_id: d.id, outcome: "rejected" };
    if (intent.value.trim()) body.correct_intent = intent.value.trim();
    if (urgency.value) body.correct_urgency = urgency.value;
    await sendFeedback(body, verdict, "Rejected");
    form.remove();
  });
  card.querySelector(".actions").after(form);
  intent.focus();
}

async function redraft(m, channel) {
  say(`Writing ${channel} drafts…`);
  try {
    const result = await api("/v1/suggest", {
      method: "POST",
      body: { message: { text: m.text, subject: m.subject, channel }, conversation_id: `console:${m.id}`,
        history: m.history.map((t) => ({ role: t.role, text: t.text, at: t.at })) },
    });
    const drafts = result.suggestions.map((s) => ({ ...s, quotes: s.quotes || [] }));
    // Quoted sentences come with the logged copy of the new suggestion.
    const logged = await api(`/v1/messages?source=suggest&limit=5`);
    const copy = logged.items.find((x) => x.suggestion_id === result.suggestion_id);
    const shown = { ...m, channel, drafts: copy ? copy.drafts : drafts, needs_agent: result.needs_agent };
    state.draft = 0;
    const section = document.querySelector("#detail .drafts");
    section.replaceWith(renderDrafts(shown));
    say(`Drafts in ${channel} form.`);
  } catch (err) { fail(err); }
}

function sentencesMarked(text, quotes) {
  // Find each quoted sentence in the article text (whitespace-insensitive) and mark it.
  // Quotes are sentences of the article's plain text: skip Markdown markup (link targets,
  // brackets, emphasis, headings) while matching, and keep a map back to the source text.
  const skip = new Uint8Array(text.length);
  for (const m of text.matchAll(/\[([^\]\n]*)\]\([^)\n]*\)/g)) {
    skip[m.index] = 1;
    for (let i = m.index + 1 + m[1].length; i < m.index + m[0].length; i++) skip[i] = 1;
  }
  for (const m of text.matchAll(/[*`]|^#+ /gm)) for (let i = m.index; i < m.index + m[0].length; i++) skip[i] = 1;
  const ranges = [];
  const norm = [];
  const map = [];
  for (let i = 0; i < text.length; i++) {
    if (skip[i]) continue;
    if (/\s/.test(text[i])) { if (norm.length && norm[norm.length - 1] === " ") continue; norm.push(" "); }
    else norm.push(text[i]);
    map.push(i);
  }
  const flat = norm.join("");
  for (const q of quotes) {
    const needle = q.replace(/\s+/g, " ").trim();
    const at = needle ? flat.indexOf(needle) : -1;
    if (at >= 0) ranges.push([map[at], map[at + needle.length - 1] + 1]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const out = [];
  let pos = 0;
  for (const [s, e] of ranges) {
    if (s < pos) continue;
    out.push(text.slice(pos, s), h("mark", { class: "quoted" }, text.slice(s, e)));
    pos = e;
  }
  out.push(text.slice(pos));
  return { nodes: out, found: ranges.length };
}

async function openPassage(citation, draft) {
  const panel = $("passage");
  const body = $("passage-body");
  try {
    const doc = await api(`/v1/kb/documents/${encodeURI(citation.doc_id)}`);
    const quotes = (draft.quotes || []).filter((q) => q.doc_id === citation.doc_id).map((q) => q.text);
    const marked = sentencesMarked(doc.text, quotes);
    body.replaceChildren(
      h("h4", {}, doc.title),
      doc.url ? h("p", {}, h("a", { href: doc.url, target: "_blank", rel: "noopener" }, doc.url)) : "",
      h("p", { class: "muted" }, `${marked.found} quoted sentence${marked.found === 1 ? "" : "s"} highlighted`),
      h("div", { class: "article-text" }, ...marked.nodes));
    panel.hidden = false;
    $("passage-title").focus();
  } catch (err) { fail(err); }
}

async function paste(event) {
  event.preventDefault();
  const text = $("paste-text").value;
  if (!text.trim()) return;
  const body = { message: { text, channel: $("paste-channel").value } };
  if ($("paste-subject").value.trim()) body.message.subject = $("paste-subject").value.trim();
  if ($("paste-email").value.trim()) body.customer = { email: $("paste-email").value.trim() };
  say("Triaging…");
  try {
    const result = await api("/v1/respond", { method: "POST", body });
    for (const id of ["filter-queue", "filter-urgency", "filter-action", "filter-needs-agent"]) $(id).value = "";
    $("filter-source").value = "respond";
    await loadQueue();
    // The newest message with this suggestion (or, without drafts, the newest one).
    const mine = state.messages.find((m) => result.suggestion_id && m.suggestion_id === result.suggestion_id) || state.messages[0];
    if (mine) selectMessage(mine);
    $("paste-text").value = "";
    say(`${ACTIONS[result.action]}.`);
  } catch (err) { fail(err); }
}

function shortcut(event) {
  if (state.view !== "queue" || $("view-queue").hidden) return;
  const target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
  const index = state.selected ? state.messages.findIndex((m) => m.id === state.selected.id) : -1;
  const cards = document.querySelectorAll("#detail .draft");
  const card = cards[state.draft];
  const press = (label) => { const b = card && [...card.querySelectorAll(".actions button")].find((x) => x.textContent === label); if (b) b.click(); };
  switch (event.key) {
    case "j": if (state.messages[index + 1]) selectMessage(state.messages[index + 1]); break;
    case "k": if (index > 0) selectMessage(state.messages[index - 1]); break;
    case "1": case "2": case "3":
      if (cards[Number(event.key) - 1]) { state.draft = Number(event.key) - 1; markChosen(); } break;
    case "a": press("Accept"); break;
    case "e": press("Edit"); break;
    case "r": press("Reject"); break;
    case "/": $("paste-text").focus(); break;
    default: return;
  }
  event.preventDefault();
}

// -- dashboard -------------------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function stackedChart(buckets, field, colours, label, bucketSize) {
  if (!buckets.length) return h("p", { class: "muted" }, "No messages in this window.");
  const keys = [...new Set(buckets.flatMap((b) => Object.keys(b[field])))].sort();
  const colour = (k, i) => (colours && colours[k]) || COLOURS[i % COLOURS.length];
  const width = 560, height = 220, left = 36, bottom = 36;
  const max = Math.max(...buckets.map((b) => b.messages));
  const step = (width - left) / buckets.length;
  const bar = Math.max(4, Math.min(48, step * 0.7));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart" });
  svg.append(s("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#94a3b8" }));
  svg.append(s("text", { x: 2, y: 12, class: "axis" }, String(max)));
  svg.append(s("text", { x: 2, y: height - bottom, class: "axis" }, "0"));
  buckets.forEach((b, i) => {
    let y = height - bottom;
    const x = left + i * step + (step - bar) / 2;
    keys.forEach((k, j) => {
      const n = b[field][k] || 0;
      if (!n) return;
      const hgt = (n / max) * (height - bottom - 16);
      y -= hgt;
      svg.append(s("rect", { x, y, width: bar, height: hgt, fill: colour(k, j) }, s("title", {}, `${k}: ${n}`)));
    });
    const start = new Date(b.start);
    const tick = bucketSize === "hour" ? `${start.getHours()}:00` : start.toLocaleDateString();
    if (buckets.length <= 12 || i % Math.ceil(buckets.length / 12) === 0) {
      svg.append(s("text", { x: x + bar / 2, y: height - bottom + 14, class: "axis", "text-anchor": "middle" }, tick));
    }
  });
  const legend = h("ul", { class: "legend" }, keys.map((k, j) => h("li", {}, h("span", { class: "swatch", style: `background:${colour(k, j)}` }), k)));
  const table = h("table", { class: "visually-hidden" }, h("caption", {}, label),
    h("tr", {}, h("th", {}, "bucket"), keys.map((k) => h("th", {}, k))),
    buckets.map((b) => h("tr", {}, h("td", {}, b.start), keys.map((k) => h("td", {}, b[field][k] || 0)))));
  return h("div", {}, svg, legend, table);
}

function hbars(rows, label) {
  if (!rows.length) return h("p", { class: "muted" }, "Nothing yet.");
  const max = Math.max(...rows.map((r) => r.value));
  return h("ul", { class: "hbars", "aria-label": label }, rows.map((r, i) => h("li", {},
    h("span", { class: "hbar-label" }, r.label),
    h("span", { class: "hbar", style: `width:${Math.max(2, (r.value / max) * 100)}%;background:${r.colour || COLOURS[i % COLOURS.length]}` }),
    h("span", { class: "hbar-value" }, String(r.value)))));
}

async function loadDashboard(event) {
  if (event) event.preventDefault();
  const hours = $("dash-window").value;
  const bucket = hours === "24" ? "hour" : "day";
  const params = new URLSearchParams({ bucket });
  if (hours) params.set("since", new Date(Date.now() - Number(hours) * 3600e3).toISOString());
  const stats = await api(`/v1/stats?${params}`);
  const tile = (name, value, id) => h("div", { class: "tile", id }, h("span", { class: "tile-value" }, value), h("span", { class: "tile-name" }, name));
  $("dash-tiles").replaceChildren(
    tile("messages", String(stats.messages), "tile-messages"),
    tile("auto-reply rate", pct(stats.auto_reply_rate), "tile-auto-reply"),
    tile("accepted", pct(stats.acceptance_rate), "tile-accepted"),
    tile("edited", pct(stats.edit_rate), "tile-edited"),
    tile("rejected", pct(stats.rejection_rate), "tile-rejected"),
    tile("mean edit distance", stats.mean_edit_distance === null ? "–" : stats.mean_edit_distance.toFixed(2), "tile-edit-distance"),
    tile("rated drafts", String(stats.rated_suggestions), "tile-rated"));
  $("chart-intents").replaceChildren(stackedChart(stats.volumes, "intents", null, "Messages by intent over time", bucket));
  $("chart-urgency").replaceChildren(stackedChart(stats.volumes, "urgency", URGENCY_COLOURS, "Messages by urgency over time", bucket));
  const outcomeColours = { accepted: "#16a34a", edited: "#d97706", rejected: "#dc2626" };
  $("chart-outcomes").replaceChildren(hbars(["accepted", "edited", "rejected"].map((o) => ({ label: o, value: stats.outcomes[o] || 0, colour: outcomeColours[o] })), "Agent verdicts"));
  $("chart-cited").replaceChildren(hbars(stats.top_cited.map((a) => ({ label: a.title, value: a.count })), "Top cited articles"));
}

// -- knowledge base --------------------------------------------------------------------------
async function findHistoryRoute() {
  // The history route arrives with another feature: show history only when the service has it.
  try {
    const response = await fetch("/openapi.json");
    const spec = await response.json();
    state.historyRoute = Object.keys(spec.paths || {}).find((p) => p.startsWith("/v1/kb/") && p.includes("history")) || null;
  } catch { state.historyRoute = null; }
}

function articleItem(id, title, extra) {
  return h("li", {}, h("button", { type: "button", class: "link", onclick: () => openArticle(id) }, title), extra ? h("span", { class: "muted" }, ` ${extra}`) : "");
}

async function loadArticles() {
  const page = await api("/v1/kb/documents?limit=200");
  $("kb-results-title").textContent = `Articles (${page.total})`;
  $("kb-list").replaceChildren(...page.items.map((d) => articleItem(d.id, d.title, d.tags.join(", "))));
}

async function searchArticles(event) {
  event.preventDefault();
  try {
    const result = await api("/v1/kb/search", { method: "POST", body: { query: $("kb-query").value, k: 10 } });
    $("kb-results-title").textContent = `Search results (${result.results.length})`;
    $("kb-list").replaceChildren(...result.results.map((r) => articleItem(r.doc_id, r.title, `score ${r.score.toFixed(2)} — ${r.snippet.slice(0, 100)}`)));
  } catch (err) { fail(err); }
}

async function openArticle(id) {
  try {
    const doc = await api(`/v1/kb/documents/${encodeURI(id)}`);
    const article = $("kb-article");
    const parts = [
      h("h3", {}, doc.title),
      h("p", { class: "muted" }, `${doc.id} · ${doc.visibility} · ${doc.chunks} passages${doc.tags.length ? " · " + doc.tags.join(", ") : ""}`),
      doc.url ? h("p", {}, h("a", { href: doc.url, target: "_blank", rel: "noopener" }, doc.url)) : "",
      h("div", { class: "article-text" }, doc.text),
      h("button", { type: "button", onclick: () => editArticle(doc) }, "Edit article"),
    ];
    if (state.historyRoute) parts.push(await articleHistory(id));
    article.replaceChildren(...parts);
    article.hidden = false;
    $("kb-form").hidden = true;
  } catch (err) { fail(err); }
}

async function articleHistory(id) {
  const path = state.historyRoute.replace(/\{[^}]+\}/, encodeURI(id));
  try {
    const data = await api(path);
    const items = Array.isArray(data) ? data : data.revisions || data.items || [];
    const line = (v) => [
      v.revision !== undefined ? `revision ${v.revision}` : null,
      v.action,
      v.at ? when(v.at) : null,
      v.actor ? `by ${v.actor}` : null,
      v.restored_from ? `restored from revision ${v.restored_from}` : null,
      v.document ? `“${v.document.title}”` : v.action === "delete" ? "deleted" : null,
    ].filter(Boolean).join(" · ");
    return h("section", { "aria-label": "History" }, h("h4", {}, "History"),
      h("ol", { class: "history" }, items.slice().reverse().map((v) => h("li", {}, line(v)))));
  } catch (err) {
    return h("p", { class: "muted" }, `History unavailable: ${err.message}`);
  }
}

function editArticle(doc) {
  $("kb-id").value = doc ? doc.id : "";
  $("kb-id").readOnly = Boolean(doc);
  $("kb-title-input").value = doc ? doc.title : "";
  $("kb-text").value = doc ? doc.text : "";
  $("kb-url").value = doc && doc.url ? doc.url : "";
  $("kb-tags").value = doc ? doc.tags.join(", ") : "";
  $("kb-form").hidden = false;
  $("kb-article").hidden = true;
  (doc ? $("kb-title-input") : $("kb-id")).focus();
}

async function saveArticle(event) {
  event.preventDefault();
  const id = $("kb-id").value.trim();
  const body = {
    title: $("kb-title-input").value,
    text: $("kb-text").value,
    tags: $("kb-tags").value.split(",").map((t) => t.trim()).filter(Boolean),
  };
  if ($("kb-url").value.trim()) body.url = $("kb-url").value.trim();
  try {
    const result = await api(`/v1/kb/documents/${encodeURI(id)}`, { method: "PUT", body });
    say(`Article ${result.id} ${result.status}.`);
    await loadArticles();
    await openArticle(id);
  } catch (err) { fail(err); }
}

// -- wiring ----------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  for (const b of document.querySelectorAll("#nav [data-view]")) b.addEventListener("click", () => show(b.dataset.view));
  $("paste-form").addEventListener("submit", paste);
  $("filter-form").addEventListener("change", () => { state.selected = null; loadQueue().catch(fail); });
  $("filter-form").addEventListener("submit", (e) => e.preventDefault());
  $("more").addEventListener("click", () => loadQueue({ append: true }).catch(fail));
  $("passage-close").addEventListener("click", () => { $("passage").hidden = true; });
  $("passage-title").setAttribute("tabindex", "-1");
  $("dash-form").addEventListener("submit", (e) => loadDashboard(e).catch(fail));
  $("dash-window").addEventListener("change", () => loadDashboard().catch(fail));
  $("kb-search-form").addEventListener("submit", searchArticles);
  $("kb-new").addEventListener("click", () => editArticle(null));
  $("kb-cancel").addEventListener("click", () => { $("kb-form").hidden = true; });
  $("kb-form").addEventListener("submit", saveArticle);
  document.addEventListener("keydown", shortcut);
  start();
});
