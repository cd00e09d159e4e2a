"""kill -9 in the middle of a sustained ingest (a real ``cctelemetry serve``, embedded store): after a restart
every acknowledged request is there, each body is all there or not at all, and the reports (the hourly rollup)
equal the sum of what is stored. Then the clients retry what was never acknowledged, as OTLP exporters do, and
the reports equal the sum of every request sent, each once. Two rounds: the second kill lands on a store that
already went through one.
"""

from __future__ import annotations

import itertools
import random
import threading
import time

import httpx
import pytest

from cctelemetry.client import Client
from otlp_load import COST_USD, PROTOBUF, Load
from serve_proc import ServeProcess

pytestmark = pytest.mark.slow

SENDERS = 4
MAX_BODIES = 4000  # a bound on each round's loop; the kill comes long before
ACKED_BEFORE_KILL = 25


class Senders:
    """``SENDERS`` threads posting bodies of ``load`` in a bounded loop until the service goes away or ``stop``."""

    def __init__(self, url: str, load: Load, first: int):
        self.url, self.load = url, load
        self.next = itertools.count(first)
        self.acked: set[int] = set()
        self.unknown: set[int] = set()  # sent, no 200 seen: stored or not
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(SENDERS)]

    def _run(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                i = next(self.next)
                if i >= MAX_BODIES:
                    return
                try:
                    ok = (
                        http.post(self.url + "/v1/logs", content=self.load.body(i), headers=PROTOBUF).status_code == 200
                    )
                except httpx.HTTPError:
                    ok = False
                with self.lock:
                    (self.acked if ok else self.unknown).add(i)
                if not ok:
                    return  # the service is gone

    def __enter__(self) -> Senders:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def wait_for(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.acked) >= n, f"only {len(self.acked)} bodies acknowledged in {timeout:.0f} s"


def stored_per_body(api: Client, load: Load) -> dict[int, int]:
    rows = api.sql(f"SELECT session_id, count() AS n FROM requests WHERE startsWith(session_id, '{load.run}-') "
                   "GROUP BY session_id", limit=100_000)["rows"]  # fmt: skip
    return {int(r["session_id"].rsplit("-", 1)[1]): int(r["n"]) for r in rows}


def assert_reports_equal_the_requests(api: Client, load: Load, bodies: int) -> None:
    """The usage report (hourly rollup + the requests at the window's edges) sums exactly the stored requests."""
    totals = api.usage(since="2000-01-01")["totals"]
    expected = load.totals(bodies)
    assert {k: totals[k] for k in expected} == expected
    assert totals["reported_cost_usd"] == pytest.approx(expected["requests"] * COST_USD, abs=1e-9)
    duplicates = api.sql("SELECT count() AS n FROM (SELECT session_id, request_key FROM requests "
                         "GROUP BY session_id, request_key HAVING count() > 1)")["rows"][0]["n"]  # fmt: skip
    assert int(duplicates) == 0


def test_kill9_mid_ingest_keeps_every_acknowledged_request(tmp_path):
    load = Load(run="k9", per_body=20)
    svc = ServeProcess(tmp_path / "data")
    sent: set[int] = set()
    first = 0
    try:
        for _round in range(2):
            svc.start()
            with Senders(svc.otlp_url, load, first) as senders:
                senders.wait_for(ACKED_BEFORE_KILL)
                time.sleep(random.uniform(0, 0.4))  # anywhere in a flush: the insert, the fact step, the answer
                svc.kill9()  # mid-ingest: the senders are posting as fast as the service answers
            acked, unknown = senders.acked, senders.unknown
            print(f"round {_round}: {len(acked)} acknowledged, {len(unknown)} in flight at the kill")
            first = max(acked | unknown) + 1

            svc.start()  # the same data folder: recovery runs at start
            api = Client(svc.api_url)
            stored = stored_per_body(api, load)
            missing = sorted(i for i in acked if stored.get(i) != load.per_body)
            assert not missing, f"acknowledged bodies not (all) stored after kill -9: {missing[:10]}"
            torn = {i: n for i, n in stored.items() if n not in (0, load.per_body)}
            assert not torn, f"bodies stored in part: {torn}"
            assert set(stored) <= acked | unknown | sent
            never_acked = len(set(stored) & unknown)
            print(f"  stored after restart: {len(stored)} bodies, of which {never_acked} never acknowledged")
            assert_reports_equal_the_requests(api, load, len(stored))

            # The exporters retry what was never acknowledged: each request still counts once.
            with httpx.Client(timeout=60) as http:
                for i in sorted(unknown):
                    r = http.post(svc.otlp_url + "/v1/logs", content=load.body(i), headers=PROTOBUF)
                    assert r.status_code == 200, r.text
            sent |= acked | unknown
            assert set(stored_per_body(api, load)) == sent
            assert_reports_equal_the_requests(api, load, len(sent))
            svc.stop()
    finally:
        svc.kill9()
