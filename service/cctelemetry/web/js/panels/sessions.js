// Top sessions of the period by cost; a click opens the session's drill-down.

import { compact, dateTime, duration, esc, int, label, money, parseTime, relative } from "../format.js";

export function renderSessions(el, body, { tz, onOpen }) {
  const rows = body.rows || [];
  if (!rows.length) {
    el.innerHTML = '<p class="empty">No sessions in this period.</p>';
    return;
  }
  const now = new Date();
  el.innerHTML = `<div class="table-wrap"><table class="data sessions">
    <thead><tr><th scope="col">Session</th><th scope="col">User</th><th scope="col">Project</th><th scope="col">Models</th>
      <th scope="col">Last seen</th><th scope="col" class="num">Length</th><th scope="col" class="num">Requests</th>
      <th scope="col" class="num">Tokens</th><th scope="col" class="num">Cost</th></tr></thead>
    <tbody>${rows.map((s) => {
      const tokens = s.input_tokens + s.output_tokens + s.cache_read_tokens + s.cache_creation_tokens;
      const length = parseTime(s.last_seen) - parseTime(s.first_seen);
      return `<tr>
        <th scope="row"><button type="button" class="linklike mono" data-session="${esc(s.session)}" title="Open session ${esc(s.session)}">${esc(s.session.slice(0, 8))}</button></th>
        <td title="${esc(s.user)}">${esc(label(s.user))}</td>
        <td class="clip" title="${esc(s.project)}">${esc(label(s.project))}</td>
        <td class="models" title="${esc((s.models || []).join(", "))}">${(s.models || []).slice(0, 2).map((m) => `<span class="chip">${esc(m)}</span>`).join(" ")}${(s.models || []).length > 2 ? ` <span class="muted">+${s.models.length - 2}</span>` : ""}</td>
        <td title="${esc(dateTime(s.last_seen, tz, true))}">${esc(relative(s.last_seen, now))}</td>
        <td class="num">${esc(duration(length))}</td>
        <td class="num">${int(s.requests)}</td>
        <td class="num" title="${int(tokens)} tokens">${compact(tokens)}</td>
        <td class="num money" data-value="${s.cost_usd ?? ""}">${esc(money(s.cost_usd))}${(s.unknown_models || []).length ? ' <span class="warn" title="includes a model not in the price book">⚠</span>' : ""}</td>
      </tr>`;
    }).join("")}</tbody></table></div>`;
  el.querySelectorAll("[data-session]").forEach((b) => b.addEventListener("click", () => onOpen(b.dataset.session)));
}
