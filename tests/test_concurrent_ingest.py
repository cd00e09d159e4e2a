"""A modest concurrent ingest over the real HTTP service: 4 clients post protobuf bodies of Claude Code
api_request events (the bench's shape, bench/bench_ingest.py) and some bodies twice, as exporters retry. Every
acknowledged event is stored, and each request counts once: the raw rows, the request copies, the usage report
and its token sums equal what was sent."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from conftest import live_service, make_state

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_ingest import body  # noqa: E402 - the bench's body: one source for both

CLIENTS, BODIES, PER_BODY, RETRIED = 4, 16, 250, 4
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def test_four_clients_lose_nothing_and_count_each_request_once(store, settings):
    now = time.time_ns() - 3600 * 10**9
    bodies = [body(PER_BODY, now + i * 10**9, f"conc-{i % 5}") for i in range(BODIES)]
    sends = bodies + bodies[:RETRIED]  # a retried export is the same requests again
    state = make_state(store, settings)
    with live_service(state) as url:

        def post(payload: bytes) -> int:
            with httpx.Client(timeout=60) as http:
                return http.post(url + "/v1/logs", content=payload, headers=PROTOBUF).status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(post, sends))
        assert statuses == [200] * len(sends)
        usage = httpx.get(url + "/api/v1/usage", params={"since": "2000-01-01"}, timeout=60).json()["totals"]
    state.writer.close()

    events = BODIES * PER_BODY
    assert store.scalar("SELECT count() FROM otel_logs") == len(sends) * PER_BODY  # every acknowledged row
    assert store.scalar("SELECT count() FROM request_copies FINAL WHERE superseded = 0") == events
    assert usage["requests"] == events
    assert usage["input_tokens"] == events * 1234 and usage["output_tokens"] == events * 321
    assert usage["cache_read_tokens"] == events * 91011 and usage["cache_creation_tokens"] == events * 5678
    assert store.scalar("SELECT sum(requests) FROM usage_hourly") == events
