"""ClickHouse's flattening of protobuf log bodies (ingest/raw_logs.py) writes exactly the rows Python's mapping
writes (ingest/mapping.py + the ingest policy), for every captured body and for bodies made to hit every edge:
value kinds, doubles, ids, times, duplicate keys, content the policy redacts, emails it hashes. A body SQL
cannot render exactly must be sent to Python, and the two tables must still be equal."""

from __future__ import annotations

import math
import time

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from cctelemetry.ingest import BatchWriter, IngestPolicy, submit_message
from cctelemetry.ingest.decode import decode_request
from cctelemetry.ingest.outcome import map_request
from cctelemetry.ingest.raw_logs import RawLogs, plain
from conftest import fixture_bodies, new_database, open_store

COLUMNS = (
    "Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, ResourceSchemaUrl, "
    "ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes, EventName"
)


def kv(key: str, **value) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


DOUBLES = [
    0.0571128,
    100.0,
    -0.0,
    1e-6,
    1.5e-6,
    9.99e-7,
    1e20,
    1e21,
    123456789.123,
    0.1 + 0.2,
    -3.25,
    5e-324,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    2.5e-5,
]


BASE_NS = (time.time_ns() // 10**9 - 3600) * 10**9  # recent: the raw tables drop rows past their TTL
RENDERING_EDGES = 10  # the first edge bodies after the plain one: doubles Go writes with an exponent, NaN and
# infinities, a duplicate key, an array, a map, bytes


def edge_bodies() -> list[ExportLogsServiceRequest]:
    """Requests, one edge each (and one with all the plain cases), in protobuf."""
    bodies = []
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.30.0")
    rl.resource.attributes.extend(
        [
            kv("service.name", string_value="claude-code"),
            kv("host.name", string_value="h1"),
            kv("a.int", int_value=-42),
            kv("a.bool", bool_value=True),
        ]
    )
    sl = rl.scope_logs.add(schema_url="s")
    sl.scope.name, sl.scope.version = "com.anthropic.claude_code.events", "2.1.197"
    sl.scope.attributes.extend([kv("scope.attr", string_value="x")])
    for i, d in enumerate([0.0571128, 100.0, -0.0, 1.5e-6, 1e20, 123456789.123, 0.1 + 0.2, -3.25, 2.5e-5]):
        rec = sl.log_records.add(
            time_unix_nano=BASE_NS + 123_456_789 + i,
            severity_number=9 + i,
            severity_text="INFO",
            flags=0x1FF,
            trace_id=bytes(range(16)),
            span_id=b"\x00" * 8 if i % 2 else b"\x01" * 8,
            event_name="claude_code.api_request",
        )
        rec.body.string_value = "claude_code.api_request"
        rec.attributes.extend([kv("session.id", string_value=f"s-{i}"), kv("event.name", string_value="api_request"),
                               kv("cost_usd", double_value=d), kv("input_tokens", int_value=10 * i),
                               kv("zz", bool_value=False), kv("empty"), kv("ünïcode", string_value="✓ <&> \"q\""),
                               kv("model", string_value="claude-sonnet-4-5")])  # fmt: skip
    rec = sl.log_records.add(observed_time_unix_nano=BASE_NS + 1_000_000_000)  # observed time only, no body
    rec.attributes.extend([kv("b", string_value="2"), kv("a", string_value="1")])
    bodies.append(req)
    # one edge per body: each must go to Python, and still be equal
    edges = [
        [kv("d", double_value=d)] for d in DOUBLES if not (1e-6 <= abs(d) < 1e21 or d == 0)
    ] + [
        [kv("dup", string_value="first"), kv("dup", string_value="last")],
        [kv("arr", array_value={"values": [AnyValue(string_value="a"), AnyValue(int_value=1)]})],
        [kv("map", kvlist_value={"values": [kv("k", double_value=1e-7)]})],
        [kv("raw", bytes_value=b"\x00\xffbytes")],
        [kv("prompt", string_value="secret typed text"), kv("prompt_length", int_value=17)],
        [kv("prompt", string_value="<REDACTED>"), kv("response", string_value="<REDACTED>")],
        [kv("tool_parameters", string_value='{"bash_command":"ls"}')],
        [kv("tool_input", string_value="{}")],
        [kv("tool_parameters", string_value='{"full_command":"rm -rf /","bash_command":"rm"}')],
        [kv("user.email", string_value="Dev@Example.com")],
    ]  # fmt: skip
    for n, attrs in enumerate(edges):
        req = ExportLogsServiceRequest()
        rl = req.resource_logs.add()
        rl.resource.attributes.extend([kv("service.name", string_value="claude-code")])
        rec = rl.scope_logs.add().log_records.add(time_unix_nano=BASE_NS + 2_000_000_000 + n)
        rec.body.string_value = "claude_code.tool_result"
        rec.attributes.extend([kv("session.id", string_value=f"edge-{n}"), *attrs])
        bodies.append(req)
    return bodies


def all_bodies() -> list[ExportLogsServiceRequest]:
    captured = [decode_request("logs", body, content_type)
                for _, signal, body, content_type in fixture_bodies() if signal == "logs"]  # fmt: skip
    for message in captured:  # moved to the last hour: the raw tables drop rows past their TTL (72 h)
        for record in (r for rl in message.resource_logs for sl in rl.scope_logs for r in sl.log_records):
            for name in ("time_unix_nano", "observed_time_unix_nano"):
                if getattr(record, name):
                    setattr(record, name, BASE_NS + getattr(record, name) % 3_000_000_000_000)
    return captured + edge_bodies()


def stored(store) -> list[tuple]:
    return store.query(f"SELECT {COLUMNS} FROM otel_logs ORDER BY Timestamp, toString(LogAttributes), Body",
                       role="write").result_rows  # fmt: skip


@pytest.mark.parametrize(
    "policy",
    [IngestPolicy(), IngestPolicy(store_prompts=True), IngestPolicy(hash_emails=True, email_salt="s")],
    ids=["default", "prompts", "emails"],
)
def test_clickhouse_flattens_bodies_exactly_as_python_maps_them(engine_url, store, policy):
    bodies = all_bodies()
    by_python = store
    by_engine = open_store(engine_url, new_database())
    try:
        for message in bodies:
            by_python.insert("otel_logs", map_request("logs", message, policy).batch.get("otel_logs", []),
                             [c.strip() for c in COLUMNS.split(",")])  # fmt: skip
        raw = RawLogs(by_engine)
        python = raw.stage([m.SerializeToString() for m in bodies], policy)
        mapped = [map_request("logs", bodies[i], policy).batch.get("otel_logs", []) for i in sorted(python)]
        raw.flatten(python)
        for rows in mapped:
            by_engine.insert("otel_logs", rows, [c.strip() for c in COLUMNS.split(",")])
        assert stored(by_engine) == stored(by_python)
        assert len(stored(by_engine)) == sum(len(s.log_records) for m in bodies for r in m.resource_logs
                                             for s in r.scope_logs)  # fmt: skip
        first_edge = len(bodies) - len(edge_bodies())
        assert first_edge not in python, "the body of plain cases is flattened by ClickHouse"
        rendering_edges = set(range(first_edge + 1, first_edge + 1 + RENDERING_EDGES))
        assert rendering_edges <= python, "every body SQL would not render as Go does is mapped by Python"
        if policy.store_prompts:  # the captures were made with prompts and tool details logged
            assert not python & set(range(first_edge)), "every captured body is flattened by ClickHouse"
    finally:
        by_engine.command(f"DROP DATABASE IF EXISTS `{by_engine.database}`")
        by_engine.close()


def test_the_policy_check_before_acknowledging_is_conservative():
    """A body acknowledged before it is flattened must be one the policy has nothing to tell the client about."""
    policy = IngestPolicy(max_attributes=3, max_value_length=50)
    for message in all_bodies():
        if plain(message, policy):
            assert map_request("logs", message, policy).error_message == ""
    long_value = ExportLogsServiceRequest()
    long_value.resource_logs.add().scope_logs.add().log_records.add().attributes.extend(
        [kv("k", string_value="x" * 51)]
    )
    assert not plain(long_value, policy)


def test_journaled_bodies_of_a_killed_writer_are_stored_at_the_next_start(store):
    """A body is acknowledged once journaled; a process killed before its flush leaves the segment, and the next
    writer stores it (the same rows, counted once in the reports)."""
    from pathlib import Path

    from cctelemetry.ingest.journal import Journal
    from cctelemetry.ingest.writer import JOURNAL_FOLDER

    bodies = [m.SerializeToString() for m in edge_bodies()[:1]]
    folder = Path(store.target.path) / JOURNAL_FOLDER / store.database
    journal = Journal(folder)  # what a killed process left: appended, never flushed
    for body in bodies:
        journal.append(body)
    journal.append(bodies[0])  # a retried body: stored twice in otel_logs, one request in the reports
    with open(next(folder.glob("*.otlp")), "ab") as f:
        f.write(b"\x10\x00\x00\x00partial")  # a record cut by the kill: never acknowledged
    journal.close()
    writer = BatchWriter(store, flush_ms=0)
    try:
        assert store.scalar("SELECT count() FROM otel_logs") == 2 * 10
        assert not list(folder.glob("*.otlp"))
        assert store.scalar("SELECT count() FROM request_copies") == 9  # the api_request events, once each
    finally:
        writer.close()


def test_acknowledged_bodies_are_in_the_reports_at_once(store):
    """Acknowledged means counted by the next report: the writer stores and the fact writer takes in what is
    pending before a report reads."""
    writer = BatchWriter(store, flush_ms=500)  # a slow writer: the report must wait for it, not miss rows
    try:
        message = edge_bodies()[0]
        future = submit_message(writer, "logs", message, message.SerializeToString(), IngestPolicy())
        assert future.result(timeout=5).error_message == ""
        assert store.scalar("SELECT count() FROM request_copies") == 9
        assert store.scalar("SELECT sum(requests) FROM usage_hourly") == 9
    finally:
        writer.close()
