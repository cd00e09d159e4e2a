// The view lives in the URL, so a view can be shared: period, filters, refresh, open session.
//
//   /?period=7d&model=claude-sonnet-4-5&attr.team=platform&refresh=30&session=<id>
//
// Every query parameter the dashboard does not own is a report filter `<dimension>=<value>`, passed to
// the API as it is (any dimension the API knows, attr.<key> included).

export const PERIODS = ["today", "7d", "30d", "custom"];
export const DEFAULT_PERIOD = "7d";
export const DEFAULT_REFRESH = 10;
export const FILTER_DIMS = ["user", "project", "model", "agent"];
export const GRANULARITIES = ["hour", "day", "week", "month"];
const OWN = new Set(["period", "from", "to", "tz", "refresh", "session", "gran", "theme", "mode"]);
const DAY_MS = 86400000;

export function browserTz() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function readState(search = location.search) {
  const p = new URLSearchParams(search);
  const refresh = p.has("refresh") ? Number(p.get("refresh")) : DEFAULT_REFRESH;
  const state = {
    period: PERIODS.includes(p.get("period")) ? p.get("period") : DEFAULT_PERIOD,
    from: isDate(p.get("from")) ? p.get("from") : "",
    to: isDate(p.get("to")) ? p.get("to") : "",
    tz: p.get("tz") || browserTz(),
    tzFromUrl: p.has("tz"),
    refresh: Number.isFinite(refresh) && refresh >= 0 ? Math.min(refresh, 86400) : DEFAULT_REFRESH,
    session: p.get("session") || "",
    gran: GRANULARITIES.includes(p.get("gran")) ? p.get("gran") : "",
    mode: p.get("mode") || "",
    theme: p.get("theme") || "",
    filters: {},
  };
  for (const [k, v] of p) if (!OWN.has(k)) state.filters[k] = v;
  if (state.period === "custom" && (!state.from || !state.to)) {
    const today = localParts(new Date(), state.tz).date;
    state.from ||= addDays(today, -6);
    state.to ||= today;
  }
  if (state.from > state.to) [state.from, state.to] = [state.to, state.from];
  return state;
}

/** The query string of a state; defaults are left out to keep shared links short. */
export function stateQuery(state) {
  const p = new URLSearchParams();
  if (state.period !== DEFAULT_PERIOD) p.set("period", state.period);
  if (state.period === "custom") {
    p.set("from", state.from);
    p.set("to", state.to);
  }
  for (const [k, v] of Object.entries(state.filters)) p.set(k, v);
  if (state.gran) p.set("gran", state.gran);
  if (state.mode) p.set("mode", state.mode);
  if (state.tzFromUrl) p.set("tz", state.tz);
  if (state.refresh !== DEFAULT_REFRESH) p.set("refresh", String(state.refresh));
  if (state.theme) p.set("theme", state.theme);
  if (state.session) p.set("session", state.session);
  const s = p.toString();
  return s ? "?" + s : "";
}

function isDate(s) {
  return typeof s === "string" && /^\d{4}-\d\d-\d\d$/.test(s);
}

/** Calendar date and wall-clock time of `date` in `tz`: {date: "2026-11-27", time: "09:41"}. */
export function localParts(date, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date).map((x) => [x.type, x.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

/** Calendar arithmetic on "YYYY-MM-DD" (no time zone involved). */
export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10);
}

export function daysBetween(a, b) {
  const t = (s) => Date.UTC(...s.split("-").map((x, i) => Number(x) - (i === 1 ? 1 : 0)));
  return Math.round((t(b) - t(a)) / DAY_MS);
}

/**
 * The period as API windows, in the viewer's time zone:
 * - current: {since, until}; `until` is empty while the period runs to now (a stable URL, so the
 *   service's report cache can answer repeats), else the day after the last one.
 * - previous: the same length just before, cut at the same time of day while the current period is
 *   still running, so "today so far" is compared with "yesterday until this time".
 */
export function periodWindow(state, now = new Date()) {
  const { date: today, time } = localParts(now, state.tz);
  let first;
  let last;
  if (state.period === "custom") {
    first = state.from;
    last = state.to;
  } else {
    const days = { today: 1, "7d": 7, "30d": 30 }[state.period];
    first = addDays(today, 1 - days);
    last = today;
  }
  const days = daysBetween(first, last) + 1;
  const running = last >= today;
  const current = { since: first, until: running ? "" : addDays(last, 1) };
  const previous = {
    since: addDays(first, -days),
    until: running ? `${addDays(today, -days)}T${time}` : first,
  };
  const end = running ? today : last;
  return { first, last: end, days, running, current, previous, granularity: state.gran || autoGranularity(days) };
}

export function autoGranularity(days) {
  if (days <= 2) return "hour";
  if (days <= 62) return "day";
  if (days <= 370) return "week";
  return "month";
}

/**
 * The time buckets of a window, with the keys the API gives for `group_by=<granularity>`:
 * hour "2026-11-27T09:00:00", day "2026-11-27", week (Monday) "2026-11-23", month "2026-11".
 */
export function buckets(win, granularity, now = new Date(), tz = "UTC") {
  const out = [];
  const { date: today, time } = localParts(now, tz);
  if (granularity === "hour") {
    for (let day = win.first; day <= win.last; day = addDays(day, 1)) {
      const lastHour = day === today ? Number(time.slice(0, 2)) : 23;
      for (let h = 0; h <= lastHour; h++) out.push(`${day}T${String(h).padStart(2, "0")}:00:00`);
    }
  } else if (granularity === "day") {
    for (let day = win.first; day <= win.last; day = addDays(day, 1)) out.push(day);
  } else if (granularity === "week") {
    for (let day = monday(win.first); day <= win.last; day = addDays(day, 7)) out.push(day);
  } else {
    for (let month = win.first.slice(0, 7); month <= win.last.slice(0, 7); month = nextMonth(month)) out.push(month);
  }
  return out;
}

function monday(day) {
  const [y, m, d] = day.split("-").map(Number);
  const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}

function nextMonth(month) {
  const [y, m] = month.split("-").map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
}

/** How a bucket key is shown on an axis. */
export function bucketLabel(key, granularity) {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const [y, m, d] = key.slice(0, 10).split("-");
  if (granularity === "hour") return key.slice(11, 13) === "00" ? `${months[m - 1]} ${+d}` : key.slice(11, 16);
  if (granularity === "month") return `${months[m - 1]} ${y}`;
  return `${months[m - 1]} ${+d}`;
}

export function periodText(win, state) {
  const span = win.first === win.last ? win.first : `${win.first} – ${win.last}`;
  const names = { today: "today", "7d": "the last 7 days", "30d": "the last 30 days", custom: span };
  return { name: names[state.period], span, previous: win.running ? "the previous period, to the same time" : "the previous period" };
}
