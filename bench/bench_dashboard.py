"""Benchmark: the dashboard's full first load over the bench data, in a real browser.

    python bench/bench_dashboard.py [--corpus DIR] [--size-mb 1024] [--loads 5] [--screenshot docs/dashboard.png]

1. The bench data: the transcript corpus of bench/bench_import.py (``DIR/projects``, written by
   bench/gen_corpus.py when absent), imported into a fresh data folder with ``cctelemetry import``.
2. ``cctelemetry serve`` on that folder; the view is the last 30 days of the data
   (``/?period=custom&from=...&to=...``, daily buckets, every panel).
3. Headless Chromium (Debian's package, driven by Playwright) opens the page ``--loads`` times, each in a
   fresh browser context (empty cache, like a first visit). A load is timed by the page itself, from the
   start of navigation until every panel has rendered the answers of all its API calls
   (``window.cctelemetryFirstLoad``): the calls are the page's own, with its URLs and its concurrency.
   Also reported: the span of the API calls alone (first request sent to last answer received).
4. The first load after the service starts finds nothing in the service's report cache; the next ones
   are answered from it. Then the same loads against a service with ``CCTELEMETRY_REPORT_CACHE=0``,
   where every report is computed each time.
5. The page's cost total must equal the API's for the same window, else the figures mean nothing.

Needs Chromium (scripts/install-chromium.sh) and the venv's playwright; without them it says so and
exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import REPO, VENV_PY, pct, run_timed, serving  # noqa: E402 - found through the sys.path entry above

CHROMIUM = os.environ.get("CCTELEMETRY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
VIEW_DAYS = 30


def browser_or_reason():
    if not shutil.which(CHROMIUM):
        subprocess.run(["bash", str(REPO / "scripts" / "install-chromium.sh")], check=False)
    if not shutil.which(CHROMIUM):
        return None, f"Chromium is not installed at {CHROMIUM} (scripts/install-chromium.sh could not install it)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, "the playwright package is missing (make install-dev)"
    return sync_playwright, ""


def view_of_last_days(base: str) -> tuple[str, dict]:
    import httpx

    days = httpx.get(base + "/api/v1/usage", params={"group_by": "day", "tz": "UTC"}, timeout=120).json()["rows"]
    last = date.fromisoformat(days[-1]["day"])
    first = last - timedelta(days=VIEW_DAYS - 1)
    window = {"since": first.isoformat(), "until": (last + timedelta(days=1)).isoformat(), "tz": "UTC"}
    return f"/?period=custom&from={first}&to={last}&tz=UTC&refresh=0", window


def load_page(browser, url: str, screenshot: Path | None = None) -> dict:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, color_scheme="light", timezone_id="UTC")
    page = context.new_page()
    try:
        page.goto(url, timeout=120_000)
        page.wait_for_function(
            "['ready', 'error'].includes(document.body.dataset.state) && window.cctelemetryFirstLoad", timeout=300_000
        )
        if page.evaluate("document.body.dataset.state") != "ready":
            raise SystemExit(f"the page reported an error: {page.locator('#status').inner_text()}")
        result = page.evaluate("window.cctelemetryFirstLoad")
        result["cost_usd"] = float(page.locator('.kpi[data-kpi="cost_usd"]').get_attribute("data-value"))
        if screenshot:
            page.wait_for_timeout(500)  # the chart's short entry animation
            page.screenshot(path=str(screenshot), full_page=True)
        return result
    finally:
        context.close()


def measure(sync_playwright, base: str, view: str, loads: int, screenshot: Path | None) -> list[dict]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            runs = [load_page(browser, base + view) for _ in range(loads)]
            if screenshot:
                load_page(browser, base + view, screenshot)
            return runs
        finally:
            browser.close()


def summary(runs: list[dict]) -> dict:
    full = [r["ms"] for r in runs]
    api = [r["apiMs"] for r in runs]
    return {"loads": len(runs), "calls": len(runs[0]["calls"]), "full_p50_ms": statistics.median(full),
            "full_max_ms": max(full), "api_p50_ms": statistics.median(api), "api_max_ms": max(api),
            "full_ms": full, "api_ms": api, "p95_full_ms": pct(full, 0.95)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO / ".bench" / "corpus", help="a CLAUDE_CONFIG_DIR")
    ap.add_argument("--size-mb", type=float, default=1024, help="corpus size when it has to be generated")
    ap.add_argument("--loads", type=int, default=5, help="page loads per service")
    ap.add_argument("--screenshot", type=Path, default=None, help="also save a full-page screenshot here")
    ap.add_argument("--work", type=Path, default=None, help="where the data folder goes (default: a temp folder)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)

    sync_playwright, reason = browser_or_reason()
    if sync_playwright is None:
        print(f"bench_dashboard: skipped: {reason}")
        return 0
    projects = args.corpus / "projects"
    if not projects.is_dir():
        print(f"writing a {args.size_mb:g} MiB corpus to {args.corpus} ...", file=sys.stderr)
        subprocess.run([str(VENV_PY), str(REPO / "bench" / "gen_corpus.py"), str(args.corpus),
                        "--size-mb", str(args.size_mb)], check=True)  # fmt: skip

    work = Path(tempfile.mkdtemp(prefix="cctelemetry-bench-dashboard-", dir=args.work))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCTELEMETRY_", "CLAUDE_", "XDG_CONFIG"))}
    env["HOME"] = str(work)
    data = work / "data"
    try:
        imported = run_timed([str(REPO / ".venv" / "bin" / "cctelemetry"), "import", str(projects), "--json",
                              "--data-dir", str(data)], env)  # fmt: skip
        rows = json.loads(imported.pop("out").decode().strip().splitlines()[-1])["rows_written"]
        print(f"imported {rows:,} requests in {imported['wall_s']:.1f} s", file=sys.stderr)
        import httpx

        with serving(data, env) as base:
            view, window = view_of_last_days(base)
            runs = measure(sync_playwright, base, view, args.loads, args.screenshot)
            totals = httpx.get(base + "/api/v1/usage", params=window, timeout=120).json()["totals"]
        with serving(data, {**env, "CCTELEMETRY_REPORT_CACHE": "0"}) as base:
            uncached = measure(sync_playwright, base, view, args.loads, None)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    same = all(r["cost_usd"] == totals["cost_usd"] for r in runs + uncached)
    result = {
        "view": view, "window": window, "requests_in_view": totals["requests"], "requests_in_store": rows,
        "first_load_after_start": summary(runs[:1]), "later_loads": summary(runs[1:]) if len(runs) > 1 else None,
        "computed_each_time": summary(uncached), "calls": runs[0]["calls"], "same_cost_as_api": same,
        "cpus": os.cpu_count(),
    }  # fmt: skip
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if same else 1


def print_table(r: dict) -> None:
    print(f"\ndashboard first load over the bench data ({r['requests_in_store']:,} requests; view {r['view']}, "
          f"{r['requests_in_view']:,} requests in it); {r['calls'] and len(r['calls'])} API calls per load, "
          f"as the page makes them; {r['cpus']} CPUs")  # fmt: skip
    print(f"{'':44}{'loads':>6}{'full p50':>10}{'full max':>10}{'API p50':>10}{'API max':>10}  (ms)")
    for label, s in (("first load after the service starts", r["first_load_after_start"]),
                     ("later loads (report cache)", r["later_loads"]),
                     ("every report computed (REPORT_CACHE=0)", r["computed_each_time"])):  # fmt: skip
        if s:
            print(f"{label:44}{s['loads']:6}{s['full_p50_ms']:10.0f}{s['full_max_ms']:10.0f}"
                  f"{s['api_p50_ms']:10.0f}{s['api_max_ms']:10.0f}")  # fmt: skip
    print(
        "full = navigation start to every panel rendered (page, scripts, all API calls, drawing); "
        "API = first call sent to last answer"
    )
    slow = sorted(r["calls"], key=lambda c: -c["ms"])[:3]
    print("slowest calls of the first load: " + "; ".join(f"{c['url'].split('/api/v1/')[1][:70]} {c['ms']:.0f} ms"
                                                           for c in slow))  # fmt: skip
    print(f"page cost total equals the API's: {r['same_cost_as_api']}")


if __name__ == "__main__":
    raise SystemExit(main())
