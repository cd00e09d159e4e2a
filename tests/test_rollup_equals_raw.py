"""The hourly and daily rollups give exactly the numbers of the requests themselves, whatever arrived in whatever
order.

Random histories of copies (telemetry events, their retries, a transcript's streamed partial copy and its full
one, the same request from both sources, re-imports, a fact writer that falls behind and catches up) are
written through the inbox and the fact writer; then random reports (dimensions, filters, windows that cut
hours, time zones with whole and half-hour offsets) are asked of the rollup path and of the request-by-request
path, and must be equal, to the last token and the last 1e-12 dollar. Windows read the daily rollup for their
whole UTC days either only when they are long (as the service does) or whenever they have one (so that the days,
the hours around them and the requests at the edges are read together in these short histories). The rollups
rebuilt from scratch must equal the ones kept up to date, and the daily rollup the hourly one summed by day.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cctelemetry.ingest import facts
from cctelemetry.reports import source
from cctelemetry.reports.query import RequestFilter
from cctelemetry.reports.scope import Pricing
from cctelemetry.reports.sessions import list_sessions
from cctelemetry.reports.usage import usage
from cctelemetry.store.rollup import MEASURES
from conftest import new_database, open_store

COLUMNS = ["timestamp", "agent_product", "service_name", "session_id", "request_id", "request_key", "user_id",
           "user_email", "model", "agent", "query_source", "speed", "effort", "skill", "project", "git_branch",
           "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "cache_creation_5m_tokens",
           "cache_creation_1h_tokens", "cache_split_known", "web_search_requests", "reported_cost_usd", "source",
           "source_priority", "resource_attributes"]  # fmt: skip
START = datetime(2026, 11, 20, 22, 0, 0)
MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "acme-unknown-1"]
DIMS = ["session", "model", "agent", "user", "project", "day", "hour", "week", "month", "source", "attr.team", "host",
        "speed", "effort", "skill", "agent_type", "service", "git_branch"]  # fmt: skip
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]


def request(rng: random.Random, i: int) -> dict:
    input_side = rng.choice([10, 1000, 150_000, 190_000])
    return {
        "key": f"req_{i}", "session": f"s{rng.randrange(5)}", "user": rng.choice(["a@x.io", "b@x.io", ""]),
        "at": START + timedelta(seconds=rng.randrange(0, 3 * 86400)), "model": rng.choice(MODELS),
        "agent": rng.choice(["main", "sdk", "Explore"]), "speed": rng.choice(["", "fast"]),
        "effort": rng.choice(["", "high"]), "skill": rng.choice(["", "pdf"]),
        "input": rng.randrange(0, input_side), "output": rng.randrange(0, 5000), "read": rng.randrange(0, input_side),
        "write": rng.randrange(0, 30_000), "web": rng.choice([0, 0, 2]),
        "reported": rng.choice([None, 0.0, round(rng.random(), 6)]),
        "team": rng.choice(["", "platform", "data"]), "host": rng.choice(["", "laptop", "desk"]),
    }  # fmt: skip


def copy(r: dict, source: str, output: int | None = None, shift_s: int = 0) -> list:
    transcript = source == "transcript"
    w1 = r["write"] // 3 if transcript else 0
    resource = {"team": r["team"], "host.name": r["host"], "agent.type": r["agent"]}
    return [r["at"] + timedelta(seconds=shift_s), "claude_code", "claude-code", r["session"], r["key"], r["key"],
            "u1", "" if transcript else r["user"], r["model"], r["agent"], "" if transcript else r["agent"],
            r["speed"], r["effort"], r["skill"], "/src/app" if transcript else "", "main" if transcript else "",
            r["input"], r["output"] if output is None else output, r["read"], r["write"],
            r["write"] - w1 if transcript else 0, w1, int(transcript), r["web"],
            None if transcript else r["reported"], source, 1 if transcript else 2, resource]  # fmt: skip


def history(rng: random.Random, n: int) -> list[tuple[str, list]]:
    """A shuffled list of ("copy", row) and ("apply", ...) steps."""
    steps = []
    for i in range(n):
        r = request(rng, i)
        kind = rng.choice(["otel", "transcript", "both"])
        if kind in ("otel", "both"):
            steps.append(copy(r, "otel"))
            if rng.random() < 0.3:
                steps.append(copy(r, "otel"))  # an exporter's retry
        if kind in ("transcript", "both"):
            if rng.random() < 0.4:
                steps.append(copy(r, "transcript", output=1, shift_s=-2))  # a streamed partial copy, earlier
            steps.append(copy(r, "transcript", shift_s=rng.choice([-1, 0, 3])))
            if rng.random() < 0.2:
                steps.append(copy(r, "transcript"))  # re-imported
    rng.shuffle(steps)
    plan = []
    for row in steps:
        plan.append(("copy", row))
        if rng.random() < 0.35:
            plan.append(("apply", None))
    return plan + [("apply", None)]


def report_args(rng: random.Random) -> dict:
    dims = rng.sample(DIMS, rng.choice([0, 1, 1, 2]))
    tz = rng.choice(ZONES)
    since = START + timedelta(minutes=rng.choice([0, 7, 61, 600, 1441, 2000]))
    until = since + timedelta(minutes=rng.choice([30, 59, 60, 200, 1500, 6000]))
    window = rng.choice([{}, {"since": since.isoformat() + "Z", "until": until.isoformat() + "Z"},
                         {"since": since.isoformat() + "Z"}])  # fmt: skip
    filters = {}
    if rng.random() < 0.4:
        filters = rng.choice([{"model": "claude-haiku-4-5"}, {"user": "a@x.io"}, {"attr.team": "platform"},
                              {"source": "otel+transcript"}, {"source": "otel"}, {"project": ""}, {"speed": "fast"},
                              {"host": "laptop"}])  # fmt: skip
    return {"dims": dims, "flt": RequestFilter.build(tz=tz, filters=filters, **window), "mode": rng.choice(
        ["auto", "calculate", "display"]), "ttl": rng.choice(["5m", "1h"])}  # fmt: skip


@pytest.fixture(scope="module")
def engine(engine_url):
    return engine_url


# make test tries a dozen histories; CCTELEMETRY_PROPERTY_EXAMPLES=200 for a longer run.
EXAMPLES = int(os.environ.get("CCTELEMETRY_PROPERTY_EXAMPLES", "12"))


@pytest.mark.timeout(60 + 30 * EXAMPLES)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
@given(seed=st.integers(min_value=0, max_value=2**31), n=st.integers(min_value=5, max_value=40))
def test_rollup_equals_raw(engine, seed, n):
    rng = random.Random(seed)
    database = new_database()
    store = open_store(engine, database)
    days_at_least = source.DAYS_AT_LEAST
    source.DAYS_AT_LEAST = rng.choice([days_at_least, timedelta(days=1)])
    try:
        pending = []
        for step, row in history(rng, n):
            if step == "copy":
                pending.append(row)
                continue
            if pending:
                store.insert("api_request_inbox", pending, COLUMNS)
                pending = []
            facts.apply(store, lookback_s=rng.choice([0, 0, 3600]))
        for _ in range(6):
            args = report_args(rng)
            pricing = Pricing(args["mode"], args["ttl"])
            fast = usage(store, args["dims"], args["flt"], pricing, breakdown=True)
            slow = usage(store, args["dims"], args["flt"], pricing, breakdown=True, use_rollup=False)
            assert fast.to_dict() == slow.to_dict(), (seed, args)
        for order in ("last_seen", "cost"):
            args = report_args(rng)
            fast = list_sessions(store, args["flt"], Pricing(), 3, 1, order)
            slow = list_sessions(store, args["flt"], Pricing(), 3, 1, order, use_rollup=False)
            assert fast.to_dict() == slow.to_dict(), (seed, args, order)
        kept = store.rows("SELECT * FROM usage_hourly FINAL WHERE requests != 0 ORDER BY ALL")
        kept_days = daily_rows(store)
        assert kept_days == hourly_by_day(store)
        facts.rebuild_rollup(store)
        assert store.rows("SELECT * FROM usage_hourly FINAL WHERE requests != 0 ORDER BY ALL") == kept
        assert daily_rows(store) == kept_days
    finally:
        source.DAYS_AT_LEAST = days_at_least
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()


def daily_rows(store) -> list[dict]:
    return store.rows("SELECT * EXCEPT day, toDate(day) AS d FROM usage_daily FINAL WHERE requests != 0 ORDER BY ALL")


def hourly_by_day(store) -> list[dict]:
    """usage_hourly summed by UTC day, in usage_daily's shape."""
    grain = [
        c
        for c in store.rows(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = 'usage_daily' AND position > 1 AND position <= 23 ORDER BY position"
        )
    ]
    keys = ", ".join(c["name"] for c in grain)
    measures = ", ".join(f"sum({m}) AS {m}" for m in MEASURES)
    return store.rows(
        f"SELECT {keys}, {measures}, min(first_at) AS first_at, max(last_at) AS last_at, "
        f"toDate(hour) AS d FROM usage_hourly GROUP BY {keys}, d HAVING requests != 0 ORDER BY ALL"
    )
