"""Insights on constructed data whose dollar amounts are worked out here, by hand, from the price book's rates:
five sessions sent as real OTLP/JSON Claude Code events (Opus with small answers, a session whose cache churns, a
long-context request, a subagent and a title, a prompt that met API errors). Every finding's SQL, run as shown
through POST /api/v1/sql, gives the finding's numbers."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from cctelemetry.config import Settings
from conftest import api_client, make_state

# USD per million tokens, from service/cctelemetry/pricing/prices.json: (input, output, cache read, 5m write)
OPUS_4_6 = (5.0, 25.0, 0.5, 6.25)
SONNET_4_5 = (3.0, 15.0, 0.3, 3.75)
SONNET_4_5_LONG = (6.0, 22.5, 0.6, 7.5)  # its long-context tier, above 200,000 input-side tokens
SONNET_4_6 = (3.0, 15.0, 0.3, 3.75)
HAIKU_4_5 = (1.0, 5.0, 0.1, 1.25)
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


@dataclass
class Req:
    session: str
    prompt: str
    model: str
    rates: tuple
    input: int
    output: int
    read: int
    write: int
    at: timedelta
    query_source: str = "repl_main_thread"
    base_rates: tuple | None = None  # what Claude Code prices it at (it never applies the long-context tier)

    def cost(self, rates=None) -> float:
        r = rates or self.rates
        return (self.input * r[0] + self.output * r[1] + self.read * r[2] + self.write * r[3]) / 1e6

    @property
    def reported(self) -> float:
        return self.cost(self.base_rates or self.rates)


REQUESTS = [
    # S1: Opus; two small answers (<= 1,000 output tokens) and one long one
    Req("s1", "p1", "claude-opus-4-6", OPUS_4_6, 1000, 200, 0, 10_000, timedelta(minutes=0)),
    Req("s1", "p1", "claude-opus-4-6", OPUS_4_6, 500, 800, 10_000, 2000, timedelta(minutes=1)),
    Req("s1", "p1", "claude-opus-4-6", OPUS_4_6, 100, 5000, 12_000, 1000, timedelta(minutes=2)),
    # S2: the cache is written again on every request, 10 minutes apart (past the 5-minute TTL)
    Req("s2", "p2", "claude-sonnet-4-5", SONNET_4_5, 10, 100, 1000, 50_000, timedelta(minutes=10)),
    Req("s2", "p2", "claude-sonnet-4-5", SONNET_4_5, 10, 100, 1000, 50_000, timedelta(minutes=20)),
    Req("s2", "p2", "claude-sonnet-4-5", SONNET_4_5, 10, 100, 1000, 50_000, timedelta(minutes=30)),
    # S3: one long-context request: 150,000 + 60,000 input-side tokens > 200,000
    Req("s3", "p3", "claude-sonnet-4-5", SONNET_4_5_LONG, 150_000, 1000, 60_000, 0, timedelta(minutes=40),
        base_rates=SONNET_4_5),
    # S4: a session title (Haiku) and a subagent (Sonnet)
    Req("s4", "p4", "claude-haiku-4-5", HAIKU_4_5, 100, 20, 0, 0, timedelta(minutes=50), "generate_session_title"),
    Req("s4", "p4", "claude-sonnet-4-5", SONNET_4_5, 200, 100, 0, 0, timedelta(minutes=51), "agent:explorer"),
    # S5: prompt p5 met two API errors before its request went through; p6 met none
    Req("s5", "p5", "claude-sonnet-4-5", SONNET_4_5, 1000, 100, 0, 0, timedelta(minutes=60)),
    Req("s5", "p6", "claude-sonnet-4-5", SONNET_4_5, 10, 10, 0, 0, timedelta(minutes=61)),
]  # fmt: skip
ERRORS = [("s5", "p5", "529", timedelta(minutes=59)), ("s5", "p5", "529", timedelta(minutes=59, seconds=30))]


def attr(key, value):
    return {"key": key, "value": {"stringValue": str(value)}}


def record(at: timedelta, body: str, attrs: list) -> dict:
    nanos = str(int((BASE + at).timestamp() * 1e9))
    return {"timeUnixNano": nanos, "observedTimeUnixNano": nanos, "body": {"stringValue": body}, "attributes": attrs}


def logs_body() -> bytes:
    records = []
    for i, r in enumerate(REQUESTS):
        records.append(record(r.at, "claude_code.api_request", [
            attr("session.id", r.session), attr("prompt.id", r.prompt), attr("event.name", "api_request"),
            attr("event.sequence", i), attr("user.id", "u-1"), attr("model", r.model),
            attr("input_tokens", r.input), attr("output_tokens", r.output), attr("cache_read_tokens", r.read),
            attr("cache_creation_tokens", r.write), attr("cost_usd", repr(r.reported)),
            attr("request_id", f"req_{i}"), attr("query_source", r.query_source)]))  # fmt: skip
    for session, prompt, status, at in ERRORS:
        records.append(record(at, "claude_code.api_error", [
            attr("session.id", session), attr("prompt.id", prompt), attr("event.name", "api_error"),
            attr("status_code", status), attr("model", "claude-sonnet-4-5"), attr("attempt", 1)]))  # fmt: skip
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": [attr("service.name", "claude-code")]},
                    "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}],
                }
            ]
        }
    ).encode()


@pytest.fixture(scope="module")
def insights_client(engine_url):
    from conftest import new_database, open_store

    database = new_database()
    store = open_store(engine_url, database)
    with api_client(make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))) as client:
        r = client.post("/v1/logs", content=logs_body(), headers={"Content-Type": "application/json"})
        assert r.status_code == 200
        yield client
    store.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture(scope="module")
def findings(insights_client):
    r = insights_client.get("/api/v1/insights")
    assert r.status_code == 200, r.text
    return {f["kind"]: f for f in r.json()["findings"]}


def near(value):
    return pytest.approx(value, abs=1e-9)


def test_the_constructed_costs_are_the_reports(insights_client):
    """The amounts below rest on this: the service prices every request as worked out here."""
    totals = insights_client.get("/api/v1/usage").json()["totals"]
    assert totals["requests"] == len(REQUESTS)
    assert totals["computed_cost_usd"] == near(sum(r.cost() for r in REQUESTS))
    assert totals["cost_usd"] == near(sum(r.reported for r in REQUESTS))  # auto: the reported cost


def test_cache_hit_ratio_and_what_misses_and_writes_cost(findings):
    f = findings["cache"]
    read = sum(r.read for r in REQUESTS)
    side = sum(r.input + r.read + r.write for r in REQUESTS)
    misses = sum(r.input * r.rates[0] for r in REQUESTS) / 1e6  # 0.91182
    writes = sum(r.write * r.rates[3] for r in REQUESTS) / 1e6  # 0.64375
    at_read = sum((r.input + r.write) * r.rates[2] for r in REQUESTS) / 1e6  # 0.142682
    assert (misses, writes, at_read) == (near(0.91182), near(0.64375), near(0.142682))
    n = f["numbers"]
    assert n["hit_ratio"] == pytest.approx(read / side)
    assert (n["input_usd"], n["cache_write_usd"], n["at_read_rate_usd"]) == (near(misses), near(writes), near(at_read))
    assert f["usd"] == near(misses + writes)
    assert n["premium_over_reads_usd"] == near(misses + writes - at_read)


def test_sessions_whose_cache_churned(findings):
    f = findings["cache_churn"]
    n = f["numbers"]
    assert (n["sessions"], n["churned_sessions"]) == (5, 1)  # s2 only: s1's writes are 37 % of its cache traffic
    (s2,) = n["sessions_listed"]
    assert s2["session"] == "s2" and s2["gaps_over_5m"] == 2 and s2["churn"] == pytest.approx(150_000 / 153_000)
    assert f["usd"] == near(3 * 50_000 * 3.75 / 1e6)  # 0.5625 of cache writes


def test_opus_on_small_requests_and_what_sonnet_would_have_cost(findings):
    f = findings["model_mix"]
    small = [r for r in REQUESTS if r.model.startswith("claude-opus") and r.output <= 1000]
    assert len(small) == 2
    opus = sum(r.cost() for r in small)  # 0.0725 + 0.04
    sonnet = sum(r.cost(SONNET_4_6) for r in small)  # 0.0435 + 0.024
    assert (opus, sonnet) == (near(0.1125), near(0.0675))
    n = f["numbers"]
    assert f["usd"] == near(opus)
    assert (n["small_requests"], n["small_compare_usd"], n["small_difference_usd"]) == (
        2,
        near(sonnet),
        near(opus - sonnet),
    )
    assert n["compare_model"] == "claude-sonnet-4-6" and n["opus_requests"] == 3
    by_model = {m["model"]: m for m in n["by_model"]}
    assert by_model["claude-opus-4-6"]["cost_usd"] == near(sum(r.cost() for r in REQUESTS if r.session == "s1"))


def test_another_compare_model(insights_client):
    r = insights_client.get("/api/v1/insights", params={"compare_model": "claude-haiku-4-5"})
    (f,) = [f for f in r.json()["findings"] if f["kind"] == "model_mix"]
    small = [r for r in REQUESTS if r.model.startswith("claude-opus") and r.output <= 1000]
    assert f["numbers"]["small_compare_usd"] == near(sum(r.cost(HAIKU_4_5) for r in small))


def test_long_context_share_and_premium(findings):
    f = findings["long_context"]
    (lc,) = [r for r in REQUESTS if r.base_rates]
    assert (lc.cost(), lc.reported) == (near(0.9585), near(0.483))
    n = f["numbers"]
    assert (n["long_context_requests"], n["requests"], n["requests_over_200k"]) == (1, len(REQUESTS), 1)
    assert f["usd"] == near(lc.cost() - lc.reported)  # 0.4755: what the tier adds over base rates
    assert n["long_context_reported_usd"] == near(lc.reported)
    assert n["share_of_computed_usd"] == pytest.approx(lc.cost() / sum(r.cost() for r in REQUESTS))


def test_spend_on_prompts_that_met_api_errors(findings):
    f = findings["failures"]
    n = f["numbers"]
    assert (n["prompts"], n["api_errors"], n["requests"], n["error_statuses"]) == (1, 2, 1, {"529": 2})
    assert f["usd"] == near((1000 * 3.0 + 100 * 15.0) / 1e6)  # p5's one request: 0.0045


def test_subagent_and_title_generation_share(findings):
    f = findings["roles"]
    roles = f["numbers"]["roles"]
    title, sub = (100 * 1.0 + 20 * 5.0) / 1e6, (200 * 3.0 + 100 * 15.0) / 1e6  # 0.0002, 0.0021
    assert roles["title_generation"]["cost_usd"] == near(title) and roles["subagent"]["cost_usd"] == near(sub)
    assert roles["subagent"]["query_sources"]["agent:explorer"]["requests"] == 1
    assert f["usd"] == near(title + sub)
    total = sum(r.reported for r in REQUESTS)
    assert roles["title_generation"]["share"] == pytest.approx(title / total)


def test_top_one_percent_of_sessions(findings):
    f = findings["top_sessions"]
    by_session: dict[str, float] = {}
    for r in REQUESTS:
        by_session[r.session] = by_session.get(r.session, 0) + r.reported
    n = f["numbers"]
    assert (n["sessions"], n["top_sessions"]) == (5, math.ceil(5 * 0.01))
    top = max(by_session, key=by_session.get)
    assert top == "s2" and n["sessions_listed"][0]["session"] == "s2"
    assert f["usd"] == near(by_session["s2"])  # 3 x 0.18933
    assert n["share_of_spend"] == pytest.approx(by_session["s2"] / sum(by_session.values()))


def test_findings_are_data_with_their_sql(findings, insights_client):
    """Each finding's SQL, run as shown through POST /api/v1/sql, gives its numbers."""
    assert set(findings) == {"cache", "cache_churn", "model_mix", "long_context", "failures", "roles", "top_sessions"}
    for kind, f in findings.items():
        assert isinstance(f["usd"], float) and f["title"] and "$" in f["title"], kind
        assert not re.search(r"\{\w+:", f["sql"]), kind  # parameters written in as literals
        r = insights_client.post("/api/v1/sql", json={"query": f["sql"]})
        assert r.status_code == 200, (kind, r.text)
        rows = r.json()["rows"]
        if kind == "cache":
            assert rows[0]["miss_and_write_usd"] == near(f["usd"])
        elif kind == "cache_churn":
            assert rows[0]["churned_cache_write_usd"] == near(f["usd"])
        elif kind == "model_mix":
            assert sum(row["small_cost_usd"] for row in rows) == near(f["usd"])
        elif kind == "long_context":
            assert rows[0]["long_context_usd"] - rows[0]["long_context_at_base_usd"] == near(f["usd"])
        elif kind == "failures":
            assert rows[0]["prompts_usd"] == near(f["usd"])
        elif kind == "roles":
            assert sum(row["cost_usd"] for row in rows if row["role"] in ("subagent", "title_generation")) == near(
                f["usd"]
            )
        elif kind == "top_sessions":
            assert rows[0]["top_usd"] == near(f["usd"])


def test_filters_window_and_errors(insights_client):
    only = insights_client.get("/api/v1/insights", params={"session": "s1"}).json()
    (cache,) = [f for f in only["findings"] if f["kind"] == "cache"]
    assert cache["numbers"]["requests"] == 3 and "session_id = 's1'" in cache["sql"]
    r = insights_client.post("/api/v1/sql", json={"query": cache["sql"]})
    assert r.json()["rows"][0]["requests"] == 3
    by_attr = insights_client.get("/api/v1/insights", params={"attr.service.name": "claude-code"}).json()
    (cache,) = [f for f in by_attr["findings"] if f["kind"] == "cache"]
    assert cache["numbers"]["requests"] == len(REQUESTS) and "attributes['service.name']" in cache["sql"]
    assert insights_client.post("/api/v1/sql", json={"query": cache["sql"]}).json()["rows"][0]["requests"] == len(
        REQUESTS
    )
    later = insights_client.get("/api/v1/insights", params={"since": (BASE + timedelta(minutes=45)).isoformat()}).json()
    (top,) = [f for f in later["findings"] if f["kind"] == "top_sessions"]
    assert top["numbers"]["sessions"] == 2  # s4 and s5
    empty = insights_client.get("/api/v1/insights", params={"since": "2000-01-01", "until": "2000-01-02"}).json()
    assert all(f["usd"] == 0 for f in empty["findings"])
    bad = insights_client.get("/api/v1/insights", params={"colour": "red"})
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_dimension"


WINDOWS = [{}, {"session": "s2"}, {"since": "2026-11-20T10:30:00Z", "model": "claude-opus-4-1"}]


@pytest.mark.parametrize("query", WINDOWS)
def test_findings_from_the_rollups_equal_those_from_the_requests(insights_client, monkeypatch, query):
    """roles and top_sessions read scope as the rollups' priced sums: the same file over the requests gives the
    same numbers, to the last digit."""
    import dataclasses

    from cctelemetry.reports import insights

    assert {i.kind for i in insights.INSIGHTS if i.sums} == {"roles", "top_sessions"}
    fast = insights_client.get("/api/v1/insights", params=query).json()["findings"]
    per_request = tuple(dataclasses.replace(i, sums=False) for i in insights.INSIGHTS)
    monkeypatch.setattr(insights, "INSIGHTS", per_request)
    slow = insights_client.get("/api/v1/insights", params=query).json()["findings"]
    assert fast == slow
