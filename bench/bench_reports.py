"""Report latency over a generated store (bench/gen_store.py), cold (no result cache), through the report
layer in this process: p50/p95 per report. With ``--raw``, the usage reports are also read request by request
(the path without rollups), timed once, and their numbers must be exactly the rollup's (else it exits 1).

    .venv/bin/python bench/bench_reports.py --data-dir /tmp/cct-1m [--runs 20] [--raw] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

from cctelemetry.bootstrap import open_store
from cctelemetry.config import Settings
from cctelemetry.reports.catalog import Reports

REPORTS = {
    "usage?group_by=day": lambda r: r.usage("day"),
    "usage?group_by=session": lambda r: r.usage("session"),
    "usage?group_by=model": lambda r: r.usage("model"),
    "usage?group_by=day,model": lambda r: r.usage("day,model"),
    "usage?group_by=day&since=7d": lambda r: r.usage("day", since="7d"),
    "sessions?limit=20": lambda r: r.sessions(limit=20),
    "cost?group_by=model&period=month": lambda r: r.cost("model", "month"),
    "blocks": lambda r: r.blocks(),
    "blocks?active=true": lambda r: r.blocks(active=True),
}
RAW = ("day", "session", "model", "day,model")
# Calls before timing: the first few after the store is opened take up to 2x (pages and the engine's own
# caches warming), which a service that has been running for a while has left behind.
WARM = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--raw", action="store_true", help="also read the usage reports request by request, compare")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir, clickhouse_url="", tz="UTC", report_cache=False)
    store = open_store(settings)
    reports = Reports(store, settings)
    gc.freeze()  # as `cctelemetry serve` does once started (api/server.py)
    requests = store.scalar("SELECT count() FROM requests")
    out = {"requests": requests, "reports": {}}
    for name, call in REPORTS.items():
        for _ in range(WARM):  # the engine's caches warm, as a running service has them (no result cache)
            call(reports)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            call(reports)
            times.append((time.perf_counter() - t0) * 1000)
        out["reports"][name] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
        }
        print(
            f"{name:40s} p50 {out['reports'][name]['p50_ms']:7.1f} ms  p95 {out['reports'][name]['p95_ms']:7.1f} ms",
            file=sys.stderr,
        )
    if args.raw:
        out["raw"] = raw_path(reports)
    print(json.dumps(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.raw and not all(r["equal"] for r in out["raw"].values()):
        sys.exit(1)


def raw_path(reports: Reports) -> dict:
    """Each usage report read request by request (no rollup): its time, and whether every number is equal."""
    from cctelemetry.reports import usage as usage_reports
    from cctelemetry.reports.query import parse_dimensions
    from cctelemetry.reports.scope import Pricing

    out = {}
    for group_by in RAW:
        dims = parse_dimensions(group_by)
        flt = reports._filter(None, None, None, None, dims)
        pricing = Pricing.from_settings(reports.settings, None)
        fast = usage_reports.usage(reports.store, dims, flt, pricing).to_dict()
        t0 = time.perf_counter()
        slow = usage_reports.usage(reports.store, dims, flt, pricing, use_rollup=False).to_dict()
        took = round((time.perf_counter() - t0) * 1000, 1)
        equal = fast["rows"] == slow["rows"] and fast["totals"] == slow["totals"]
        out[f"usage?group_by={group_by}"] = {"ms": took, "equal": equal}
        print(f"raw usage?group_by={group_by:28s} {took:9.1f} ms  equal: {equal}", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
