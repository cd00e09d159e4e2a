// The dashboard's controller: reads the view from the URL, asks the public API for every panel at once,
// renders each panel as its answer arrives, and refreshes itself without reloading the page.
//
// Refresh rules: one refresh at a time (a timer tick while one runs is skipped; a change of view cancels
// the running one), none while the tab is hidden (one runs when it is shown again), and the next one is
// scheduled only when the last has finished, so a slow service never gets a pile of requests.

import { getJSON, optional } from "./api.js";
import { StackedCostChart } from "./charts.js";
import { clock, esc, label, money } from "./format.js";
import { renderBlock } from "./panels/block.js";
import { renderBudgets } from "./panels/budgets.js";
import { costSeries } from "./panels/costchart.js";
import { renderDrilldown } from "./panels/drilldown.js";
import { renderOverview } from "./panels/overview.js";
import { renderSessions } from "./panels/sessions.js";
import { renderTable } from "./panels/tables.js";
import { FILTER_DIMS, buckets, periodText, periodWindow, readState, stateQuery } from "./state.js";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const TABLE_DIMS = ["agent", "user", "project", "attr.team"];
const TOP_SESSIONS = 10;

let state = readState();
let running = null; // the AbortController of the refresh in flight
let timer = null;
let missedWhileHidden = false;
let generation = 0;
let lastOk = null;
const chart = new StackedCostChart($("#cost-chart"));
const rendered = new Map(); // panel -> JSON of what it shows, to skip redrawing what did not change

// -- view changes ---------------------------------------------------------------------------------

function navigate(change, { push = true, reload = true } = {}) {
  change(state);
  const url = location.pathname + stateQuery(state);
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  syncControls();
  if (reload) refresh({ force: true });
}

window.addEventListener("popstate", () => {
  state = readState();
  syncControls();
  if (!state.session && $("#drilldown").open) $("#drilldown").close();
  refresh({ force: true });
});

function setFilter(dim, value) {
  navigate((s) => {
    if (value === null || value === undefined) delete s.filters[dim];
    else s.filters[dim] = value;
  });
}

function openSession(id) {
  navigate((s) => { s.session = id; }, { reload: false });
  loadSession().catch(() => {});
}

// -- controls -------------------------------------------------------------------------------------

function initControls() {
  $$("[data-period]").forEach((b) => b.addEventListener("click", () => navigate((s) => {
    if (b.dataset.period === "custom" && s.period !== "custom") {
      const win = periodWindow(s); // a custom period starts as the one on screen
      s.from = win.first;
      s.to = win.last;
    }
    s.period = b.dataset.period;
  })));
  for (const id of ["from", "to"]) {
    $("#" + id).addEventListener("change", (e) => {
      if (!e.target.value) return;
      navigate((s) => {
        s[id] = e.target.value;
        if (s.from > s.to) [s.from, s.to] = [s.to, s.from];
      });
    });
  }
  $$("[data-filter]").forEach((sel) => sel.addEventListener("change", () => {
    // option values are "=" + the value, so that an empty value (e.g. no project) stays a value
    setFilter(sel.dataset.filter, sel.value === "" ? null : sel.value.slice(1));
  }));
  $("#refresh").addEventListener("change", (e) => {
    navigate((s) => { s.refresh = Number(e.target.value); }, { push: false, reload: false });
    if (!running) schedule();
  });
  $("#theme").addEventListener("click", cycleTheme);
  $("#drilldown").addEventListener("close", () => {
    if (state.session) navigate((s) => { s.session = ""; }, { reload: false });
  });
  $("#dd-close").addEventListener("click", () => $("#drilldown").close());
  // the system switching between light and dark redraws the chart in the new colours
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    rendered.delete("chart");
    refresh({ force: true });
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && missedWhileHidden) {
      missedWhileHidden = false;
      refresh();
    }
  });
  syncControls();
}

function syncControls() {
  $$("[data-period]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.period === state.period)));
  $(".custom-range").hidden = state.period !== "custom";
  $("#from").value = state.from;
  $("#to").value = state.to;
  const refresh = $("#refresh");
  if (![...refresh.options].some((o) => Number(o.value) === state.refresh)) {
    refresh.add(new Option(`${state.refresh} s`, String(state.refresh)));
  }
  refresh.value = String(state.refresh);
  renderChips();
  renderThemeButton();
  const win = periodWindow(state);
  $("#window").textContent = `${periodText(win, state).span} · ${state.tz}`;
  $("#api-links").innerHTML = `<a href="${esc(apiLink())}">this view's usage as JSON</a>`;
}

function apiLink() {
  const win = periodWindow(state);
  const q = new URLSearchParams({ group_by: `${win.granularity},model`, since: win.current.since, tz: state.tz, ...state.filters });
  if (win.current.until) q.set("until", win.current.until);
  return `/api/v1/usage?${q}`;
}

function renderChips() {
  const extra = Object.entries(state.filters).filter(([k]) => !FILTER_DIMS.includes(k));
  $("#chips").innerHTML = extra.map(([k, v]) => `<span class="chip filter">${esc(k)} = ${esc(label(v))}
    <button type="button" data-unset="${esc(k)}" aria-label="Remove filter ${esc(k)}">✕</button></span>`).join("");
  $$("[data-unset]").forEach((b) => b.addEventListener("click", () => setFilter(b.dataset.unset, null)));
}

/** The four filter menus, each listing the values present under the other filters (cost first). */
function renderFacets(body) {
  for (const sel of $$("[data-filter]")) {
    const dim = sel.dataset.filter;
    const others = Object.entries(state.filters).filter(([k]) => k !== dim && FILTER_DIMS.includes(k));
    const costs = new Map();
    for (const row of body.rows || []) {
      if (others.every(([k, v]) => row[k] === v)) costs.set(row[dim], (costs.get(row[dim]) || 0) + (row.cost_usd || 0));
    }
    const current = state.filters[dim];
    if (current !== undefined && !costs.has(current)) costs.set(current, null);
    const values = [...costs.entries()].sort((a, b) => (b[1] || 0) - (a[1] || 0) || String(a[0]).localeCompare(String(b[0])));
    const html = '<option value="">All</option>' + values.map(([v, cost]) =>
      `<option value="=${esc(v)}"${v === current ? " selected" : ""}>${esc(label(v))}${cost !== null ? " · " + esc(money(cost, 3)) : ""}</option>`).join("");
    if (sel.innerHTML !== html) sel.innerHTML = html;
    sel.value = current === undefined ? "" : "=" + current;
    sel.closest("label").classList.toggle("set", current !== undefined);
  }
}

// -- theme ----------------------------------------------------------------------------------------

function cycleTheme() {
  const order = ["auto", "light", "dark"];
  const now = document.documentElement.dataset.theme || "auto";
  const next = order[(order.indexOf(now) + 1) % order.length];
  if (next === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = next;
  localStorage.setItem("cctelemetry.theme", next);
  if (state.theme) navigate((s) => { s.theme = ""; }, { push: false, reload: false });
  renderThemeButton();
  rendered.delete("chart");
  refresh({ force: true });
}

function renderThemeButton() {
  const t = document.documentElement.dataset.theme || "auto";
  const b = $("#theme");
  b.textContent = { auto: "◐", light: "☀", dark: "☾" }[t];
  b.title = `Theme: ${t} (click to change)`;
  b.setAttribute("aria-label", `Theme: ${t}`);
}

// -- loading --------------------------------------------------------------------------------------

function schedule() {
  clearTimeout(timer);
  if (state.refresh > 0) {
    timer = setTimeout(() => {
      if (document.hidden) missedWhileHidden = true;
      else refresh();
    }, state.refresh * 1000);
  }
}

async function refresh({ force = false } = {}) {
  if (running && !force) return;
  running?.abort();
  const ctl = new AbortController();
  running = ctl;
  clearTimeout(timer);
  document.body.dataset.state = "loading";
  setStatus("Updating…");
  const errors = [];
  const tasks = panelTasks(ctl.signal).map((t) => t.catch((err) => {
    if (err.name !== "AbortError") errors.push(err);
  }));
  if (state.session) tasks.push(loadSession(ctl.signal).catch(() => {}));
  await Promise.all(tasks);
  if (ctl.signal.aborted) return;
  running = null;
  generation += 1;
  if (errors.length) {
    const unreachable = errors.some((e) => e.code === "unreachable");
    setStatus(unreachable ? `⚠ The service does not answer${lastOk ? "; showing data from " + clock(lastOk, state.tz) : ""}`
      : `⚠ ${errors[0].message}`, true);
  } else {
    lastOk = new Date();
    setStatus(`Updated ${lastOk.toLocaleTimeString("en-US", { hourCycle: "h23" })}`);
  }
  document.body.dataset.generation = String(generation);
  document.body.dataset.state = errors.length ? "error" : "ready";
  if (generation === 1) recordFirstLoad();
  schedule();
}

/** Every API call of a refresh, fired together; each panel renders when its own answers are in. */
function panelTasks(signal) {
  const now = new Date();
  const win = periodWindow(state, now);
  const gran = win.granularity;
  const keys = buckets(win, gran, now, state.tz);
  const base = { tz: state.tz, mode: state.mode, ...state.filters };
  const current = { ...base, since: win.current.since, until: win.current.until };
  const previousParams = { ...base, since: win.previous.since, until: win.previous.until };
  const nonMenuFilters = Object.fromEntries(Object.entries(state.filters).filter(([k]) => !FILTER_DIMS.includes(k)));
  const text = periodText(win, state);
  $("#granularity").textContent = `per ${gran} · ${text.span}`;

  const usage = getJSON("usage", { ...current, group_by: `${gran},model` }, signal);
  const previous = getJSON("usage", previousParams, signal).catch((err) => {
    if (err.name === "AbortError") throw err;
    return { missing: true };
  });
  const tasks = [
    usage.then((body) => {
      draw("chart", body, () => renderChart(body, keys, gran));
      draw("notices", body.unpriced_models, () => renderNotices(body));
    }),
    Promise.all([usage, previous]).then(([body, prev]) => draw("overview", [body.totals, prev.totals, text.previous], () => {
      renderOverview($("#overview"), { totals: body.totals, previous: prev.missing ? null : prev.totals, unpriced: body.unpriced_models, periodText: text });
      document.title = `${money(body.totals.requests ? body.totals.cost_usd : 0)} ${text.name} · cctelemetry`;
    })),
    getJSON("usage", { tz: state.tz, mode: state.mode, ...nonMenuFilters, since: win.current.since, until: win.current.until,
      group_by: FILTER_DIMS.join(",") }, signal).then((body) => renderFacets(body)),
    getJSON("sessions", { ...current, order: "cost", limit: TOP_SESSIONS }, signal).then((body) =>
      draw("sessions", body, () => renderSessions($("#sessions .body"), body, { tz: state.tz, onOpen: openSession }))),
    Promise.all([optional("blocks", { active: "true", tz: state.tz, mode: state.mode, ...state.filters }, signal),
      optional("limits", {}, signal)]).then(([blocks, limits]) =>
      draw("block", [blocks, limits], () => renderBlock($("#block .body"), { blocks, limits, tz: state.tz }))),
    Promise.all([optional("budgets", {}, signal), optional("alerts", {}, signal)]).then(([budgets, alerts]) =>
      draw("budgets", [budgets, alerts], () => renderBudgets($("#budgets .body"), { budgets, alerts }))),
  ];
  for (const dim of TABLE_DIMS) {
    const el = $(`[data-dim="${dim}"] .body`);
    tasks.push(optional("usage", { ...current, group_by: `${gran},${dim}` }, signal).then((body) =>
      draw("table:" + dim, [body, keys, state.filters[dim]], () => renderTable(el, dim, body, {
        granularity: gran, bucketKeys: keys, activeValue: state.filters[dim], onPick: setFilter,
      }))));
  }
  return tasks;
}

function draw(panel, data, render) {
  const key = JSON.stringify(data);
  if (rendered.get(panel) === key) return;
  render();
  rendered.set(panel, key);
}

function renderChart(body, keys, gran) {
  const { labels, series } = costSeries(body.rows, keys, gran);
  $("#cost-chart-empty").hidden = body.rows.length > 0;
  $(".chart-box").hidden = body.rows.length === 0;
  chart.update({ labels, series });
  $("#cost-chart").setAttribute("aria-label", `Cost over time by model: ${series.map((s) => `${s.name} ${money(s.total ?? 0)}`).join(", ")}`);
}

function renderNotices(body) {
  const unpriced = body.unpriced_models || [];
  if (!unpriced.length) {
    $("#notices").innerHTML = "";
    return;
  }
  const uncounted = new Set(body.rows.filter((r) => r.cost_usd === null).map((r) => r.model));
  $("#notices").innerHTML = `<p class="notice warn" role="note"><strong>Not in the price book:</strong>
    ${unpriced.map((m) => `<code>${esc(m)}</code>${uncounted.has(m) ? " (cost unknown, not counted — never $0)" : " (cost as the client reported it; not computed)"}`).join(", ")}.
    Add prices with <code>CCTELEMETRY_PRICES_FILE</code>.</p>`;
}

async function loadSession(signal) {
  const dialog = $("#drilldown");
  const body = $(".dd-body", dialog);
  const id = state.session;
  if (!id) return;
  if (!dialog.open) {
    rendered.delete("session");
    body.innerHTML = '<p class="empty">Loading…</p>';
    dialog.showModal();
  }
  try {
    const path = `sessions/${encodeURIComponent(id)}`;
    const [detail, timeline] = await Promise.all([
      getJSON(path, { mode: state.mode }, signal),
      optional(`${path}/timeline`, { mode: state.mode }, signal).catch(() => ({ missing: true })),
    ]);
    if (state.session !== id) return;
    draw("session", [detail, timeline], () => renderDrilldown(body, $("#dd-title"), detail, timeline, state.tz));
    dialog.dataset.state = "ready";
  } catch (err) {
    if (err.name === "AbortError") throw err;
    rendered.delete("session");
    body.innerHTML = `<p class="empty">${err.status === 404 ? "No such session." : esc(err.message)}</p>`;
    dialog.dataset.state = "error";
  }
}

function setStatus(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

/** For `make bench` and the browser test: how long the first full load took, and what it asked. */
function recordFirstLoad() {
  const ms = performance.now(); // since the navigation started: page, scripts, every API call, rendering
  const calls = performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/v1/"));
  const apiMs = calls.length ? Math.max(...calls.map((e) => e.responseEnd)) - Math.min(...calls.map((e) => e.startTime)) : 0;
  window.cctelemetryFirstLoad = { ms, apiMs, calls: calls.map((e) => ({ url: e.name, start: e.startTime, ms: e.duration })) };
  document.body.dataset.firstLoadMs = ms.toFixed(1);
}

initControls();
refresh();
