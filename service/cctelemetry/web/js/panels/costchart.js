// Cost over time by model, stacked, one bar per bucket of the period's granularity (empty buckets too).

import { OTHER_COLOR, colorsFor } from "../charts.js";
import { bucketLabel } from "../state.js";

const MAX_SERIES = 8;

/** Rows of `group_by=<granularity>,model` -> chart labels and one series per model (the rest as "other"). */
export function costSeries(rows, bucketKeys, granularity) {
  const keys = [...new Set([...bucketKeys, ...rows.map((r) => r[granularity])])].sort();
  const index = new Map(keys.map((k, i) => [k, i]));
  const models = new Map();
  for (const row of rows) {
    const m = models.get(row.model) || { name: row.model, total: 0, values: new Array(keys.length).fill(0), unpriced: false };
    m.values[index.get(row[granularity])] += row.cost_usd || 0;
    m.total += row.cost_usd || 0;
    m.unpriced ||= (row.unknown_models || []).length > 0;
    models.set(row.model, m);
  }
  const ranked = [...models.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const rest = ranked.slice(shown.length);
  const colors = colorsFor(shown.map((m) => m.name));
  const series = shown.map((m) => ({ ...m, color: colors[m.name] }));
  if (rest.length) {
    const values = keys.map((_, i) => rest.reduce((sum, m) => sum + m.values[i], 0));
    series.push({ name: `${rest.length} other models`, values, color: OTHER_COLOR, unpriced: rest.some((m) => m.unpriced) });
  }
  return { keys, labels: keys.map((k) => bucketLabel(k, granularity)), series };
}
