"""Fuzzing the receivers of a real ``cctelemetry serve`` with generated OTLP bodies (tests/fuzz_otlp.py):
only 200, 400, 413, 415, 429 and 503 may come back over HTTP (OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED or
UNAVAILABLE over gRPC); a 200 is a valid export response; the service stays up and its memory stays
bounded. Bad report parameters and SQL bodies get a 4xx in the one error shape.

``make test`` runs about a thousand cases; ``make fuzz-long`` (``pytest -m fuzz_long tests/test_fuzz.py``)
runs more than ten thousand and writes its figures to ``fuzz-figures.json`` in the pytest temp folder (and
prints them): cases tried by kind, answers by status, bad answers, and the service's RSS.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
from conftest import FIXTURES, free_port
from fuzz_otlp import grpc_cases, http_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

CLI = str(Path(sys.executable).with_name("cctelemetry"))
ALLOWED_HTTP = {200, 400, 413, 415, 429, 503}
ALLOWED_GRPC = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED,
                grpc.StatusCode.UNAVAILABLE}  # fmt: skip
RESPONSES = {"logs": ExportLogsServiceResponse, "metrics": ExportMetricsServiceResponse, "traces": ExportTraceServiceResponse}
METHODS = {"logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
           "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
           "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export"}  # fmt: skip
# RSS may grow while the engine warms its caches; past the first cases it must stay within this.
RSS_GROWTH_LIMIT_MB = 400
QUICK = {"http": 700, "grpc": 300}
LONG = {"http": 8000, "grpc": 3000}
FUZZ = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Target:
    """A ``cctelemetry serve`` process and what the fuzzing saw of it."""

    def __init__(self, tmp: Path):
        self.http_port, self.api_port, self.grpc_port = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
        # a short flush: each accepted body waits for its write, and the fuzzing sends them one by one
        env.update(HOME=str(tmp / "home"), CCTELEMETRY_WRITE_FLUSH_MS="5")
        self.log = tmp / "service.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([CLI, "serve", "--data-dir", str(tmp / "data"), "--api-port", str(self.api_port),
                                          "--otlp-port", str(self.http_port), "--grpc-port", str(self.grpc_port), "--metrics-port", "0"],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)  # fmt: skip
        self.conn: http.client.HTTPConnection | None = None
        self.statuses: Counter = Counter()
        self.kinds: Counter = Counter()
        self.bad: list[str] = []
        self.rss: list[tuple[int, float]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert self.proc.poll() is None, self.log.read_text()
        self.rss.append((0, rss_mb(self.proc.pid)))

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None  # the server may close a connection after an error answer: one new try
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def tally(self, kind: str, status) -> None:
        self.kinds[kind] += 1
        self.statuses[str(status)] += 1
        cases = sum(self.kinds.values())
        if cases % 250 == 0:
            self.rss.append((cases, rss_mb(self.proc.pid)))

    def figures(self) -> dict:
        return {"cases": sum(self.kinds.values()), "by_kind": dict(self.kinds), "answers": dict(self.statuses),
                "bad_answers": len(self.bad), "rss_mb": [(n, round(mb, 1)) for n, mb in self.rss]}  # fmt: skip

    def stop(self) -> None:
        if self.conn:
            self.conn.close()
        self.proc.terminate()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    t = Target(tmp_path_factory.mktemp("fuzz"))
    yield t
    t.stop()


def fuzz_http(target: Target, examples: int) -> None:
    @settings(max_examples=examples, **FUZZ)
    @given(case=http_cases())
    def one(case):
        signal, body, headers, kind = case
        status, response_headers, payload = target.post(f"/v1/{signal}", body, headers)
        target.tally(f"http/{kind}", status)
        if status not in ALLOWED_HTTP:
            target.bad.append(f"{kind} {signal}: {status} {payload[:200]!r}")
        assert status in ALLOWED_HTTP, (kind, signal, status, payload[:300])
        if status in (429, 503):
            assert response_headers.get("retry-after")
        if status == 200:  # a valid export response, in the client's encoding
            if response_headers.get("content-type", "").startswith("application/json"):
                assert isinstance(json.loads(payload), dict)
            else:
                RESPONSES[signal].FromString(payload)

    one()


def fuzz_grpc(target: Target, examples: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{target.grpc_port}", options=[("grpc.enable_http_proxy", 0)]) as ch:
        calls = {s: ch.unary_unary(m) for s, m in METHODS.items()}

        @settings(max_examples=examples, **FUZZ)
        @given(case=grpc_cases())
        def one(case):
            signal, body, kind = case
            try:
                calls[signal](body, timeout=60)
                code = grpc.StatusCode.OK
            except grpc.RpcError as exc:
                code = exc.code()
            target.tally(f"grpc/{kind}", code.name)
            if code not in ALLOWED_GRPC:
                target.bad.append(f"grpc {kind} {signal}: {code.name}")
            assert code in ALLOWED_GRPC, (kind, signal, code)

        one()


def check_alive(target: Target) -> None:
    assert target.proc.poll() is None, target.log.read_text()[-3000:]
    assert target.get("/healthz")[0] == 200
    body = (FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes()
    assert target.post("/v1/logs", body, {"Content-Type": "application/x-protobuf"})[0] == 200
    assert target.bad == []
    warm = target.rss[1][1] if len(target.rss) > 1 else target.rss[0][1]
    assert target.rss[-1][1] - warm < RSS_GROWTH_LIMIT_MB, target.rss


@pytest.mark.timeout(900)
def test_fuzz_otlp(target):
    try:
        fuzz_http(target, QUICK["http"])
        fuzz_grpc(target, QUICK["grpc"])
    finally:
        print("\nfuzz figures:", json.dumps(target.figures()))
    target.rss.append((sum(target.kinds.values()), rss_mb(target.proc.pid)))
    check_alive(target)
    assert sum(target.kinds.values()) >= 900


@pytest.mark.fuzz_long
@pytest.mark.timeout(5400)
def test_fuzz_otlp_long(target, tmp_path_factory):
    t0 = time.monotonic()
    try:
        fuzz_http(target, LONG["http"])
        fuzz_grpc(target, LONG["grpc"])
    finally:
        print("\nfuzz figures so far:", json.dumps(target.figures()), f"{time.monotonic() - t0:.0f} s")
    target.rss.append((sum(target.kinds.values()), rss_mb(target.proc.pid)))
    figures = target.figures()
    out = tmp_path_factory.getbasetemp() / "fuzz-figures.json"
    out.write_text(json.dumps(figures, indent=1))
    print("\nfuzz figures:", json.dumps(figures), f"\n(written to {out})")
    check_alive(target)
    assert figures["cases"] >= 10_000


# -- report parameters and SQL bodies (in process) --------------------------------------------------


def check(response, allowed):
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    if response.status_code != 200:
        body = response.json()
        assert set(body) == {"ok", "error", "code", "status"} and body["status"] == response.status_code


@settings(max_examples=200, **FUZZ)
@given(params=st.dictionaries(st.sampled_from(["group_by", "since", "until", "tz", "mode", "limit", "period",
                                               "order", "breakdown", "model", "attr.team", "attr.", "session",
                                               "tolerance", "format", "offset", "token"]),
                              st.text(max_size=30), max_size=5),
       path=st.sampled_from(["/api/v1/usage", "/api/v1/cost", "/api/v1/sessions", "/api/v1/cost/reconcile",
                             "/api/v1/prices", "/api/v1/sessions/x%00y", "/api/v1/tools", "/api/v1/errors",
                             "/api/v1/activity", "/api/v1/sessions/x/timeline"]))  # fmt: skip
def test_report_parameters(replayed_client, params, path):
    check(replayed_client.get(path, params=params), allowed={200, 400, 404})


@pytest.mark.parametrize("body", [b"", b"{}", b"null", b"[]", b'{"query": 1}', b'{"query": ""}', b"\xff\xfe",
                                  b'{"query": "' + b"(" * 5000 + b'"}'])  # fmt: skip
def test_sql_bodies(replayed_client, body):
    check(replayed_client.post("/api/v1/sql", content=body, headers={"Content-Type": "application/json"}),
          allowed={200, 400})  # fmt: skip


@pytest.mark.parametrize("body", [b'{"paths": ["relative/dir"]}', b'{"paths": 1}', b'{"paths": [1, 2]}',
                                  b'{"paths": "/tmp"}', b"[]", b"\xff", b'{"paths": ["/nonexistent/cctelemetry-xyz"]}'])  # fmt: skip
def test_import_bodies(replayed_client, body):
    check(replayed_client.post("/api/v1/import", content=body, headers={"Content-Type": "application/json"}),
          allowed={200, 400})  # fmt: skip


@pytest.mark.parametrize("signal", ["logs", "metrics", "traces"])
def test_the_ingest_policy_on_generated_requests(signal):
    """The policy alone (no store), with tight limits: it never raises, and what it keeps is within them."""
    from fuzz_otlp import REQUEST_STRATEGIES

    from cctelemetry.errors import PayloadTooLarge
    from cctelemetry.ingest.outcome import map_request
    from cctelemetry.ingest.policy import MARK, IngestPolicy

    policy = IngestPolicy(max_items=20, max_attributes=3, max_value_length=5, hash_emails=True)

    @settings(max_examples=100, **FUZZ)
    @given(request=REQUEST_STRATEGIES[signal])
    def one(request):
        try:
            mapped = map_request(signal, request, policy)
        except PayloadTooLarge:
            return
        for rows in mapped.batch.values():
            for row in rows:
                for cell in row:
                    maps = [cell] if isinstance(cell, dict) else [c for c in cell if isinstance(c, dict)] \
                        if isinstance(cell, list) else []  # fmt: skip
                    for m in maps:
                        kept = {k: v for k, v in m.items() if k != MARK}
                        assert len(kept) <= 3 and all(len(k) <= 5 for k in kept)
                        assert all(len(v) <= 5 or k == "user.email" for k, v in kept.items())

    one()
