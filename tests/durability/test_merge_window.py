"""The window in which a merged request could count twice is closed by design (ingest/facts.py): every copy of a
request goes to the inbox first, and the fact writer resolves a request's copies (telemetry + transcript -> one
merged row, its inputs superseded, the rollup fed -old/+new) before anything of it counts.

Here the two copies of each request arrive at the same moment over the real service: its telemetry as an
OTLP/HTTP export, its transcript line through ``POST /api/v1/import``. Meanwhile a third client polls the
reports in a bounded loop. Each request is a session of its own, so the usage report by session shows every
request's count: it is never above one, in the rollup (``/api/v1/usage``) or in the ``requests`` view, at any
moment. At the end every request is one merged row.
"""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest

from conftest import live_service
from otlp_load import PROTOBUF, TOKENS, Load

BATCHES = 5
PER_BATCH = 6
REQUESTS = BATCHES * PER_BATCH

pytestmark = pytest.mark.slow


def test_telemetry_and_transcript_copies_arriving_together_never_count_twice(service_state, tmp_path):
    load = Load(run="mw", per_body=1)
    project = tmp_path / "projects" / "-home-dev-work"
    project.mkdir(parents=True)
    together = threading.Barrier(2, timeout=60)
    done = threading.Event()
    errors: list[str] = []
    polls = {"usage": 0, "sql": 0, "max_seen": 0}

    with live_service(service_state) as url:

        def telemetry() -> None:
            with httpx.Client(base_url=url, timeout=60) as http:
                for b in range(BATCHES):
                    together.wait()
                    time.sleep(random.uniform(0, 0.03))  # either copy may come first
                    for i in range(b * PER_BATCH, (b + 1) * PER_BATCH):
                        r = http.post("/v1/logs", content=load.body(i), headers=PROTOBUF)
                        if r.status_code != 200:
                            errors.append(f"telemetry {i}: {r.status_code} {r.text}")

        def transcripts() -> None:
            with httpx.Client(base_url=url, timeout=120) as http:
                for b in range(BATCHES):
                    together.wait()
                    time.sleep(random.uniform(0, 0.03))
                    for i in range(b * PER_BATCH, (b + 1) * PER_BATCH):
                        (project / f"{load.session(i)}.jsonl").write_text(load.transcript_line(i, 0))
                    r = http.post("/api/v1/import", json={"paths": [str(project.parent)]})
                    if r.status_code != 200:
                        errors.append(f"import {b}: {r.status_code} {r.text}")

        def poll() -> None:
            deadline = time.monotonic() + 300
            with httpx.Client(base_url=url, timeout=60) as http:
                while not done.is_set() and time.monotonic() < deadline:
                    rows = http.get("/api/v1/usage", params={"group_by": "session", "since": "2000-01-01"}).json()[
                        "rows"
                    ]
                    counts = [r["requests"] for r in rows]
                    polls["usage"] += 1
                    polls["max_seen"] = max([polls["max_seen"], *counts])
                    if any(n > 1 for n in counts) or sum(counts) > REQUESTS:
                        errors.append(f"usage by session counted a request twice: {sorted(counts)[-3:]}")
                    rows = http.post(
                        "/api/v1/sql",
                        json={
                            "query": "SELECT session_id, count() AS n FROM requests GROUP BY session_id HAVING n > 1"
                        },
                    ).json()["rows"]
                    polls["sql"] += 1
                    if rows:
                        errors.append(f"the requests view counted a request twice: {rows[:3]}")
                    time.sleep(0.05)

        threads = [threading.Thread(target=f, daemon=True) for f in (telemetry, transcripts)]
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        done.set()
        poller.join(60)

        assert not errors, errors[:5]
        assert polls["usage"] >= 5 and polls["sql"] >= 5, polls
        assert polls["max_seen"] == 1
        with httpx.Client(base_url=url, timeout=60) as http:
            totals = http.get("/api/v1/usage", params={"since": "2000-01-01"}).json()["totals"]
            by_source = http.get("/api/v1/usage", params={"group_by": "source", "since": "2000-01-01"}).json()["rows"]
    assert {k: totals[k] for k in ("requests", *TOKENS)} == load.totals(REQUESTS)
    assert [(r["source"], r["requests"]) for r in by_source] == [("otel+transcript", REQUESTS)]
