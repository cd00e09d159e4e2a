// The active 5-hour block (GET /api/v1/blocks?active=true) with its burn rate and projection, and the
// official limits when Claude Code has reported them (GET /api/v1/limits). Either endpoint may not exist
// on this service yet: the panel says so, and fills in as soon as it answers.

import { clock, compact, duration, esc, int, label, money, parseTime, relative } from "../format.js";

const first = (...values) => values.find((v) => v !== undefined && v !== null);

export function renderBlock(el, { blocks, limits, tz }) {
  const parts = [];
  if (blocks.missing) {
    parts.push(`<p class="empty">5-hour blocks are not available on this service yet <span class="muted">(${esc(blocks.reason)})</span>.</p>`);
  } else {
    const active = (blocks.blocks || []).filter((b) => b.is_active && !b.is_gap);
    if (!active.length) parts.push('<p class="empty">No active block: the next request starts one.</p>');
    for (const b of active.slice(0, 3)) parts.push(blockHtml(b, tz, active.length > 1));
  }
  parts.push(limitsHtml(limits, tz));
  el.innerHTML = parts.join("");
}

function blockHtml(b, tz, showWho) {
  const now = new Date();
  const start = parseTime(b.start);
  const end = parseTime(b.end);
  const span = end - start;
  const elapsed = Math.min(Math.max(now - start, 0), span);
  const p = b.projection || {};
  const remainingMin = first(p.remaining_minutes, b.remaining_minutes, b.minutes_remaining, span ? (end - now) / 60000 : null);
  const projCost = first(p.cost_usd, p.total_cost_usd, p.projected_cost_usd);
  const projTokens = first(p.total_tokens, p.tokens, p.projected_tokens);
  const tokens = (b.input_tokens || 0) + (b.output_tokens || 0) + (b.cache_read_tokens || 0) + (b.cache_creation_tokens || 0);
  const rate = b.burn_rate || {};
  const who = showWho ? first(b.user, b.filters?.user, "") : "";
  return `<div class="block" data-block-start="${esc(b.start)}">
    <div class="block-head">
      <span>${who ? `<strong>${esc(label(who))}</strong> · ` : ""}${esc(clock(start, tz))} – ${esc(clock(end, tz))}</span>
      <span class="muted">${remainingMin !== null ? esc(duration(Math.max(remainingMin, 0) * 60000)) + " left" : ""}</span>
    </div>
    <div class="meter" role="meter" aria-label="time elapsed in the block" aria-valuemin="0" aria-valuemax="100"
      aria-valuenow="${span ? Math.round((elapsed / span) * 100) : 0}"><span style="width:${span ? (elapsed / span) * 100 : 0}%"></span></div>
    <dl class="facts">
      <div><dt>Cost so far</dt><dd class="big" data-value="${b.cost_usd ?? ""}">${esc(money(b.cost_usd))}</dd></div>
      <div><dt>Tokens</dt><dd title="${int(tokens)}">${compact(tokens)}</dd></div>
      <div><dt>Requests</dt><dd>${int(b.requests)}</dd></div>
      <div><dt>Burn rate</dt><dd>${rate.cost_per_hour !== undefined ? esc(money(rate.cost_per_hour)) + "/h" : "—"}
        <span class="muted">${rate.tokens_per_minute !== undefined ? compact(Math.round(rate.tokens_per_minute)) + " tok/min" : ""}</span></dd></div>
      ${projCost !== undefined || projTokens !== undefined ? `<div><dt>Projected by ${esc(clock(end, tz))}</dt>
        <dd>${projCost !== undefined ? esc(money(projCost)) : ""} <span class="muted">${projTokens !== undefined ? compact(projTokens) + " tok" : ""}</span></dd></div>` : ""}
    </dl>
    <div class="chips">${(b.models || []).map((m) => `<span class="chip">${esc(m)}</span>`).join(" ")}</div>
  </div>`;
}

function limitsHtml(limits, tz) {
  if (!limits || limits.missing) {
    return `<p class="muted small">Official limits: not available on this service yet${limits?.reason ? ` (${esc(limits.reason)})` : ""}.</p>`;
  }
  const windows = limits.windows || {};
  const names = { five_hour: "5-hour limit", seven_day: "7-day limit" };
  const known = Object.entries(windows).filter(([, w]) => w && w.used_percentage !== undefined && w.used_percentage !== null);
  if (!known.length) {
    return '<p class="muted small">Official limits: none reported yet (Claude Code sends them to a statusline command, for subscribers).</p>';
  }
  return `<div class="limits">${known.map(([key, w]) => {
    const pct = Math.max(0, Math.min(100, Number(w.used_percentage)));
    const tone = pct >= 90 ? "danger" : pct >= 70 ? "warning" : "";
    const reset = parseTime(w.resets_at);
    const seen = parseTime(w.observed_at);
    return `<div class="limit" data-window="${esc(key)}">
      <div class="block-head"><span>${esc(names[key] || key)}
        <span class="badge ${w.source === "official" ? "ok" : ""}">${esc(w.source || "")}</span>${w.stale ? ' <span class="badge warn">stale</span>' : ""}</span>
        <span><strong>${pct.toFixed(pct < 10 ? 1 : 0)} %</strong></span></div>
      <div class="meter ${tone}" role="meter" aria-label="${esc(names[key] || key)} used" aria-valuemin="0" aria-valuemax="100"
        aria-valuenow="${pct}"><span style="width:${pct}%"></span></div>
      <p class="muted small">${reset ? `resets ${esc(relative(reset))} (${esc(clock(reset, tz))})` : ""}${seen ? ` · observed ${esc(relative(seen))}` : ""}</p>
    </div>`;
  }).join("")}</div>`;
}
