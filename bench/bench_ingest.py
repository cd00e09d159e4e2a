"""OTLP ingest benchmark: how many Claude Code api_request events per second the embedded service takes.

Starts ``cctelemetry serve`` on a fresh data folder (127.0.0.1 only), posts protobuf OTLP log bodies of
``--per-body`` events each from ``--clients`` threads, ``--bodies`` in all (bounded), then times the
usage report over what arrived. Then sends the same bodies over OTLP/gRPC (LogsService/Export, one
channel per client thread) to a second service on a fresh data folder, and reports that throughput
beside HTTP's (the ``grpc_*`` keys). Prints one JSON object on stdout, and the two transports side by side on stderr.

    .venv/bin/python bench/bench_ingest.py [--bodies 400] [--per-body 250] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import grpc
import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

CLI = Path(sys.executable).with_name("cctelemetry")
GRPC_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kv(key: str, value) -> KeyValue:
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def body(n_events: int, start_ns: int, session: str) -> bytes:
    """One export request shaped like Claude Code 2.1.197's (tests/data/claude-code-2.1.197)."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend([kv("service.name", "claude-code"), kv("service.version", "2.1.197")])
    sl = rl.scope_logs.add()
    sl.scope.name, sl.scope.version = "com.anthropic.claude_code.events", "2.1.197"
    for i in range(n_events):
        record = LogRecord(time_unix_nano=start_ns + i * 1_000_000, observed_time_unix_nano=start_ns + i * 1_000_000)
        record.body.string_value = "claude_code.api_request"
        record.attributes.extend([
            kv("session.id", session), kv("event.name", "api_request"), kv("event.sequence", i),
            kv("model", "claude-sonnet-4-5" if i % 3 else "claude-haiku-4-5"), kv("input_tokens", 1234),
            kv("output_tokens", 321), kv("cache_read_tokens", 91011), kv("cache_creation_tokens", 5678),
            kv("cost_usd", 0.0571128), kv("duration_ms", 100), kv("request_id", f"req_{uuid.uuid4().hex}"),
            kv("query_source", "sdk"), kv("user.id", "u" * 64), kv("prompt.id", str(uuid.uuid4())),
        ])  # fmt: skip
        sl.log_records.append(record)
    return req.SerializeToString()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed_ingest(send, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    """Send every body from ``clients`` threads; (wall seconds, per-body latencies)."""
    latencies: list[float] = []

    def one(payload: bytes) -> None:
        t0 = time.perf_counter()
        send(payload)
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, bodies))
    return time.perf_counter() - t0, latencies


def grpc_sender(port: int):
    """Export pre-serialized bodies (as the HTTP clients post bytes), one channel per client thread."""
    local = threading.local()

    def send(payload: bytes) -> None:
        if not hasattr(local, "export"):
            channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)])
            local.export = channel.unary_unary(GRPC_EXPORT)
        local.export(payload, timeout=60)

    return send


@contextmanager
def serving():
    """``cctelemetry serve`` on a fresh data folder and free ports: yields (api, otlp, grpc) ports."""
    data = Path(tempfile.mkdtemp(prefix="cct-bench-ingest-"))
    ports = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env["CCTELEMETRY_REPORT_CACHE"] = "0"  # the report latency below is of reports computed every time
    proc = subprocess.Popen([str(CLI), "serve", "--data-dir", str(data), "--api-port", str(ports[0]), "--otlp-port",
                             str(ports[1]), "--grpc-port", str(ports[2]), "--metrics-port", "0"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{ports[0]}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield ports
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def stored_requests(api: int) -> int:
    return httpx.get(f"http://127.0.0.1:{api}/api/v1/usage", timeout=60).json()["totals"]["requests"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bodies", type=int, default=400)
    ap.add_argument("--per-body", type=int, default=250)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--report-runs", type=int, default=30)
    args = ap.parse_args()
    events = args.bodies * args.per_body

    with serving() as (api, otlp, _):
        now = time.time_ns()
        bodies = [body(args.per_body, now + i * 10**9, f"bench-{i % 50}") for i in range(args.bodies)]

        def post(payload: bytes, client=httpx.Client(timeout=60)) -> None:
            r = client.post(f"http://127.0.0.1:{otlp}/v1/logs", content=payload,
                            headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
            r.raise_for_status()

        elapsed, latencies = timed_ingest(post, bodies, args.clients)
        total = stored_requests(api)
        report_ms = []
        for group_by in ("session", "day,model"):
            for _ in range(args.report_runs):
                t = time.perf_counter()
                httpx.get(f"http://127.0.0.1:{api}/api/v1/usage", params={"group_by": group_by}, timeout=60)
                report_ms.append((group_by, (time.perf_counter() - t) * 1000))
    result = {
        "events": events, "stored_requests": total, "seconds": round(elapsed, 2),
        "events_per_s": round(events / elapsed), "body_bytes": len(bodies[0]),
        "post_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "post_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
    }  # fmt: skip
    for group_by in ("session", "day,model"):
        ms = [v for g, v in report_ms if g == group_by]
        result[f"usage_{group_by}_p50_ms"] = round(statistics.median(ms), 1)
        result[f"usage_{group_by}_p95_ms"] = round(percentile(ms, 0.95), 1)

    # The same bodies over OTLP/gRPC, into a service of its own (a fresh store, as HTTP had).
    with serving() as (api, _, grpc_port):
        grpc_elapsed, grpc_latencies = timed_ingest(grpc_sender(grpc_port), bodies, args.clients)
        grpc_total = stored_requests(api)
    result.update({
        "grpc_events": events, "grpc_stored_requests": grpc_total, "grpc_seconds": round(grpc_elapsed, 2),
        "grpc_events_per_s": round(events / grpc_elapsed),
        "grpc_export_p50_ms": round(statistics.median(grpc_latencies) * 1000, 1),
        "grpc_export_p95_ms": round(percentile(grpc_latencies, 0.95) * 1000, 1),
    })  # fmt: skip
    print(json.dumps(result))
    print(f"ingest, {args.clients} clients, bodies of {args.per_body} events:\n"
          f"  OTLP/HTTP  {result['events_per_s']:>7,} events/s  p50 {result['post_p50_ms']} ms  "
          f"p95 {result['post_p95_ms']} ms per body\n"
          f"  OTLP/gRPC  {result['grpc_events_per_s']:>7,} events/s  p50 {result['grpc_export_p50_ms']} ms  "
          f"p95 {result['grpc_export_p95_ms']} ms per body", file=sys.stderr)  # fmt: skip
    assert total == events, f"stored {total} of {events} events"
    assert grpc_total == events, f"stored {grpc_total} of {events} events sent over gRPC"


if __name__ == "__main__":
    main()
