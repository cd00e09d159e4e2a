// Overview: cost, requests, tokens by type and cache hit ratio, each against the previous period.

import { change, changePoints, compact, esc, int, money, percent } from "../format.js";

/** Share of prompt tokens served from the cache: cache reads / (input + cache reads + cache writes). */
export function cacheHitRatio(t) {
  if (!t) return null;
  const prompt = (t.input_tokens || 0) + (t.cache_read_tokens || 0) + (t.cache_creation_tokens || 0);
  return prompt > 0 ? (t.cache_read_tokens || 0) / prompt : null;
}

const CARDS = [
  { key: "cost_usd", title: "Cost", fmt: money, hero: true, costly: true },
  { key: "requests", title: "Requests", fmt: count, exact: true },
  { key: "input_tokens", title: "Input tokens", fmt: count, exact: true },
  { key: "output_tokens", title: "Output tokens", fmt: count, exact: true },
  { key: "cache_read_tokens", title: "Cache read tokens", fmt: count, exact: true },
  { key: "cache_creation_tokens", title: "Cache write tokens", fmt: count, exact: true },
  { key: "cache_hit_ratio", title: "Cache hit ratio", fmt: (v) => percent(v), ratio: true },
];

/** Counts up to a million in full; larger ones short (42.5M), the exact figure under them. */
function count(v) {
  return v !== null && v >= 1e6 ? compact(v) : int(v);
}

function value(totals, key) {
  if (!totals) return null;
  if (key === "cost_usd" && totals.requests === 0) return 0; // nothing happened: $0, not "unpriced"
  return key === "cache_hit_ratio" ? cacheHitRatio(totals) : totals[key] ?? null;
}

export function renderOverview(el, { totals, previous, unpriced, periodText }) {
  el.innerHTML = CARDS.map((card) => {
    const cur = value(totals, card.key);
    const prev = previous && previous.requests > 0 ? value(previous, card.key) : null;
    const delta = card.ratio ? changePoints(cur, prev) : change(cur, prev);
    const tone = !delta || delta.direction === 0 ? "flat" : card.costly ? (delta.direction > 0 ? "worse" : "better") : "";
    const arrow = !delta || delta.direction === 0 ? "" : delta.direction > 0 ? "▲" : "▼";
    const prevText = prev === null ? "" : card.fmt(prev);
    const note = card.key === "cost_usd" ? costNote(totals, unpriced) : "";
    return `<article class="kpi${card.hero ? " hero" : ""}" data-kpi="${card.key}" data-value="${cur ?? ""}">
      <h3>${card.title}</h3>
      <p class="value"${card.exact ? ` title="${esc(int(cur))}"` : ""}>${esc(card.fmt(cur))}</p>
      ${card.exact && cur !== null && cur >= 1e6 ? `<p class="exact muted">${esc(int(cur))}</p>` : ""}
      <p class="delta ${tone}" title="${esc(periodText.previous)}: ${esc(prevText)}">
        ${delta ? `<span>${arrow} ${esc(delta.text)}</span> <span class="muted">vs ${esc(prevText)}</span>` : '<span class="muted">no data before</span>'}
      </p>${note}
    </article>`;
  }).join("");
}

function costNote(totals, unpriced) {
  if (!totals) return "";
  const parts = [];
  if (unpriced?.length) parts.push(`<span class="warn">⚠ ${unpriced.length} model${unpriced.length > 1 ? "s" : ""} not in the price book</span>`);
  const { reported_cost_usd: reported, computed_cost_usd: computed } = totals;
  if (reported !== null && computed !== null && reported !== undefined && Math.abs(reported - computed) > 1e-6) {
    parts.push(`<span class="muted">reported ${esc(money(reported))} · computed ${esc(money(computed))}</span>`);
  }
  return parts.length ? `<p class="note">${parts.join(" ")}</p>` : "";
}
