"""Rewrite the README's figures table from ``make bench``'s results (bench/results.json).

    .venv/bin/python bench/readme_table.py bench/results.json README.md

The table sits between ``<!-- bench:start -->`` and ``<!-- bench:end -->``; everything else in the README is
left alone. A figure whose step did not run (or failed) is shown as "not measured", never carried over.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
MISSING = "not measured"


def get(d: dict | None, path: str):
    for key in path.split("."):
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def ms(value) -> str:
    return MISSING if value is None else f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def p50_p95(d: dict | None) -> str:
    if not d:
        return MISSING
    return f"p50 {ms(d.get('p50_ms'))}, p95 {ms(d.get('p95_ms'))}"


def seconds(value) -> str:
    return MISSING if value is None else f"{value:,.2f} s"


def ratio(value) -> str:
    return MISSING if value is None else f"{value:.2f}×"


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, step) rows in the README's order."""
    steps = results.get("steps", {})
    out: list[tuple[str, str, str, str]] = []
    for size in ("1m", "10m"):
        step = steps.get(f"reports_{size}") or {}
        n = step.get("requests")
        label = f"{n:,}" if n else size.upper()
        target = "p95 < 50 ms" if size == "1m" else "p95 < 250 ms"
        for name, report in (get(step, "reports") or {}).items():
            out.append((f"`{name}` at {label} requests, cold", p50_p95(report), target, f"reports_{size}"))
        raw = get(step, "raw") or {}
        if raw:
            equal = all(r.get("equal") for r in raw.values())
            slowest = max(r["ms"] for r in raw.values())
            out.append(
                (
                    f"the same usage reports request by request at {label}",
                    f"up to {ms(slowest)}; numbers {'equal' if equal else 'DIFFERENT'}",
                    "exactly equal",
                    f"reports_{size}",
                )
            )
    imp = steps.get("import") or {}
    for name, target in (("dense", "≤ 0.4×"), ("heavy", "≤ 0.6×")):
        c = get(imp, f"corpora.{name}") or {}
        size = get(c, "corpus.bytes")
        label = f"{name} corpus" + (f", {size / 2**20:,.0f} MiB" if size else "")
        walls = f"({seconds(get(c, 'import.wall_s'))} / {seconds(get(c, 'ccusage.wall_s'))})"
        measured = MISSING if not c else f"{ratio(c.get('ratio_import_to_ccusage'))} {walls}"
        out.append((f"first `cctelemetry import` / `ccusage claude session`, {label}", measured, target, "import"))
        rss = get(c, "import.peak_rss_mib")
        out.append((f"import peak RSS, {name} corpus", MISSING if rss is None else f"{rss:,.0f} MiB", "≤ 700 MB",
                    "import"))  # fmt: skip
        out.append((f"re-import with nothing new, {name} corpus", seconds(get(c, "reimport.wall_s")), "< 1 s",
                    "import"))  # fmt: skip
    vs = steps.get("vs_ccusage") or {}
    for report in ("daily", "session"):
        theirs, cli, svc = (get(vs, f"{k}_{report}") for k in ("ccusage", "cli", "service"))
        if theirs:
            out.append((f"`{report}` report: ccusage / cctelemetry on the store / through the service "
                        "(cold → repeated)",
                        f"{seconds(theirs['cold_s'])} → {seconds(theirs['repeated_s'])} / "
                        f"{seconds(cli['cold_s'])} → {seconds(cli['repeated_s'])} / "
                        f"{seconds(svc['cold_s'])} → {seconds(svc['repeated_s'])}", "", "vs_ccusage"))  # fmt: skip
    ing = steps.get("ingest") or {}
    out.append(("OTLP/HTTP ingest, 4 clients, 250 events per body",
                MISSING if ing.get("events_per_s") is None else f"{ing['events_per_s']:,} events/s",
                "≥ 20,000 events/s", "ingest"))  # fmt: skip
    if ing.get("grpc_events_per_s") is not None:
        out.append(("OTLP/gRPC ingest, same load", f"{ing['grpc_events_per_s']:,} events/s", "", "ingest"))
    if ing.get("ack_p99_ms") is not None:
        out.append(("ingest acknowledgement", f"p50 {ms(ing.get('ack_p50_ms'))}, p99 {ms(ing['ack_p99_ms'])}",
                    "p99 < 500 ms", "ingest"))  # fmt: skip
    if ing.get("lost_rows") is not None:
        out.append(("acknowledged rows lost", f"{ing['lost_rows']:,}", "0", "ingest"))
    for key, label, target in (("rss_peak_mib", "service RSS during the ingest", "< 1 GB"),
                               ("rss_idle_mib", "service RSS idle", "< 300 MB")):  # fmt: skip
        if ing.get(key) is not None:
            out.append((label, f"{ing[key]:,.0f} MiB", target, "ingest"))
    term = steps.get("terminal") or {}
    out.append(("`cctelemetry statusline`, service running, spawn to exit", p50_p95(term.get("statusline_service")),
                "p95 < 50 ms", "terminal"))  # fmt: skip
    out.append(("  for comparison: `python -c pass`", p50_p95(term.get("python_startup")), "", "terminal"))
    for key, label in (("cli_usage_day", "`cctelemetry usage --by day`"), ("cli_sessions", "`cctelemetry sessions`"),
                       ("cli_cost", "`cctelemetry cost`"), ("cli_blocks", "`cctelemetry blocks`")):  # fmt: skip
        out.append((f"{label} through the service, whole process", p50_p95(term.get(key)), "< 300 ms", "terminal"))
    out.append(("`cctelemetry monitor --once --json` through the service", p50_p95(term.get("monitor_once_service")),
                "", "terminal"))  # fmt: skip
    live = steps.get("live") or {}
    if live.get("metrics_repeated_p95_ms") is not None:
        out.append(("`GET /metrics` scrape", f"first {ms(live.get('metrics_first_ms'))}, repeated p95 "
                    f"{ms(live['metrics_repeated_p95_ms'])}", "", "live"))  # fmt: skip
        out.append(("budget alert after the write that crosses it", ms(live.get("alert_after_write_ms")), "", "live"))
    dash = steps.get("dashboard") or {}
    if get(dash, "first_load_after_start.full_p50_ms") is not None:
        out.append(("dashboard first load (browser, every panel drawn)",
                    f"{ms(get(dash, 'first_load_after_start.full_p50_ms'))}; later loads p50 "
                    f"{ms(get(dash, 'later_loads.full_p50_ms'))}", "", "dashboard"))  # fmt: skip
    return out


def step_label(steps: dict, name: str) -> str:
    """The step, and the machine's load when it ran (1-minute load average; 2 cores)."""
    step = steps.get(name) or {}
    loads = [step["load_average_after"][0]] if step.get("load_average_after") else []
    loads += [x for c in (get(step, "corpora") or {}).values() for x in (c.get("load_average_1m") or [])]
    if not loads:
        return name
    low, high = min(loads), max(loads)
    return f"{name} (load {low:.0f})" if round(low) == round(high) else f"{name} (load {low:.0f}–{high:.0f})"


def table(results: dict) -> str:
    env = results.get("environment", {})
    load = env.get("load_average")
    lines = [
        f"Measured by `make bench` (last run {env.get('date', '?')[:10]}, commit {env.get('commit', '?')}, "
        f"{env.get('cpus')} CPUs, ccusage {env.get('ccusage')}); the raw figures are in "
        "[bench/results.json](bench/results.json), each step's command and the machine's load in it; the load "
        "average beside each step says how busy the machine was." if load else "Measured by `make bench`.",
        "",
        "| Figure | Measured | Target | Step |",
        "|---|---|---|---|",
    ]  # fmt: skip
    steps = results.get("steps", {})
    lines += [f"| {figure} | {measured} | {target} | {step_label(steps, step)} |"
              for figure, measured, target, step in rows(results)]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    results_path, readme_path = Path(argv[0]), Path(argv[1])
    results = json.loads(results_path.read_text())
    text = readme_path.read_text()
    if START not in text or END not in text:
        print(f"{readme_path} has no {START} ... {END} section; the table:\n\n{table(results)}")
        return 0
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme_path.write_text(f"{head}{START}\n{table(results)}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
