"""The terminal's latencies: ``cctelemetry statusline`` end to end with the service running (what Claude Code
waits for on every statusline update), the same without a service (the input alone), ``cctelemetry monitor
--once`` (through the service, and on the store when none runs), and ``GET /api/v1/blocks`` / ``limits``.

Starts ``cctelemetry serve`` on a fresh data folder (127.0.0.1, free ports, no gRPC), gives it
``--requests`` api_request events from two people over 30 days (the last ones now, so there is an active
block) and official rate limits through the statusline endpoint, then times. A statusline run is timed as
Claude Code starts it (``sh -c '<command>'`` with the statusline JSON on stdin) from spawn to exit. Prints one
JSON object on stdout and a summary on stderr.

    .venv/bin/python bench/bench_terminal.py [--requests 20000] [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from claude_events import Request, logs_body  # noqa: E402 - found through the sys.path entry above

CLI = Path(sys.executable).with_name("cctelemetry")
STATUSLINE_INPUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "statusline" / "documented.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(values: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(values) * 1000, 1), "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1), "runs": len(values)}  # fmt: skip


def timed(cmd: list[str], runs: int, stdin: bytes = b"", env: dict | None = None) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=120)
        out.append(time.perf_counter() - started)
        assert proc.returncode == 0, proc.stderr
    return out


def requests(n: int, now: datetime) -> list[Request]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        user = "alice@example.com" if i % 3 else "bob@example.com"
        at = now - timedelta(days=30) * (1 - i / n) - timedelta(seconds=rng.randint(0, 60))
        if i >= n - 2:  # the last request of each person now: a block is active even just after a block's end
            at = now - timedelta(seconds=1)
        out.append(
            Request(
                at,
                f"bench-session-{i // 40}",
                f"req_bench_{i}",
                rng.choice(["claude-sonnet-4-5", "claude-haiku-4-5"]),
                rng.randint(1, 4000),
                rng.randint(20, 2000),
                rng.randint(0, 100_000),
                rng.randint(0, 5000),
                cost_usd=round(rng.uniform(0.001, 0.2), 6),
                user_email=user,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cctelemetry-bench-terminal-"))
    api = free_port()
    url = f"http://127.0.0.1:{api}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    with open(tmp / "service.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen([str(CLI), "serve", "--data-dir", str(tmp / "data"), "--api-port", str(api),
                                 "--otlp-port", str(free_port()), "--grpc-port", "0", "--metrics-port", "0"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    result: dict = {"requests": args.requests}
    try:
        client = httpx.Client(base_url=url, timeout=120, trust_env=False)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        now = datetime.now(UTC)
        events = requests(args.requests, now)
        for i in range(0, len(events), 1000):
            assert client.post("/v1/logs", json=logs_body(events[i : i + 1000])).status_code == 200
        hook = json.loads(STATUSLINE_INPUT.read_text())
        hook["session_id"] = events[-1].session
        hook["rate_limits"]["five_hour"]["resets_at"] = int(now.timestamp()) + 3600
        hook["rate_limits"]["seven_day"]["resets_at"] = int(now.timestamp()) + 3 * 86400
        stdin = json.dumps(hook).encode()
        assert (
            client.post("/api/v1/statusline", content=stdin, headers={"Content-Type": "application/json"}).status_code
            == 200
        )
        started = time.perf_counter()
        monitor = client.get("/api/v1/monitor")  # the figures a statusline shows: computed once, then kept
        result["first_monitor_snapshot_s"] = round(time.perf_counter() - started, 3)
        assert monitor.status_code == 200 and monitor.json()["blocks"], monitor.text[:500]

        line_env = {**env, "CCTELEMETRY_API_URL": url, "NO_COLOR": "1"}
        command = ["sh", "-c", f"{shlex.quote(str(CLI))} statusline"]
        line = (
            subprocess.run(command, input=stdin, capture_output=True, env=line_env, timeout=60).stdout.decode().strip()
        )
        assert "today" in line and "block" in line, line
        result["statusline_line"] = line
        result["python_startup"] = ms(timed([sys.executable, "-c", "pass"], args.runs))
        result["statusline_service"] = ms(timed(command, args.runs, stdin, line_env))
        result["statusline_no_service"] = ms(
            timed(command, args.runs, stdin, {**line_env, "CCTELEMETRY_API_URL": f"http://127.0.0.1:{free_port()}"})
        )
        endpoint = []
        for _ in range(args.runs):
            started = time.perf_counter()
            assert client.post("/api/v1/statusline?format=text", content=stdin,
                               headers={"Content-Type": "application/json"}).status_code == 200  # fmt: skip
            endpoint.append(time.perf_counter() - started)
        result["statusline_endpoint"] = ms(endpoint)
        result["monitor_once_service"] = ms(
            timed([str(CLI), "monitor", "--once", "--json", "--api-url", url], 10, env=env)
        )
        # issue 11.4: any CLI report from a running service in under 300 ms wall, process start to exit
        result["cli_help"] = ms(timed([str(CLI), "--help"], 10, env=env))
        for name, report in (("cli_usage_day", ["usage", "--by", "day"]), ("cli_sessions", ["sessions"]),
                             ("cli_cost", ["cost"]), ("cli_blocks", ["blocks"])):  # fmt: skip
            result[name] = ms(timed([str(CLI), *report, "--api-url", url], 20, env={**env, "COLUMNS": "160"}))
        for name, path in (("blocks_api", "/api/v1/blocks"), ("blocks_active_api", "/api/v1/blocks?active=true"),
                           ("limits_api", "/api/v1/limits")):  # fmt: skip
            times = []
            for _ in range(10):
                started = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append(time.perf_counter() - started)
            result[name] = ms(times)
    finally:
        proc.terminate()
        proc.wait(60)
    result["monitor_once_store"] = ms(
        timed([str(CLI), "monitor", "--once", "--json", "--data-dir", str(tmp / "data")], 3, env=env)
    )
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    s = result
    print(f"statusline, service running ({s['requests']:,} requests): p50 {s['statusline_service']['p50_ms']} ms, "
          f"p95 {s['statusline_service']['p95_ms']} ms (python -c pass: p50 {s['python_startup']['p50_ms']} ms); "
          f"no service: p95 {s['statusline_no_service']['p95_ms']} ms; the endpoint alone: p95 "
          f"{s['statusline_endpoint']['p95_ms']} ms\nmonitor --once: p50 {s['monitor_once_service']['p50_ms']} ms "
          f"through the service, {s['monitor_once_store']['p50_ms']} ms on the store\nCLI reports through the "
          f"service, p95: usage --by day {s['cli_usage_day']['p95_ms']} ms, sessions {s['cli_sessions']['p95_ms']} ms, "
          f"cost {s['cli_cost']['p95_ms']} ms, blocks {s['cli_blocks']['p95_ms']} ms", file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
