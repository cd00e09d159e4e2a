"""What the live features cost over the bench data: a Prometheus scrape, the insights, the budgets, and how soon an
alert follows the data that crosses a budget.

Starts ``cctelemetry serve`` on a fresh data folder (127.0.0.1, free ports, its metrics port too), posts
``--bodies`` protobuf bodies of ``--per-body`` Claude Code api_request events (bench_ingest.py's), then times:

- ``GET /metrics`` on the API port: the first scrape (computed), then repeated scrapes with no new data (the
  report cache) and scrapes each after one new body (computed again);
- ``GET /api/v1/insights`` over everything;
- ``GET /api/v1/budgets`` with a day, a week and a 5-hour-block budget;
- alert latency: from the POST of the body that crosses a budget (answered once written) to its alert in
  ``GET /api/v1/alerts`` and to the webhook's delivery on a listener on 127.0.0.1.

Prints one JSON object on stdout and a summary on stderr.

    .venv/bin/python bench/bench_live.py [--bodies 400] [--per-body 250] [--runs 20]
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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bench_ingest import CLI, body, free_port, percentile, timed_ingest


def serve(data: Path) -> tuple[subprocess.Popen, str, str]:
    api, otlp, metrics = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    proc = subprocess.Popen([str(CLI), "serve", "--data-dir", str(data), "--api-port", str(api), "--otlp-port",
                             str(otlp), "--grpc-port", "0", "--metrics-port", str(metrics)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{api}/healthz", timeout=1).status_code == 200:
                return proc, f"http://127.0.0.1:{api}", f"http://127.0.0.1:{otlp}"
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("cctelemetry serve did not answer /healthz within 90 s")


def timed(call, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def stats(name: str, ms: list[float]) -> dict:
    return {f"{name}_p50_ms": round(statistics.median(ms), 1), f"{name}_p95_ms": round(percentile(ms, 0.95), 1)}


class Hook:
    """A webhook receiver on 127.0.0.1 that notes when each delivery arrived."""

    def __init__(self):
        self.arrivals: list[float] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.arrivals.append(time.perf_counter())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bodies", type=int, default=400)
    ap.add_argument("--per-body", type=int, default=250)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cct-bench-live-"))
    proc, api, otlp = serve(data)
    client = httpx.Client(timeout=120)
    result: dict = {}
    try:
        now = time.time_ns()
        bodies = [body(args.per_body, now - 3600 * 10**9 + i * 10**9, f"bench-{i % 50}") for i in range(args.bodies)]

        def post(payload: bytes) -> bool:
            """True once stored; False for a 429 or 503 (timed_ingest retries those, as an exporter does)."""
            r = client.post(f"{otlp}/v1/logs", content=payload, headers={"Content-Type": "application/x-protobuf"})
            if r.status_code in (429, 503):
                return False
            r.raise_for_status()
            return True

        timed_ingest(post, bodies, args.clients)
        result["requests"] = client.get(f"{api}/api/v1/usage").json()["totals"]["requests"]

        result["metrics_first_ms"] = round(timed(lambda: client.get(f"{api}/metrics").raise_for_status(), 1)[0], 1)
        result.update(stats("metrics_repeated", timed(lambda: client.get(f"{api}/metrics"), args.runs)))
        extra = [body(1, now + i * 10**6, "bench-extra") for i in range(args.runs)]
        fresh = []
        for payload in extra:
            post(payload)
            fresh += timed(lambda: client.get(f"{api}/metrics"), 1)
        result.update(stats("metrics_after_new_data", fresh))
        result["metrics_bytes"] = len(client.get(f"{api}/metrics").content)

        result.update(stats("insights", timed(lambda: client.get(f"{api}/api/v1/insights").raise_for_status(),
                                              max(3, args.runs // 4))))  # fmt: skip

        total_usd = client.get(f"{api}/api/v1/usage").json()["totals"]["cost_usd"]
        hook = Hook()
        client.put(f"{api}/api/v1/budgets", json={"budgets": [
            {"name": "day", "period": "day", "amount_usd": total_usd * 10},
            {"name": "week", "period": "week", "amount_usd": total_usd * 10},
            {"name": "block", "period": "block", "amount_tokens": 10**12}]}).raise_for_status()  # fmt: skip
        result.update(stats("budgets", timed(lambda: client.get(f"{api}/api/v1/budgets").raise_for_status(),
                                             max(3, args.runs // 4))))  # fmt: skip

        # an alert: a budget just above today's spend, crossed by one more body
        spent = client.get(f"{api}/api/v1/budgets").json()["budgets"][0]["spent"]
        client.put(
            f"{api}/api/v1/budgets",
            json={
                "budgets": [
                    {
                        "name": "crossed",
                        "period": "day",
                        "thresholds": [100],
                        "amount_usd": spent + 0.01,
                        "webhook": hook.url,
                        "projected_overrun": False,
                    }
                ]
            },
        ).raise_for_status()
        time.sleep(2)  # the check the PUT triggered is done: nothing crossed yet
        crossing = body(1, now + 10**9, "bench-cross")
        t0 = time.perf_counter()
        post(crossing)
        deadline = time.monotonic() + 120
        alert_at = None
        while time.monotonic() < deadline and (alert_at is None or not hook.arrivals):
            if alert_at is None and client.get(f"{api}/api/v1/alerts").json()["alerts"]:
                alert_at = time.perf_counter()
            time.sleep(0.01)
        result["alert_after_write_ms"] = round((alert_at - t0) * 1000) if alert_at else None
        result["webhook_after_write_ms"] = round((hook.arrivals[0] - t0) * 1000) if hook.arrivals else None
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(data, ignore_errors=True)
    print(json.dumps(result))
    print(
        f"over {result['requests']:,} requests:\n"
        f"  GET /metrics          first {result['metrics_first_ms']} ms; "
        f"repeated p50 {result['metrics_repeated_p50_ms']} "
        f"/ p95 {result['metrics_repeated_p95_ms']} ms; after new data p50 {result['metrics_after_new_data_p50_ms']} "
        f"/ p95 {result['metrics_after_new_data_p95_ms']} ms ({result['metrics_bytes']:,} bytes)\n"
        f"  GET /api/v1/insights  p50 {result['insights_p50_ms']} / p95 {result['insights_p95_ms']} ms\n"
        f"  GET /api/v1/budgets   p50 {result['budgets_p50_ms']} / p95 {result['budgets_p95_ms']} ms (3 budgets)\n"
        f"  alert after the write {result['alert_after_write_ms']} ms, webhook {result['webhook_after_write_ms']} ms",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
