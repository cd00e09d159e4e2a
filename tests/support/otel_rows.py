"""``otel_logs`` rows as the collector's ClickHouse exporter writes them, for store tests.

The column list is the exporter's INSERT (otelcol-contrib clickhouseexporter, logs): every column of
``otel_logs`` except the ``__otel_materialized_*`` ones, which the server computes. Attribute
values are strings, as the exporter's ``AsString`` renders them (``input_tokens`` -> ``'1234'``,
``cost_usd`` -> ``'0.0571128'``); the attributes are the ones Claude Code 2.1.197 sends (see
tests/data/claude-code-2.1.197).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

OTEL_LOGS_COLUMNS = [
    "Timestamp",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityText",
    "SeverityNumber",
    "ServiceName",
    "Body",
    "ResourceSchemaUrl",
    "ResourceAttributes",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "LogAttributes",
    "EventName",
]

RESOURCE = {
    "host.arch": "amd64",
    "os.type": "linux",
    "os.version": "6.18.44",
    "service.name": "claude-code",
    "service.version": "2.1.197",
}

# Recent: otel_logs keeps rows 72 h (TTL), and rows already expired are dropped at insert.
BASE_TS = (datetime.now(UTC) - timedelta(hours=6)).replace(minute=36, second=2, microsecond=504_000)


def log_row(ts: datetime, body: str, attributes: dict[str, str], *, event_name: str = "") -> list[Any]:
    """One ``otel_logs`` row in ``OTEL_LOGS_COLUMNS`` order."""
    return [
        ts,
        "",
        "",
        0,
        "",
        0,
        RESOURCE["service.name"],
        body,
        "",
        dict(RESOURCE),
        "",
        "com.anthropic.claude_code.events",
        RESOURCE["service.version"],
        {},
        attributes,
        event_name,
    ]


def api_request(
    ts: datetime,
    session_id: str,
    request_id: str,
    *,
    seq: int,
    model: str = "claude-sonnet-4-5",
    input_tokens: int = 1234,
    output_tokens: int = 321,
    cache_read: int = 91011,
    cache_creation: int = 5678,
    cost_usd: str = "0.0571128",
) -> list[Any]:
    return log_row(
        ts,
        "claude_code.api_request",
        {
            "user.id": "5f9fa5ca4ae4befdc2a491755d5a73d5",
            "session.id": session_id,
            "terminal.type": "xterm",
            "event.name": "api_request",
            "event.timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "event.sequence": str(seq),
            "prompt.id": f"prompt-{session_id[-4:]}",
            "model": model,
            "input_tokens": str(input_tokens),
            "output_tokens": str(output_tokens),
            "cache_read_tokens": str(cache_read),
            "cache_creation_tokens": str(cache_creation),
            "cost_usd": cost_usd,
            "duration_ms": "39",
            "request_id": request_id,
            "speed": "normal",
            "query_source": "sdk",
        },
    )


def user_prompt(ts: datetime, session_id: str, *, seq: int) -> list[Any]:
    return log_row(
        ts,
        "claude_code.user_prompt",
        {
            "session.id": session_id,
            "event.name": "user_prompt",
            "event.sequence": str(seq),
            "prompt.id": f"prompt-{session_id[-4:]}",
            "prompt_length": "42",
        },
    )


SESSION_A = "34bdd348-06b4-4503-b17a-7d59c405c215"
SESSION_B = "9a0c1f2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


def sample_rows() -> list[list[Any]]:
    """Two sessions, four model requests (two models), two prompts and one unrelated log line."""
    t = BASE_TS
    return [
        user_prompt(t, SESSION_A, seq=0),
        api_request(t + timedelta(seconds=1), SESSION_A, "req_a1", seq=1),
        api_request(
            t + timedelta(seconds=5, microseconds=123_456),
            SESSION_A,
            "req_a2",
            seq=2,
            model="claude-haiku-4-5",
            input_tokens=10,
            output_tokens=5,
            cache_read=0,
            cache_creation=0,
            cost_usd="0.000035",
        ),
        user_prompt(t + timedelta(hours=2), SESSION_B, seq=0),
        api_request(t + timedelta(hours=2, seconds=3), SESSION_B, "req_b1", seq=1, input_tokens=2000, cost_usd="0.1"),
        api_request(t + timedelta(hours=3, minutes=10), SESSION_B, "req_b2", seq=2, input_tokens=7, cost_usd="1e-3"),
        log_row(t, "some other log line", {"session.id": SESSION_A}),
    ]


def naive_utc(ts: datetime) -> datetime:
    """How clickhouse-connect returns a UTC DateTime64: naive, in UTC."""
    return ts.astimezone(UTC).replace(tzinfo=None)


def assert_views_filled(store) -> None:
    """After ``sample_rows()`` went into ``otel_logs``: what the materialized views must have made (the
    fact writer's inbox and agent_events)."""
    facts = {
        r["request_id"]: r
        for r in store.rows(
            "SELECT *, input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens AS total_tokens "
            "FROM api_request_inbox"
        )
    }
    assert sorted(facts) == ["req_a1", "req_a2", "req_b1", "req_b2"]
    a1 = facts["req_a1"]
    assert a1["timestamp"] == naive_utc(BASE_TS + timedelta(seconds=1))
    assert (a1["agent_product"], a1["service_name"], a1["source"], a1["source_priority"]) == (
        "claude_code",
        "claude-code",
        "otel",
        2,
    )
    assert (a1["session_id"], a1["request_key"], a1["prompt_id"]) == (SESSION_A, "req_a1", "prompt-c215")
    assert (a1["model"], a1["agent"], a1["query_source"], a1["speed"]) == ("claude-sonnet-4-5", "sdk", "sdk", "normal")
    assert (a1["input_tokens"], a1["output_tokens"], a1["cache_read_tokens"], a1["cache_creation_tokens"]) == (
        1234,
        321,
        91011,
        5678,
    )
    assert a1["total_tokens"] == 1234 + 321 + 91011 + 5678
    assert a1["reported_cost_usd"] == 0.0571128
    assert a1["duration_ms"] == 39.0
    assert a1["resource_attributes"] == RESOURCE
    # DateTime64(9) -> DateTime64(3): the view keeps milliseconds.
    assert facts["req_a2"]["timestamp"] == naive_utc(BASE_TS + timedelta(seconds=5, microseconds=123_000))
    assert facts["req_b2"]["reported_cost_usd"] == 0.001

    events = store.query(
        "SELECT session_id, event_name, sequence, attributes['prompt_length'] FROM agent_events ORDER BY timestamp"
    ).result_rows
    assert events == [(SESSION_A, "user_prompt", 0, "42"), (SESSION_B, "user_prompt", 0, "42")]
