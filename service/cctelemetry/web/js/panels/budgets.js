// Budget status (GET /api/v1/budgets) and the latest alerts (GET /api/v1/alerts).

import { compact, esc, money, parseTime, relative } from "../format.js";

const first = (...values) => values.find((v) => v !== undefined && v !== null);

/** A figure that may be a number or an object holding one (the spend or projection of a budget). */
function amount(value, usd) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  return usd
    ? first(value.cost_usd, value.usd, value.amount_usd, value.spent, value.amount, null)
    : first(value.tokens, value.total_tokens, value.amount_tokens, value.spent, value.amount, null);
}

export function renderBudgets(el, { budgets, alerts }) {
  if (budgets.missing) {
    el.innerHTML = `<p class="empty">Budgets are not available on this service yet <span class="muted">(${esc(budgets.reason)})</span>.</p>`;
    return;
  }
  const list = budgets.budgets || [];
  if (!list.length) {
    el.innerHTML = '<p class="empty">No budgets set. <span class="muted">PUT /api/v1/budgets or CCTELEMETRY_BUDGETS_FILE adds one.</span></p>';
    return;
  }
  el.innerHTML = list.map(budgetHtml).join("") + alertsHtml(alerts, list);
}

function budgetHtml(b) {
  const usd = b.amount_usd !== undefined && b.amount_usd !== null;
  const limit = usd ? b.amount_usd : b.amount_tokens;
  const spent = amount(b.spent, usd);
  const projected = amount(b.projection, usd);
  const fmt = (v) => (v === null ? "—" : usd ? money(v) : compact(v) + " tok");
  const ratio = limit > 0 && spent !== null ? spent / limit : 0;
  const projRatio = limit > 0 && projected !== null ? projected / limit : null;
  const thresholds = b.thresholds || [50, 80, 100];
  const crossed = thresholds.filter((t) => ratio * 100 >= t);
  const tone = ratio >= 1 ? "danger" : crossed.length ? "warning" : "";
  const scope = Object.entries(b.filters || {}).map(([k, v]) => `<span class="chip">${esc(k)}=${esc(v)}</span>`).join(" ");
  return `<div class="budget" data-budget="${esc(b.name)}">
    <div class="block-head"><span><strong>${esc(b.name)}</strong> <span class="muted">per ${esc(b.period || "")}</span></span>
      <span><strong>${esc(fmt(spent))}</strong> <span class="muted">of ${esc(fmt(limit))}</span></span></div>
    <div class="meter ${tone}" role="meter" aria-label="${esc(b.name)} spent" aria-valuemin="0" aria-valuemax="100"
      aria-valuenow="${Math.round(ratio * 100)}"><span style="width:${Math.min(ratio, 1) * 100}%"></span>
      ${thresholds.filter((t) => t < 100).map((t) => `<i class="tick" style="left:${t}%" title="${t} %"></i>`).join("")}
      ${projRatio !== null ? `<i class="projection" style="left:${Math.min(projRatio, 1) * 100}%" title="projected ${esc(fmt(projected))}"></i>` : ""}
    </div>
    <p class="muted small">${Math.round(ratio * 100)} % used${projected !== null ? ` · projected ${esc(fmt(projected))}${projRatio > 1 ? ' <span class="warn">over budget</span>' : ""}` : ""}${scope ? " · " + scope : ""}</p>
  </div>`;
}

function alertsHtml(alerts, list) {
  if (!alerts || alerts.missing || !(alerts.alerts || []).length) return "";
  const inUsd = new Map(list.map((b) => [b.name, b.amount_usd !== undefined && b.amount_usd !== null]));
  const fmt = (a) => {
    const v = amount(a.spent, inUsd.get(a.budget) !== false);
    return v === null ? "" : (inUsd.get(a.budget) === false ? compact(v) + " tok" : money(v)) + " · ";
  };
  const recent = [...alerts.alerts].sort((a, b) => String(b.fired_at).localeCompare(String(a.fired_at))).slice(0, 5);
  return `<h3 class="sub">Latest alerts</h3><ul class="alerts">${recent.map((a) => `<li>
    <span class="badge ${a.threshold >= 100 ? "danger" : "warn"}">${esc(a.threshold)} %</span> ${esc(a.budget)}
    <span class="muted">${esc(fmt(a))}${esc(relative(parseTime(a.fired_at)))}</span></li>`).join("")}</ul>`;
}
