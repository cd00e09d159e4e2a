// Tables by agent, user, project and attr.team, each row with a sparkline of its cost over the period.
// A click on a value filters the whole page by it.

import { sparkline } from "../charts.js";
import { compact, esc, int, label, money, percent } from "../format.js";
import { cacheHitRatio } from "./overview.js";

const TOP = 8;
const expanded = new Set();

/** Rows of `group_by=<granularity>,<dim>` -> one entry per value with totals and a cost series. */
export function aggregate(rows, dim, granularity, bucketKeys) {
  const index = new Map(bucketKeys.map((k, i) => [k, i]));
  const groups = new Map();
  for (const row of rows) {
    const key = row[dim] ?? "";
    let g = groups.get(key);
    if (!g) {
      g = { value: key, requests: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0,
        cache_creation_tokens: 0, cost_usd: null, unpriced: false, spark: new Array(bucketKeys.length).fill(0) };
      groups.set(key, g);
    }
    for (const m of ["requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"]) g[m] += row[m] || 0;
    if (row.cost_usd !== null && row.cost_usd !== undefined) g.cost_usd = (g.cost_usd || 0) + row.cost_usd;
    g.unpriced ||= (row.unknown_models || []).length > 0;
    const i = index.get(row[granularity]);
    if (i !== undefined) g.spark[i] += row.cost_usd || 0;
  }
  return [...groups.values()].sort((a, b) => (b.cost_usd || 0) - (a.cost_usd || 0) || b.requests - a.requests
    || String(a.value).localeCompare(String(b.value)));
}

export function renderTable(el, dim, result, { granularity, bucketKeys, activeValue, onPick }) {
  if (result.missing) {
    el.innerHTML = `<p class="empty">Not available on this service yet <span class="muted">(${esc(result.reason)})</span>.</p>`;
    return;
  }
  const groups = aggregate(result.rows, dim, granularity, bucketKeys);
  if (!groups.length) {
    el.innerHTML = '<p class="empty">No requests in this period.</p>';
    return;
  }
  if (dim.startsWith("attr.") && groups.every((g) => g.value === "")) {
    const key = dim.slice(5);
    el.innerHTML = `<p class="empty">No request in this period carries the resource attribute <code>${esc(key)}</code>.
      Set it where the agent runs, e.g. <code>OTEL_RESOURCE_ATTRIBUTES="${esc(key)}=platform"</code>.</p>`;
    return;
  }
  const total = groups.reduce((sum, g) => sum + (g.cost_usd || 0), 0);
  const open = expanded.has(dim);
  const shown = open ? groups : groups.slice(0, TOP);
  const rows = shown.map((g) => {
    const tokens = g.input_tokens + g.output_tokens + g.cache_read_tokens + g.cache_creation_tokens;
    const share = total > 0 ? (g.cost_usd || 0) / total : 0;
    const active = activeValue !== undefined && activeValue === g.value;
    return `<tr class="${active ? "active" : ""}">
      <th scope="row"><button type="button" class="linklike" data-pick="${esc(g.value)}" title="Filter by ${esc(dim)} = ${esc(g.value === "" ? "(none)" : g.value)}">${esc(label(g.value))}</button></th>
      <td class="trend">${sparkline(g.spark, { title: `cost of ${label(g.value)} over the period` })}</td>
      <td class="num money" data-value="${g.cost_usd ?? ""}">${esc(money(g.cost_usd))}${g.unpriced ? ' <span class="warn" title="includes a model not in the price book">⚠</span>' : ""}</td>
      <td class="num share"><span class="bar" style="--share:${(share * 100).toFixed(1)}%"></span>${percent(share, 0)}</td>
      <td class="num">${int(g.requests)}</td>
      <td class="num" title="${int(tokens)} tokens">${compact(tokens)}</td>
      <td class="num">${percent(cacheHitRatio(g), 0)}</td>
    </tr>`;
  }).join("");
  const more = groups.length > TOP
    ? `<button type="button" class="more" data-expand>${open ? "Show top " + TOP : `Show all ${groups.length}`}</button>` : "";
  el.innerHTML = `<div class="table-wrap"><table class="data">
    <thead><tr><th scope="col">${esc(dim)}</th><th scope="col">Trend</th><th scope="col" class="num">Cost</th>
      <th scope="col" class="num">Share</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Tokens</th>
      <th scope="col" class="num" title="cache reads / (input + cache reads + cache writes)">Cache hit</th></tr></thead>
    <tbody>${rows}</tbody></table></div>${more}`;
  el.querySelectorAll("[data-pick]").forEach((b) => b.addEventListener("click", () => onPick(dim, b.dataset.pick)));
  el.querySelector("[data-expand]")?.addEventListener("click", () => {
    if (open) expanded.delete(dim);
    else expanded.add(dim);
    renderTable(el, dim, result, { granularity, bucketKeys, activeValue, onPick });
  });
}
