// Chart.js (vendored, see vendor/README.md) with the page's theme, and tiny SVG sparklines.

import { money, moneyShort } from "./format.js";

// Hues by model family, so a chart reads at a glance (Opus violet, Sonnet blue, Haiku green, ...).
const FAMILIES = [
  [/opus/i, ["#8b5cf6", "#c084fc", "#6d28d9"]],
  [/sonnet/i, ["#6366f1", "#0ea5e9", "#818cf8", "#2563eb"]],
  [/haiku/i, ["#14b8a6", "#22c55e", "#5eead4"]],
  [/gpt|codex|\bo\d/i, ["#f59e0b", "#f97316", "#fbbf24"]],
  [/gemini/i, ["#ec4899", "#f43f5e", "#f9a8d4"]],
];
const PALETTE = ["#6366f1", "#14b8a6", "#f59e0b", "#ec4899", "#0ea5e9", "#8b5cf6", "#84cc16", "#f97316",
  "#ef4444", "#22c55e"];
export const OTHER_COLOR = "#94a3b8";

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A colour per name that stays the same from view to view; names in one chart never share one. */
export function colorsFor(names) {
  const used = new Set();
  const out = {};
  for (const name of names) {
    const family = FAMILIES.find(([re]) => re.test(name));
    const candidates = [...(family ? family[1] : []), ...PALETTE];
    const start = family ? 0 : hash(name) % PALETTE.length;
    const order = family ? candidates : [...PALETTE.slice(start), ...PALETTE.slice(0, start)];
    out[name] = order.find((c) => !used.has(c)) || OTHER_COLOR;
    used.add(out[name]);
  }
  return out;
}

export function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The stacked cost-by-model chart; `update(...)` redraws in place (no flicker on refresh). */
export class StackedCostChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.chart = null;
  }

  update({ labels, series }) {
    const Chart = window.Chart;
    if (!Chart) return;
    const text = themeColor("--text-muted");
    const grid = themeColor("--grid");
    const datasets = series.map((s) => ({
      label: s.name, data: s.values, backgroundColor: s.color, borderColor: s.color, borderWidth: 0,
      borderRadius: 2, maxBarThickness: 48, unpriced: s.unpriced,
    }));
    if (this.chart && this.chart.$theme === text + grid) {
      this.chart.data.labels = labels;
      this.chart.data.datasets = datasets;
      this.chart.update("none");
      return;
    }
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, {
      type: "bar",
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 250 },
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: text, maxRotation: 0, autoSkipPadding: 12 } },
          y: {
            stacked: true, beginAtZero: true, grid: { color: grid }, border: { display: false },
            ticks: { color: text, callback: (v) => moneyShort(v), maxTicksLimit: 6 },
          },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: { color: text, usePointStyle: true, pointStyle: "rectRounded", boxWidth: 10, padding: 14 },
          },
          tooltip: {
            filter: (item) => item.raw > 0,
            itemSort: (a, b) => b.raw - a.raw,
            callbacks: {
              label: (item) => ` ${item.dataset.label}: ${money(item.raw)}${item.dataset.unpriced ? " (partly unpriced)" : ""}`,
              footer: (items) => "Total " + money(items.reduce((sum, i) => sum + (i.raw || 0), 0)),
            },
          },
        },
      },
    });
    this.chart.$theme = text + grid;
  }
}

/** An inline SVG sparkline of `values` (nulls as gaps at 0), with an accessible description. */
export function sparkline(values, { width = 80, height = 22, color = "var(--accent)", title = "" } = {}) {
  if (!values.length) return "";
  const max = Math.max(...values.map((v) => v || 0));
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (v) => (max > 0 ? height - 2 - ((v || 0) / max) * (height - 4) : height - 2);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`);
  if (values.length === 1) points.push(`${width},${y(values[0]).toFixed(1)}`);
  const area = `0,${height} ${points.join(" ")} ${width},${height}`;
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"
    aria-label="${title}"><polygon points="${area}" fill="${color}" opacity="0.12"/>
    <polyline points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="1.5"
    stroke-linejoin="round" stroke-linecap="round"/></svg>`;
}
