"""OTLP ingest benchmark: how many Claude Code api_request events per second the embedded service takes.

Starts ``cctelemetry serve`` on a fresh data folder (127.0.0.1 only), posts protobuf OTLP log bodies of
``--per-body`` events each from ``--clients`` threads, ``--bodies`` in all (bounded), then times the
usage report over what arrived. Then sends the same bodies over OTLP/gRPC (LogsService/Export, one
channel per client thread) to a second service on a fresh data folder, and reports that throughput
beside HTTP's (the ``grpc_*`` keys). Prints one JSON object on stdout, and the two transports side by side on stderr.

    .venv/bin/python bench/bench_ingest.py [--bodies 800] [--per-body 250] [--clients 4] [--json PATH]

Figures per transport (``http_*``, ``grpc_*``): ``events_per_s`` counts until every acknowledged event is in the
reports (sustained: the writer and the fact writer kept up), ``ack_events_per_s`` until the last acknowledgement;
ack latency p50/p95/p99 per body; the service's RSS idle (after start), at its peak during the run, and idle
after; ``lost_rows``: acknowledged events missing from the usage report or from request_copies (must be 0).
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


def timed_ingest(send, bodies: list[bytes], clients: int) -> tuple[float, list[float], int]:
    """Send every body from ``clients`` threads; (wall seconds, per-body ack latencies, retries). A 429 or 503 is
    retried after a short pause, as an OTLP exporter retries them; the latency counts from the first try."""
    latencies: list[float] = []
    retries = [0]

    def one(payload: bytes) -> None:
        t0 = time.perf_counter()
        for _ in range(600):
            if send(payload):
                break
            retries[0] += 1
            time.sleep(0.1)
        else:
            raise RuntimeError("a body was refused for a minute")
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, bodies))
    return time.perf_counter() - t0, latencies, retries[0]


class RssSampler:
    """The service process's resident set (VmRSS), sampled every ``every_s`` while running: peak and last."""

    def __init__(self, pid: int, every_s: float = 0.05):
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            self._stop.wait(self.every_s)


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def grpc_sender(port: int):
    """Export pre-serialized bodies (as the HTTP clients post bytes), one channel per client thread."""
    local = threading.local()

    def send(payload: bytes) -> bool:
        if not hasattr(local, "export"):
            channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)])
            local.export = channel.unary_unary(GRPC_EXPORT)
        try:
            local.export(payload, timeout=60)
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
                return False
            raise
        return True

    return send


@contextmanager
def serving():
    """``cctelemetry serve`` on a fresh data folder and free ports: yields (api, otlp, grpc ports, pid)."""
    data = Path(tempfile.mkdtemp(prefix="cct-bench-ingest-"))
    ports = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    env["CCTELEMETRY_REPORT_CACHE"] = "0"  # the report latency below is of reports computed every time
    proc = subprocess.Popen(
        [
            str(CLI),
            "serve",
            "--data-dir",
            str(data),
            "--api-port",
            str(ports[0]),
            "--otlp-port",
            str(ports[1]),
            "--grpc-port",
            str(ports[2]),
            "--metrics-port",
            "0",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{ports[0]}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield (*ports, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def stored_requests(api: int) -> int:
    return httpx.get(f"http://127.0.0.1:{api}/api/v1/usage", timeout=120).json()["totals"]["requests"]


def stored_copies(api: int) -> int:
    """Requests in request_copies (one live row per request; FINAL: a retried copy is the same row)."""
    r = httpx.post(f"http://127.0.0.1:{api}/api/v1/sql", timeout=120,
                   json={"query": "SELECT count() FROM request_copies FINAL WHERE superseded = 0"})  # fmt: skip
    return int(next(iter(r.json()["rows"][0].values())))


def idle_rss(pid: int, settle_s: float = 8.0) -> int:
    """RSS once the service has sat idle for ``settle_s`` seconds (it gives memory back after 5: api/memory.py)."""
    time.sleep(settle_s)
    return rss_bytes(pid)


def run_transport(name: str, make_send, bodies: list[bytes], clients: int, report_runs: int = 0) -> dict:
    """One fresh service: idle RSS, the ingest (ack latencies, RSS peak), the time until every acknowledged event
    is in the reports, lost rows, idle RSS after; the report latencies when ``report_runs``."""
    events = len(bodies) * count_events(bodies[0])
    with serving() as (api, otlp, grpc_port, pid):
        rss_idle = idle_rss(pid)
        send = make_send(otlp, grpc_port)
        with RssSampler(pid) as rss:
            t0 = time.perf_counter()
            elapsed, latencies, retries = timed_ingest(send, bodies, clients)
            total = stored_requests(api)  # a report waits for what was acknowledged: stored and taken in
            stored_s = time.perf_counter() - t0
        copies = stored_copies(api)
        out = {
            f"{name}_events": events,
            f"{name}_ack_seconds": round(elapsed, 2),
            f"{name}_stored_seconds": round(stored_s, 2),
            f"{name}_events_per_s": round(events / stored_s),
            f"{name}_ack_events_per_s": round(events / elapsed),
            f"{name}_ack_p50_ms": round(statistics.median(latencies) * 1000, 1),
            f"{name}_ack_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            f"{name}_ack_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            f"{name}_retries": retries,
            f"{name}_stored_requests": total,
            f"{name}_request_copies": copies,
            f"{name}_lost_rows": events - min(total, copies),
            f"{name}_rss_peak_mib": mib(rss.peak),
            f"{name}_rss_idle_mib": mib(rss_idle),
        }
        for group_by in ("session", "day,model") if report_runs else ():
            ms = []
            for _ in range(report_runs):
                t = time.perf_counter()
                httpx.get(f"http://127.0.0.1:{api}/api/v1/usage", params={"group_by": group_by}, timeout=60)
                ms.append((time.perf_counter() - t) * 1000)
            out[f"usage_{group_by}_p50_ms"] = round(statistics.median(ms), 1)
            out[f"usage_{group_by}_p95_ms"] = round(percentile(ms, 0.95), 1)
        out[f"{name}_rss_idle_after_mib"] = mib(idle_rss(pid))
    return out


def count_events(payload: bytes) -> int:
    request = ExportLogsServiceRequest()
    request.ParseFromString(payload)
    return sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)


def http_sender(otlp: int, _grpc: int):
    local = threading.local()

    def send(payload: bytes) -> bool:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        r = local.client.post(f"http://127.0.0.1:{otlp}/v1/logs", content=payload,
                              headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
        if r.status_code in (429, 503):
            return False
        r.raise_for_status()
        return True

    return send


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bodies", type=int, default=800)
    ap.add_argument("--per-body", type=int, default=250)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--report-runs", type=int, default=30)
    ap.add_argument("--json", metavar="PATH", help="also write the figures to PATH (make bench collects them)")
    args = ap.parse_args()

    now = time.time_ns()
    bodies = [body(args.per_body, now + i * 10**9, f"bench-{i % 50}") for i in range(args.bodies)]
    result = {"clients": args.clients, "per_body": args.per_body, "body_bytes": len(bodies[0]),
              "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}  # fmt: skip
    result.update(run_transport("http", http_sender, bodies, args.clients, args.report_runs))
    # The same bodies over OTLP/gRPC, into a service of its own (a fresh store, as HTTP had).
    result.update(run_transport("grpc", lambda _otlp, port: grpc_sender(port), bodies, args.clients))
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    # The headline keys make bench's table reads (bench/readme_table.py): HTTP's rate and latencies, and the
    # worst of the two services for lost rows and memory.
    result.update({
        "events_per_s": result["http_events_per_s"], "ack_p50_ms": result["http_ack_p50_ms"],
        "ack_p95_ms": result["http_ack_p95_ms"], "ack_p99_ms": result["http_ack_p99_ms"],
        "lost_rows": result["http_lost_rows"] + result["grpc_lost_rows"],
        "rss_peak_mib": max(result["http_rss_peak_mib"], result["grpc_rss_peak_mib"]),
        "rss_idle_mib": max(result["http_rss_idle_mib"], result["grpc_rss_idle_mib"]),
        "rss_idle_after_mib": max(result["http_rss_idle_after_mib"], result["grpc_rss_idle_after_mib"]),
    })  # fmt: skip
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    for name, label in (("http", "OTLP/HTTP"), ("grpc", "OTLP/gRPC")):
        print(
            f"{label}: {result[f'{name}_events_per_s']:>7,} events/s stored ({result[f'{name}_ack_events_per_s']:,}/s "
            f"acknowledged), ack p50 {result[f'{name}_ack_p50_ms']} p95 {result[f'{name}_ack_p95_ms']} "
            f"p99 {result[f'{name}_ack_p99_ms']} ms, RSS peak {result[f'{name}_rss_peak_mib']} MiB, idle "
            f"{result[f'{name}_rss_idle_mib']} MiB (after: {result[f'{name}_rss_idle_after_mib']} MiB), "
            f"lost {result[f'{name}_lost_rows']}, retries {result[f'{name}_retries']}",
            file=sys.stderr,
        )
    for name in ("http", "grpc"):
        assert result[f"{name}_lost_rows"] == 0, f"{name}: {result[f'{name}_lost_rows']} acknowledged events missing"


if __name__ == "__main__":
    main()
