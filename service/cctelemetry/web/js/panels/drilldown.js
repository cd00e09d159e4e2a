// Session drill-down: the session's prompts, model requests and tools on one timeline, with the
// cumulative cost under it, then the requests in order. From GET /api/v1/sessions/{id}; when the
// service has GET /api/v1/sessions/{id}/timeline, its interactions mark the prompts.

import { colorsFor } from "../charts.js";
import { clock, compact, dateTime, duration, esc, int, label, money, parseTime } from "../format.js";

const MAX_TABLE_ROWS = 1000;
const first = (...values) => values.find((v) => v !== undefined && v !== null);

function span(endValue, ms) {
  const end = parseTime(endValue)?.getTime();
  return { start: end - (Number(ms) || 0), end };
}

/** Prompts: the service's timeline interactions when it has them, else the events grouped by prompt id. */
function interactions(detail, timeline) {
  if (timeline && !timeline.missing && Array.isArray(timeline.interactions)) {
    return timeline.interactions.map((it, i) => {
      const start = parseTime(first(it.start, it.started_at, it.timestamp))?.getTime();
      const endRaw = parseTime(first(it.end, it.ended_at))?.getTime();
      const ms = first(it.duration_ms, endRaw && start ? endRaw - start : null, 0);
      return { start, end: start + ms, name: first(it.prompt_id, it.id, `#${i + 1}`) };
    }).filter((x) => Number.isFinite(x.start));
  }
  const prompts = new Map();
  for (const e of detail.events || []) {
    if (!e.prompt_id) continue;
    const t = parseTime(e.timestamp).getTime();
    const p = prompts.get(e.prompt_id) || { start: t, end: t, name: e.prompt_id };
    p.start = Math.min(p.start, t);
    p.end = Math.max(p.end, t);
    prompts.set(e.prompt_id, p);
  }
  return [...prompts.values()];
}

export function timelineLanes(detail, timeline) {
  const requests = (detail.requests || []).map((r) => ({ ...span(r.timestamp, r.duration_ms), r }));
  const tools = (detail.tool_results || []).map((t) => ({ ...span(t.timestamp, t.duration_ms), t }));
  const prompts = interactions(detail, timeline);
  const lanes = [];
  if (prompts.length) lanes.push({ name: "prompts", kind: "prompt", items: prompts });
  const models = [...new Set(requests.map((x) => x.r.model))];
  const colors = colorsFor(models);
  for (const m of models) lanes.push({ name: m, kind: "request", color: colors[m], items: requests.filter((x) => x.r.model === m) });
  for (const name of [...new Set(tools.map((x) => x.t.tool_name || "tool"))].sort()) {
    lanes.push({ name: name, kind: "tool", items: tools.filter((x) => (x.t.tool_name || "tool") === name) });
  }
  return { lanes, requests, tools };
}

export function renderDrilldown(el, titleEl, detail, timeline, tz) {
  const s = detail.session || {};
  titleEl.textContent = `Session ${s.session || ""}`;
  const { lanes, requests } = timelineLanes(detail, timeline);
  const all = lanes.flatMap((l) => l.items).filter((x) => Number.isFinite(x.start));
  const t0 = Math.min(...all.map((x) => x.start));
  const t1 = Math.max(...all.map((x) => x.end));
  const total = Math.max(t1 - t0, 1);
  const pos = (t) => (((t - t0) / total) * 100).toFixed(3);
  const tokens = (s.input_tokens || 0) + (s.output_tokens || 0) + (s.cache_read_tokens || 0) + (s.cache_creation_tokens || 0);

  let cumulative = 0;
  const ordered = [...requests].sort((a, b) => a.end - b.end);
  const steps = ordered.map((x) => ({ t: x.end, cost: (cumulative += x.r.cost_usd || 0) }));

  el.innerHTML = `
    <dl class="facts session-facts">
      <div><dt>Cost</dt><dd class="big" data-value="${s.cost_usd ?? ""}">${esc(money(s.cost_usd))}</dd></div>
      <div><dt>Requests</dt><dd data-value="${s.requests ?? ""}">${int(s.requests)}</dd></div>
      <div><dt>Tokens</dt><dd title="${int(tokens)}">${compact(tokens)}</dd></div>
      <div><dt>Length</dt><dd>${esc(duration(parseTime(s.last_seen) - parseTime(s.first_seen)))}</dd></div>
      <div><dt>Started</dt><dd>${esc(dateTime(s.first_seen, tz, true))}</dd></div>
      <div><dt>User</dt><dd title="${esc(s.user)}">${esc(label(s.user))}</dd></div>
      <div><dt>Project</dt><dd>${esc(label(s.project))}</dd></div>
      <div class="wide"><dt>Agents</dt><dd>${(s.agents || []).map((a) => `<span class="chip">${esc(a)}</span>`).join(" ")}</dd></div>
    </dl>
    ${(s.unknown_models || []).length ? `<p class="notice warn">Not in the price book: ${s.unknown_models.map(esc).join(", ")}: computed cost unknown (not $0).</p>` : ""}
    ${all.length ? timelineHtml(lanes, steps, { t0, total, pos, tz }) : '<p class="empty">Nothing to show on a timeline.</p>'}
    <h3 class="sub">Requests <span class="muted">(${int(requests.length)})</span></h3>
    ${requestsTable(ordered, tz)}
    ${toolsTable(detail.tool_results || [], tz)}
    ${errorsList(detail.errors || [], tz)}`;
}

function timelineHtml(lanes, steps, { t0, total, pos, tz }) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<span style="left:${f * 100}%">${f === 0 ? esc(clock(new Date(t0), tz)) : "+" + esc(duration(total * f))}</span>`).join("");
  const maxCost = steps.length ? steps[steps.length - 1].cost : 0;
  let path = "";
  if (steps.length && maxCost > 0) {
    const y = (c) => (40 - (c / maxCost) * 38).toFixed(2);
    let prev = 0;
    path = `M0,40 ` + steps.map((st) => {
      const x = pos(st.t) * 10;
      const seg = `L${x},${y(prev)} L${x},${y(st.cost)}`;
      prev = st.cost;
      return seg;
    }).join(" ") + ` L1000,${y(prev)}`;
  }
  return `<div class="timeline" role="group" aria-label="Session timeline">
    ${lanes.map((lane) => `<div class="lane lane-${lane.kind}">
      <div class="lane-name" title="${esc(lane.name)}"><span class="kind">${{ tool: "tool", prompt: "user", request: "model" }[lane.kind]}</span> ${esc(lane.kind === "prompt" ? "prompts" : lane.name)}</div>
      <div class="track">${lane.items.map((x) => itemHtml(lane, x, pos, total)).join("")}</div>
    </div>`).join("")}
    <div class="lane lane-cost">
      <div class="lane-name">Cumulative cost<br><strong>${esc(money(maxCost))}</strong></div>
      <div class="track"><svg viewBox="0 0 1000 40" preserveAspectRatio="none" aria-label="cumulative cost">
        <path d="${path}" fill="none" stroke="var(--accent)" stroke-width="2" vector-effect="non-scaling-stroke"/></svg></div>
    </div>
    <div class="lane axis"><div class="lane-name"></div><div class="track ticks">${ticks}</div></div>
  </div>`;
}

function itemHtml(lane, x, pos, total) {
  const width = Math.max(((x.end - x.start) / total) * 100, 0.35);
  let title;
  let cls = "item";
  let style = `left:${pos(x.start)}%;width:${width.toFixed(3)}%`;
  if (lane.kind === "request") {
    const r = x.r;
    title = `${r.model} · ${r.agent} · ${money(r.cost_usd)} · in ${int(r.input_tokens)}, out ${int(r.output_tokens)}, cache read ${int(r.cache_read_tokens)}, write ${int(r.cache_creation_tokens)} · ${duration(r.duration_ms)}`;
    style += `;background:${lane.color}`;
  } else if (lane.kind === "tool") {
    const ok = x.t.success !== "false";
    title = `${x.t.tool_name} · ${ok ? "succeeded" : "failed"} · ${duration(x.t.duration_ms)}`;
    cls += ok ? " ok" : " failed";
  } else {
    title = `prompt ${x.name} · ${duration(x.end - x.start)}`;
  }
  return `<span class="${cls}" style="${style}" title="${esc(title)}" tabindex="0" aria-label="${esc(title)}"></span>`;
}

function requestsTable(ordered, tz) {
  if (!ordered.length) return '<p class="empty">No model requests.</p>';
  let cumulative = 0;
  const rows = ordered.map((x, i) => {
    const r = x.r;
    cumulative += r.cost_usd || 0;
    if (i >= MAX_TABLE_ROWS) return "";
    return `<tr data-request="${esc(r.request_id)}">
      <td class="num">${i + 1}</td><td class="mono">${esc(dateTime(r.timestamp, tz, true))}</td>
      <td>${esc(r.model)}</td><td>${esc(r.agent)}</td>
      <td class="num">${int(r.input_tokens)}</td><td class="num">${int(r.output_tokens)}</td>
      <td class="num">${int(r.cache_read_tokens)}</td><td class="num">${int(r.cache_creation_tokens)}</td>
      <td class="num">${esc(duration(r.duration_ms))}</td>
      <td class="num money" data-value="${r.cost_usd ?? ""}">${esc(money(r.cost_usd))}${r.priced_model === "" ? ' <span class="warn" title="not in the price book">⚠</span>' : ""}</td>
      <td class="num money">${esc(money(cumulative))}</td></tr>`;
  }).join("");
  const cut = ordered.length > MAX_TABLE_ROWS ? `<p class="muted small">First ${int(MAX_TABLE_ROWS)} of ${int(ordered.length)} requests shown; the API has them all.</p>` : "";
  return `<div class="table-wrap"><table class="data requests">
    <thead><tr><th scope="col" class="num">#</th><th scope="col">Time</th><th scope="col">Model</th><th scope="col">Agent</th>
      <th scope="col" class="num">Input</th><th scope="col" class="num">Output</th><th scope="col" class="num">Cache read</th>
      <th scope="col" class="num">Cache write</th><th scope="col" class="num">Duration</th><th scope="col" class="num">Cost</th>
      <th scope="col" class="num">Cumulative</th></tr></thead><tbody>${rows}</tbody></table></div>${cut}`;
}

function toolsTable(tools, tz) {
  if (!tools.length) return "";
  return `<h3 class="sub">Tools <span class="muted">(${int(tools.length)})</span></h3><div class="table-wrap"><table class="data tools">
    <thead><tr><th scope="col">Time</th><th scope="col">Tool</th><th scope="col">Result</th><th scope="col" class="num">Duration</th></tr></thead>
    <tbody>${tools.slice(0, MAX_TABLE_ROWS).map((t) => `<tr><td class="mono">${esc(dateTime(t.timestamp, tz, true))}</td><td>${esc(t.tool_name)}</td>
      <td>${t.success === "false" ? '<span class="badge danger">failed</span>' : '<span class="badge ok">ok</span>'}${t.error ? " " + esc(t.error) : ""}</td>
      <td class="num">${esc(duration(t.duration_ms))}</td></tr>`).join("")}</tbody></table></div>`;
}

function errorsList(errors, tz) {
  if (!errors.length) return "";
  return `<h3 class="sub">Errors <span class="muted">(${int(errors.length)})</span></h3><ul class="alerts">${errors.slice(0, 100).map((e) => `<li>
    <span class="badge danger">${esc(e.status_code || e.event_name)}</span> ${esc(e.tool_name || "")} ${esc(e.error || "")}
    <span class="muted">${esc(dateTime(e.timestamp, tz, true))}</span></li>`).join("")}</ul>`;
}
