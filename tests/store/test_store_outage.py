"""Server mode: the ClickHouse server stops in the middle of a sustained ingest into a real ``cctelemetry serve``.

While it is down the service answers OTLP with 503 and ``Retry-After`` (the clients retry, as OTLP exporters
do), and ``/healthz`` answers 503 saying why. Once the server is back, every body goes through, nothing
acknowledged is missing, and the reports equal the sum of the requests sent, each counted once.

The server is tests/support/chshim.py (ClickHouse's HTTP interface in front of the real engine), stopped and
started again on the same port with the same data.
"""

from __future__ import annotations

import itertools
import threading
import time

import httpx
import pytest

from cctelemetry.client import Client
from otlp_load import COST_USD, PROTOBUF, Load
from serve_proc import ServeProcess, clean_env
from stack_users import writer_url

pytestmark = pytest.mark.slow

SENDERS = 4
BODIES = 120
DEADLINE_S = 240


class RetryingSenders:
    """Post bodies 0..BODIES-1 from a few threads; a 503 is retried after its Retry-After (shortened for the test),
    a refused connection too. Records what came back."""

    def __init__(self, url: str, load: Load):
        self.url, self.load = url, load
        self.next = itertools.count()
        self.acked: list[int] = []
        self.statuses: dict[int, int] = {}
        self.retry_after: set[str] = set()
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + DEADLINE_S
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(SENDERS)]

    def _run(self) -> None:
        with httpx.Client(timeout=60) as http:
            while (i := next(self.next)) < BODIES:
                body = self.load.body(i)
                while time.monotonic() < self.deadline:
                    try:
                        r = http.post(self.url + "/v1/logs", content=body, headers=PROTOBUF)
                        status = r.status_code
                    except httpx.HTTPError:
                        status = 0
                    with self.lock:
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                        if status == 503:
                            self.retry_after.add(r.headers.get("retry-after", ""))
                    if status == 200:
                        with self.lock:
                            self.acked.append(i)
                        break
                    time.sleep(0.2)
                time.sleep(0.02)  # a steady stream, not a burst: the outage lands in the middle of it

    def start(self) -> RetryingSenders:
        for t in self.threads:
            t.start()
        return self

    def join(self) -> None:
        for t in self.threads:
            t.join(DEADLINE_S + 30)

    def wait_for(self, predicate, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert predicate(), f"{what} within {timeout:.0f} s (statuses so far: {self.statuses})"


def test_store_outage_mid_ingest_answers_503_then_loses_nothing(own_chshim, database, tmp_path):
    load = Load(run="outage", per_body=10)
    env = clean_env(
        tmp_path / "home", CCTELEMETRY_CLICKHOUSE_URL=writer_url(own_chshim, database), CCTELEMETRY_DATABASE=database
    )
    with ServeProcess(tmp_path / "data", env=env) as svc:
        api = Client(svc.api_url)
        senders = RetryingSenders(svc.otlp_url, load).start()
        senders.wait_for(lambda: len(senders.acked) >= 20, "20 bodies acknowledged")

        own_chshim.stop()
        acked_before = list(senders.acked)
        senders.wait_for(lambda: senders.statuses.get(503, 0) >= 8, "503s while the store is down")
        with httpx.Client(timeout=30) as http:
            health = http.get(svc.api_url + "/healthz")
        assert health.status_code == 503 and health.headers["retry-after"] == "5"
        why = health.json()
        assert why["ok"] is False and why["code"] == "store_unavailable" and why["status"] == 503
        assert "ClickHouse at http://writer@127.0.0.1:" in why["error"] and "Connection refused" in why["error"], why

        own_chshim.start()  # the same port and data: the clients' retries go through
        senders.join()
        print(f"answers during the run: {senders.statuses}")
        assert sorted(senders.acked) == list(range(BODIES)), f"not every body went through: {senders.statuses}"
        assert set(senders.statuses) <= {0, 200, 503}, senders.statuses  # refused connections only while ...
        assert senders.statuses.get(0, 0) == 0, "the service itself stayed up"
        assert senders.retry_after == {"5"}
        assert api.healthy()

        # The service takes the inbox in every second; give it a bounded moment, then every request is there.
        expected = load.totals(BODIES)
        deadline = time.monotonic() + 30
        while api.usage(since="2000-01-01")["totals"]["requests"] != expected["requests"]:
            assert time.monotonic() < deadline, api.usage(since="2000-01-01")["totals"]
            time.sleep(0.5)
        rows = api.sql(f"SELECT session_id, count() AS n FROM requests WHERE startsWith(session_id, '{load.run}-') "
                       "GROUP BY session_id", limit=10_000)["rows"]  # fmt: skip
        stored = {int(r["session_id"].rsplit("-", 1)[1]): int(r["n"]) for r in rows}
        assert all(stored.get(i) == load.per_body for i in acked_before), "an acknowledged body went missing"
        assert stored == {i: load.per_body for i in range(BODIES)}
        totals = api.usage(since="2000-01-01")["totals"]
        assert {k: totals[k] for k in expected} == expected
        assert totals["reported_cost_usd"] == pytest.approx(expected["requests"] * COST_USD, abs=1e-9)
