"""Soak: a real ``cctelemetry serve`` under a steady OTLP load with everything else a busy service does at the same
time, for a while. Checks that what was acknowledged is what is stored, and measures ack latency and memory.

    .venv/bin/python bench/soak.py [--seconds 600] [--rate 2000] [--clients 16] [--per-body 100] [--json]

While it runs (on a fresh data folder, 127.0.0.1, free ports):

- ``--clients`` threads send OTLP/HTTP protobuf bodies of ``--per-body`` Claude Code ``api_request`` events, paced
  together at ``--rate`` events/s (each on a fixed schedule; a client that falls behind sends at once, it never
  skips). A 429/503 is retried after its Retry-After (at most 1 s here); anything else is an error.
- reports: ``/api/v1/usage`` (by model, by session), ``/api/v1/sessions``, ``/api/v1/cost``, one after another;
- the dashboard's queries (docs/dashboard.md: overview, previous period, filter menus, the four tables, top sessions,
  a session's drill-down) every 5 s, as an open dashboard refreshing does;
- a transcript import: a writer appends request lines to transcript files (sessions of their own, and copies of
  requests telemetry already delivered, which must merge), and ``POST /api/v1/import`` reads them every 5 s.

At the end (after a final import): the usage report's requests and tokens equal the acknowledged events plus the
transcript-only requests, exactly; every copy merged (``source`` otel+transcript); no request twice in the
``requests`` view; no answer other than 200, 429 and 503. Printed: events/s achieved, ack latency p50/p99, report
and dashboard latencies, and the service's RSS every ``--sample-s`` seconds, which must stay flat (after the
first fifth of the run, its peak stays within 25 % + 64 MiB of its level then). Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

CLI = Path(sys.executable).with_name("cctelemetry")
PROTOBUF = {"Content-Type": "application/x-protobuf"}
TOKENS = {"input_tokens": 1234, "output_tokens": 321, "cache_read_tokens": 9101, "cache_creation_tokens": 567}
# Each client's events spread over SESSIONS_PER_CLIENT sessions at a time, and each session ends after
# SESSION_BODIES of the client's bodies (a session of SESSION_BODIES * per_body / SESSIONS_PER_CLIENT requests): many
# sessions open at once, none growing without end, as a team's agents make them.
SESSIONS_PER_CLIENT = 200
SESSION_BODIES = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def kv(key: str, value) -> KeyValue:
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


class Bodies:
    """One client's bodies: a protobuf message built once (Claude Code 2.1.197's shape), its ids, session and time
    set anew for each body, so that building a body costs little of the machine the service runs on."""

    def __init__(self, client: int, per_body: int, run: str):
        self.client, self.run = client, run
        self.message = ExportLogsServiceRequest()
        rl = self.message.resource_logs.add()
        rl.resource.attributes.extend([kv("service.name", "claude-code"), kv("service.version", "2.1.197"),
                                       kv("host.name", f"soak-{client}")])  # fmt: skip
        sl = rl.scope_logs.add()
        sl.scope.name, sl.scope.version = "com.anthropic.claude_code.events", "2.1.197"
        for j in range(per_body):
            record = LogRecord()
            record.body.string_value = "claude_code.api_request"
            record.attributes.extend([
                kv("session.id", ""), kv("request_id", ""), kv("event.name", "api_request"), kv("event.sequence", j),
                kv("model", "claude-sonnet-4-5" if j % 3 else "claude-haiku-4-5"), kv("cost_usd", 0.0125),
                kv("duration_ms", 1500), kv("query_source", "sdk"), kv("prompt.id", str(uuid.uuid4())),
                *(kv(k, v) for k, v in TOKENS.items()),
            ])  # fmt: skip
            sl.log_records.append(record)
        self.records = sl.log_records

    def body(self, k: int) -> tuple[bytes, list[tuple[str, str]]]:
        """Body ``k``: its bytes, and the (session, request id) of each of its events."""
        now = time.time_ns()
        generation = k // SESSION_BODIES
        events = []
        for j, record in enumerate(self.records):
            record.time_unix_nano = record.observed_time_unix_nano = now + j * 1000
            slot = (k * len(self.records) + j) % SESSIONS_PER_CLIENT
            session = f"{self.run}-c{self.client}-g{generation}-s{slot}"
            request_id = f"req_{self.run}_{self.client}_{k}_{j}"
            record.attributes[0].value.string_value = session
            record.attributes[1].value.string_value = request_id
            events.append((session, request_id))
        return self.message.SerializeToString(), events


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked_events: int = 0
    acked_bodies: int = 0
    ack_latency: list[float] = field(default_factory=list)  # per body, from its first attempt to its 200
    acks: list[tuple[float, int, float]] = field(default_factory=list)  # (when, events, latency) per body
    lag: list[float] = field(default_factory=list)  # how late each body left against its schedule
    retries: dict[int, int] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)
    reports: dict[str, list[float]] = field(default_factory=dict)
    imports: list[dict] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)

    def timed(self, what: str, seconds: float) -> None:
        with self.lock:
            self.reports.setdefault(what, []).append(seconds)


def sender(url: str, bodies: Bodies, interval: float, t0: float, stop: threading.Event, tally: Tally,
           acked: "queue.Queue[tuple[str, str]]") -> None:  # fmt: skip
    with httpx.Client(timeout=60) as http:
        k = 0
        while not stop.is_set():
            due = t0 + k * interval
            wait = due - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return
            payload, events = bodies.body(k)
            started = time.monotonic()
            lag = started - due
            while True:
                try:
                    r = http.post(url + "/v1/logs", content=payload, headers=PROTOBUF)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status, r = 0, None
                    tally.bad.append(f"OTLP post failed: {exc}")
                if status in (429, 503):
                    with tally.lock:
                        tally.retries[status] = tally.retries.get(status, 0) + 1
                    time.sleep(min(float(r.headers.get("retry-after", 1)), 1.0))
                    continue
                break
            if status != 200:
                tally.bad.append(f"OTLP answered {status}: {r.text[:200] if r is not None else ''}")
                return
            done = time.monotonic()
            with tally.lock:
                tally.acked_events += len(events)
                tally.acked_bodies += 1
                tally.ack_latency.append(done - started)
                tally.acks.append((done, len(events), done - started))
                tally.lag.append(lag)
            if k % 10 == 0:
                acked.put(events[0])  # now and then, a copy of one goes into a transcript
            k += 1


def reporter(api: str, stop: threading.Event, tally: Tally) -> None:
    calls = [("usage by model", "/api/v1/usage", {"group_by": "model", "since": "24h"}),
             ("usage by session", "/api/v1/usage", {"group_by": "session", "since": "24h", "limit": 100}),
             ("sessions", "/api/v1/sessions", {"limit": 20}),
             ("cost by model and day", "/api/v1/cost", {"group_by": "model", "period": "day", "since": "7d"})]  # fmt: skip
    with httpx.Client(base_url=api, timeout=120) as http:
        while not stop.is_set():
            for name, path, params in calls:
                _get(http, tally, name, path, params)
            stop.wait(0.5)


def dashboard(api: str, stop: threading.Event, tally: Tally) -> None:
    """The calls an open dashboard makes on each refresh (docs/dashboard.md), 7-day view."""
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 6 * 86400))
    before = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 13 * 86400))
    view = {"since": week_ago, "tz": "UTC"}
    with httpx.Client(base_url=api, timeout=120) as http:
        while not stop.is_set():
            t0 = time.monotonic()
            _get(http, tally, "dashboard", "/api/v1/usage", {"group_by": "day,model", **view})
            _get(http, tally, "dashboard", "/api/v1/usage", {"since": before, "until": week_ago, "tz": "UTC"})
            _get(http, tally, "dashboard", "/api/v1/usage", {"group_by": "user,project,model,agent", **view})
            for dim in ("agent", "user", "project", "attr.team"):
                _get(http, tally, "dashboard", "/api/v1/usage", {"group_by": f"day,{dim}", **view})
            top = _get(http, tally, "dashboard", "/api/v1/sessions", {"order": "cost", "limit": 10, **view})
            if top and top.get("rows"):
                _get(http, tally, "dashboard", f"/api/v1/sessions/{top['rows'][0]['session']}", {})
            tally.timed("dashboard refresh", time.monotonic() - t0)
            stop.wait(5)


def _get(http: httpx.Client, tally: Tally, name: str, path: str, params: dict) -> dict | None:
    t0 = time.monotonic()
    try:
        r = http.get(path, params=params)
    except httpx.HTTPError as exc:
        tally.bad.append(f"{name}: {exc}")
        return None
    tally.timed(name, time.monotonic() - t0)
    if r.status_code != 200:
        tally.bad.append(f"{name}: {r.status_code} {r.text[:200]}")
        return None
    return r.json()


@dataclass
class Transcripts:
    """A transcript folder that grows while the soak runs: lines of sessions only transcripts know, and copies of
    requests telemetry delivered (into those sessions' files)."""

    folder: Path
    run: str
    own: int = 0  # transcript-only requests written
    copies: int = 0  # copies of acknowledged telemetry requests written

    def line(self, session: str, request_id: str, message_id: str) -> str:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        usage = {"input_tokens": TOKENS["input_tokens"], "output_tokens": TOKENS["output_tokens"],
                 "cache_read_input_tokens": TOKENS["cache_read_tokens"],
                 "cache_creation_input_tokens": TOKENS["cache_creation_tokens"],
                 "cache_creation": {"ephemeral_5m_input_tokens": TOKENS["cache_creation_tokens"],
                                    "ephemeral_1h_input_tokens": 0}}  # fmt: skip
        return json.dumps({"type": "assistant", "timestamp": stamp, "uuid": str(uuid.uuid4()), "sessionId": session,
                           "requestId": request_id, "cwd": "/home/soak/work", "gitBranch": "main",
                           "message": {"id": message_id, "role": "assistant", "model": "claude-sonnet-4-5",
                                       "usage": usage}}) + "\n"  # fmt: skip

    def append(self, session: str, line: str) -> None:
        with open(self.folder / f"{session}.jsonl", "a") as fh:
            fh.write(line)

    def write_own(self, n: int) -> None:
        for _ in range(n):
            session = f"{self.run}-t{self.own % 10}"
            self.append(session, self.line(session, f"req_{self.run}_t{self.own}", f"msg_{self.run}_t{self.own}"))
            self.own += 1

    def write_copies(self, acked: "queue.Queue[tuple[str, str]]") -> None:
        while True:
            try:
                session, request_id = acked.get_nowait()
            except queue.Empty:
                return
            self.append(session, self.line(session, request_id, f"msg_{request_id}"))
            self.copies += 1


def importer(api: str, transcripts: Transcripts, acked, stop: threading.Event, tally: Tally) -> None:
    with httpx.Client(base_url=api, timeout=300) as http:
        second = 0
        while not stop.wait(1):
            transcripts.write_own(5)
            transcripts.write_copies(acked)
            second += 1
            if second % 5 == 0:
                _import(http, transcripts, tally)


def _import(http: httpx.Client, transcripts: Transcripts, tally: Tally) -> None:
    t0 = time.monotonic()
    r = http.post("/api/v1/import", json={"paths": [str(transcripts.folder.parent)]})
    if r.status_code != 200:
        tally.bad.append(f"import: {r.status_code} {r.text[:200]}")
        return
    tally.imports.append({"seconds": time.monotonic() - t0, "new": r.json().get("new_requests", 0)})


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve(data: Path) -> tuple[subprocess.Popen, str, str]:
    api, otlp = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    log = open(data.parent / "serve.log", "wb")
    proc = subprocess.Popen([str(CLI), "serve", "--data-dir", str(data), "--api-port", str(api), "--otlp-port",
                             str(otlp), "--grpc-port", "0", "--metrics-port", "0"], env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{api}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"cctelemetry serve exited: {(data.parent / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base, f"http://127.0.0.1:{otlp}"
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("cctelemetry serve did not answer /healthz within 120 s")


def soak(seconds: float, rate: float, clients: int, per_body: int, sample_s: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cctelemetry-soak-"))
    run = uuid.uuid4().hex[:8]
    folder = tmp / "projects" / "-home-soak-work"
    folder.mkdir(parents=True)
    proc, api, otlp = serve(tmp / "data")
    tally, stop = Tally(), threading.Event()
    acked: queue.Queue = queue.Queue()
    transcripts = Transcripts(folder, run)
    interval = clients * per_body / rate
    t0 = time.monotonic() + 0.5
    threads = [threading.Thread(target=sender, args=(otlp, Bodies(c, per_body, run), interval,
                                                     t0 + c * interval / clients, stop, tally, acked))
               for c in range(clients)]  # fmt: skip
    threads += [threading.Thread(target=f, args=(api, stop, tally)) for f in (reporter, dashboard)]
    threads.append(threading.Thread(target=importer, args=(api, transcripts, acked, stop, tally)))
    started = time.monotonic()
    try:
        for t in threads:
            t.start()
        while (elapsed := time.monotonic() - started) < seconds and proc.poll() is None:
            tally.rss.append((round(elapsed, 1), round(rss_mib(proc.pid), 1)))
            time.sleep(min(sample_s, max(seconds - elapsed, 0.05)))
        stop.set()
        for t in threads:
            t.join(180)
        wall = time.monotonic() - started
        tally.rss.append((round(wall, 1), round(rss_mib(proc.pid), 1)))
        with httpx.Client(base_url=api, timeout=300) as http:
            transcripts.write_copies(acked)
            _import(http, transcripts, tally)  # the last lines in
            return check(http, tally, transcripts, wall, rate, seconds, clients, per_body)
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def check(http: httpx.Client, tally: Tally, transcripts: Transcripts, wall: float, rate: float, seconds: float,
          clients: int, per_body: int) -> dict:  # fmt: skip
    expected = tally.acked_events + transcripts.own
    totals = http.get("/api/v1/usage", params={"since": "2000-01-01"}).json()["totals"]
    by_source = {r["source"]: r["requests"] for r in
                 http.get("/api/v1/usage", params={"group_by": "source", "since": "2000-01-01"}).json()["rows"]}  # fmt: skip
    twice = http.post("/api/v1/sql", json={"query": "SELECT count() AS n FROM (SELECT session_id, request_key FROM "
                                                    "requests GROUP BY ALL HAVING count() > 1)"}).json()["rows"][0]["n"]  # fmt: skip
    warm = [m for t, m in tally.rss if t >= seconds / 5]
    base = warm[0] if warm else 0.0
    peak = max((m for _, m in tally.rss), default=0.0)
    late_peak = max(warm, default=0.0)
    checks = {
        "count in == count stored": totals["requests"] == expected,
        "tokens stored == tokens sent": all(totals[k] == expected * v for k, v in TOKENS.items()),
        "every transcript copy merged": by_source.get("otel+transcript", 0) == transcripts.copies,
        "no request twice": int(twice) == 0,
        "only 200, 429, 503 answered": not tally.bad,
        "RSS flat after warm-up": late_peak <= base * 1.25 + 64,
    }
    latency = {name: {"n": len(v), "p50_ms": round(pct(v, 0.5) * 1000), "p99_ms": round(pct(v, 0.99) * 1000)}
               for name, v in sorted(tally.reports.items())}  # fmt: skip
    windows = _windows(tally, seconds)
    return {
        "ok": all(checks.values()), "checks": checks, "seconds": round(wall, 1), "target_events_per_s": rate,
        "clients": clients, "per_body": per_body, "events_acked": tally.acked_events,
        "events_per_s": round(tally.acked_events / wall), "bodies_acked": tally.acked_bodies,
        "ack_p50_ms": round(pct(tally.ack_latency, 0.5) * 1000, 1),
        "ack_p99_ms": round(pct(tally.ack_latency, 0.99) * 1000, 1),
        "ack_max_ms": round(max(tally.ack_latency, default=0) * 1000, 1),
        "send_lag_p99_ms": round(pct(tally.lag, 0.99) * 1000, 1), "retries": tally.retries,
        "requests_stored": totals["requests"], "requests_expected": expected,
        "transcript_only_requests": transcripts.own, "transcript_copies_merged": by_source.get("otel+transcript", 0),
        "transcript_copies_written": transcripts.copies, "imports": len(tally.imports),
        "import_p50_s": round(statistics.median([i["seconds"] for i in tally.imports]), 2) if tally.imports else None,
        "latency": latency, "windows": windows, "rss_mib": tally.rss, "rss_start_mib": tally.rss[0][1] if tally.rss else None,
        "rss_after_warmup_mib": base, "rss_peak_mib": peak, "rss_end_mib": tally.rss[-1][1] if tally.rss else None,
        "errors": tally.bad[:20],
    }


def _windows(tally: Tally, seconds: float) -> list[dict]:
    """Events/s and ack latency per tenth of the run: whether the service keeps its pace as the store grows."""
    if not tally.acks:
        return []
    start = min(t for t, _, _ in tally.acks) - min(lat for _, _, lat in tally.acks)
    width = max(seconds / 10, 1.0)
    out = []
    for i in range(10):
        lo, hi = start + i * width, start + (i + 1) * width
        inside = [(n, lat) for t, n, lat in tally.acks if lo <= t < hi]
        out.append({"from_s": round(i * width), "events_per_s": round(sum(n for n, _ in inside) / width),
                    "ack_p50_ms": round(pct([lat for _, lat in inside], 0.5) * 1000),
                    "ack_p99_ms": round(pct([lat for _, lat in inside], 0.99) * 1000)})  # fmt: skip
    return out


def print_human(r: dict) -> None:
    out = sys.stderr
    print(f"soak: {r['seconds']} s, {r['clients']} clients, target {r['target_events_per_s']:,.0f} events/s, "
          f"achieved {r['events_per_s']:,} events/s ({r['events_acked']:,} acknowledged)", file=out)
    print(f"ack latency per body of {r['per_body']}: p50 {r['ack_p50_ms']} ms, p99 {r['ack_p99_ms']} ms, "
          f"max {r['ack_max_ms']} ms; retries {r['retries'] or 'none'}", file=out)
    for name, v in r["latency"].items():
        print(f"  {name:<24} n={v['n']:<6} p50 {v['p50_ms']} ms  p99 {v['p99_ms']} ms", file=out)
    print(f"imports: {r['imports']} (p50 {r['import_p50_s']} s); transcript-only requests {r['transcript_only_requests']},"
          f" copies merged {r['transcript_copies_merged']}/{r['transcript_copies_written']}", file=out)
    print("pace per tenth of the run (events/s, ack p50/p99 ms): " + "; ".join(
        f"{w['from_s']}s {w['events_per_s']:,} {w['ack_p50_ms']}/{w['ack_p99_ms']}" for w in r["windows"]), file=out)
    samples = r["rss_mib"]
    step = max(1, len(samples) // 12)
    print("RSS (MiB) over time: " + ", ".join(f"{t:g}s {m:g}" for t, m in samples[::step] + samples[-1:]), file=out)
    for name, ok in r["checks"].items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}", file=out)
    for error in r["errors"]:
        print(f"  error: {error}", file=out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--rate", type=float, default=2000, help="events/s, all clients together")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--per-body", type=int, default=100)
    ap.add_argument("--sample-s", type=float, default=10, help="RSS sampling interval")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    args = ap.parse_args(argv)
    result = soak(args.seconds, args.rate, args.clients, args.per_body, args.sample_s)
    print_human(result)
    if args.json:
        print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
