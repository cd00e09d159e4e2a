// Numbers as people read them: money as money ($0.000018, never 1.8e-05), counts with separators.

const LOCALE = "en-US";
const INT = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const COMPACT = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumSignificantDigits: 3 });
const moneyFormats = new Map();

function moneyFormat(digits) {
  if (!moneyFormats.has(digits)) {
    moneyFormats.set(digits, new Intl.NumberFormat(LOCALE, {
      style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: digits,
    }));
  }
  return moneyFormats.get(digits);
}

/** Fraction digits that keep `sig` significant digits of a small amount (2 for a dollar or more). */
export function moneyDigits(value, sig = 4) {
  const abs = Math.abs(value);
  if (abs === 0 || abs >= 1) return 2;
  return Math.min(12, Math.max(2, sig - 1 - Math.floor(Math.log10(abs))));
}

/** `$1,234.57`, `$0.05711`, `$0.000018`; `null` (unpriced) is an em dash, never `$0`. */
export function money(value, sig = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return moneyFormat(moneyDigits(value, sig)).format(value);
}

/** Short money for chart axes: `$1.2K`, `$0.05`. */
export function moneyShort(value) {
  if (value === null || value === undefined) return "";
  const abs = Math.abs(value);
  if (abs >= 1000) return "$" + COMPACT.format(value);
  return money(value, 2);
}

export function int(value) {
  if (value === null || value === undefined) return "—";
  return INT.format(value);
}

export function compact(value) {
  if (value === null || value === undefined) return "—";
  return Math.abs(value) < 10000 ? INT.format(value) : COMPACT.format(value);
}

export function percent(ratio, digits = 1) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return (ratio * 100).toFixed(digits) + " %";
}

/** A duration in ms as `420 ms`, `3.2 s`, `4 min 05 s`, `2 h 10 min`. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return Math.round(ms) + " ms";
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

/** The API's times are UTC; a time without an offset is read as UTC. */
export function parseTime(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return new Date(value < 1e12 ? value * 1000 : value);
  const s = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s + "Z");
}

export function dateTime(value, tz, withSeconds = false) {
  const d = value instanceof Date ? value : parseTime(value);
  if (!d || Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(LOCALE, {
    timeZone: tz, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    second: withSeconds ? "2-digit" : undefined, hourCycle: "h23",
  });
}

export function clock(value, tz) {
  const d = value instanceof Date ? value : parseTime(value);
  if (!d || Number.isNaN(d.getTime())) return "—";
  return d.toLocaleTimeString(LOCALE, { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** `3 min ago`, `in 2 h 10 min`. */
export function relative(value, now = new Date()) {
  const d = value instanceof Date ? value : parseTime(value);
  if (!d || Number.isNaN(d.getTime())) return "—";
  const ms = d.getTime() - now.getTime();
  const abs = Math.abs(ms);
  if (abs < 60000) return "just now";
  let text;
  if (abs < 48 * 3600000) text = duration(abs).replace(/ \d+ s$/, "");
  else if (abs < 60 * 86400000) text = `${Math.round(abs / 86400000)} days`;
  else return d.toLocaleDateString(LOCALE, { year: "numeric", month: "short", day: "numeric" });
  return ms < 0 ? `${text} ago` : `in ${text}`;
}

/** A dimension value as shown: empty is "(none)", long opaque ids are shortened (full text in a title). */
export function label(value) {
  if (value === null || value === undefined || value === "") return "(none)";
  const s = String(value);
  if (s.length > 28 && /^[0-9a-f-]+$/i.test(s)) return s.slice(0, 8) + "…";
  return s;
}

/** Change against the previous period: `{text, direction}`; `null` when there is nothing to compare. */
export function change(current, previous) {
  if (current === null || current === undefined || previous === null || previous === undefined) return null;
  if (previous === 0) return current === 0 ? { text: "no change", direction: 0 } : { text: "new", direction: 1 };
  const ratio = (current - previous) / Math.abs(previous);
  if (Math.abs(ratio) < 0.0005) return { text: "no change", direction: 0 };
  const pct = Math.abs(ratio) >= 10 ? Math.round(ratio * 100) : (ratio * 100).toFixed(1);
  return { text: `${ratio > 0 ? "+" : ""}${pct} %`, direction: Math.sign(ratio) };
}

/** Change of a ratio in percentage points. */
export function changePoints(current, previous) {
  if (current === null || previous === null || !Number.isFinite(current) || !Number.isFinite(previous)) return null;
  const pp = (current - previous) * 100;
  if (Math.abs(pp) < 0.05) return { text: "no change", direction: 0 };
  return { text: `${pp > 0 ? "+" : ""}${pp.toFixed(1)} pp`, direction: Math.sign(pp) };
}

/** HTML-escape text for templates. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
