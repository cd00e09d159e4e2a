"""The OTLP/HTTP receiver's answers: 200 for good bodies in every encoding, and a defined error for each bad input."""

import gzip
import json

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from conftest import FIXTURES

LOGS_JSON = (FIXTURES / "otlp" / "r02-outfmt-json" / "logs-001.json").read_bytes()
LOGS_PB = (FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes()


def api_request_log(session="s-1", request_id="req_1", int_as_string=False, time_unix_nano="1795343882177000000"):
    def num(v):
        return {"intValue": str(v) if int_as_string else v}

    return {"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": [{
            "timeUnixNano": time_unix_nano, "observedTimeUnixNano": "1795343882999000000",
            "body": {"stringValue": "claude_code.api_request"},
            "attributes": [
                {"key": "session.id", "value": {"stringValue": session}},
                {"key": "event.name", "value": {"stringValue": "api_request"}},
                {"key": "model", "value": {"stringValue": "claude-sonnet-4-5"}},
                {"key": "input_tokens", "value": num(10)}, {"key": "output_tokens", "value": num(20)},
                {"key": "cache_read_tokens", "value": num(30)}, {"key": "cache_creation_tokens", "value": num(40)},
                {"key": "cost_usd", "value": {"doubleValue": 0.25}},
                {"key": "request_id", "value": {"stringValue": request_id}},
            ]}]}]}]}  # fmt: skip


def session_row(client, session):
    rows = client.get("/api/v1/usage", params={"group_by": "session", "session": session}).json()["rows"]
    return rows[0] if rows else None


def test_json_body_with_chunked_transfer_and_no_content_length(client):
    def chunks():
        for i in range(0, len(LOGS_JSON), 1000):
            yield LOGS_JSON[i : i + 1000]

    r = client.post("/v1/logs", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == {}


def test_protobuf_body_gets_a_protobuf_export_response(client):
    r = client.post("/v1/logs", content=LOGS_PB, headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-protobuf"
    ExportLogsServiceResponse().ParseFromString(r.content)


def test_gzip_body(client):
    r = client.post("/v1/logs", content=gzip.compress(LOGS_PB),
                    headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})  # fmt: skip
    assert r.status_code == 200


@pytest.mark.parametrize("int_as_string", [False, True])
def test_int_value_as_number_or_string(client, int_as_string):
    body = json.dumps(api_request_log(session=f"s-{int_as_string}", int_as_string=int_as_string))
    assert client.post("/v1/logs", content=body, headers={"Content-Type": "application/json"}).status_code == 200
    row = session_row(client, f"s-{int_as_string}")
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"], row["cache_creation_tokens"]) == (
        10,
        20,
        30,
        40,
    )
    assert row["cost_usd"] == 0.25


def test_zero_timestamp_falls_back_to_observed_time(client, store):
    body = json.dumps(api_request_log(session="s-obs", time_unix_nano="0"))
    client.post("/v1/logs", content=body, headers={"Content-Type": "application/json"})
    ts = store.scalar("SELECT toUnixTimestamp64Nano(timestamp) FROM request_copies WHERE session_id = 's-obs'")
    assert ts == 1795343882999000000


@pytest.mark.parametrize("body, ctype", [
    (b"\xff\xfe not protobuf at all", "application/x-protobuf"),
    (b"{not json", "application/json"),
    (b'["a list"]', "application/json"),
    (b'{"resourceLogs": [{"scopeLogs": "oops"}]}', "application/json"),
    (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}', "application/json"),
])  # fmt: skip
def test_malformed_body_is_400_with_a_status_message(client, body, ctype):
    r = client.post("/v1/logs", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 400
    if ctype == "application/json":
        assert r.json()["code"] == 3 and r.json()["message"]


def test_bad_gzip_is_400(client):
    r = client.post("/v1/logs", content=b"not gzip", headers={"Content-Type": "application/json",
                                                             "Content-Encoding": "gzip"})  # fmt: skip
    assert r.status_code == 400


def test_unknown_content_type_is_415(client):
    r = client.post("/v1/logs", content=b"hello", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_unknown_content_encoding_is_415(client):
    r = client.post("/v1/logs", content=LOGS_PB, headers={"Content-Type": "application/x-protobuf",
                                                         "Content-Encoding": "zstd"})  # fmt: skip
    assert r.status_code == 415


def test_oversized_body_is_413_declared_chunked_or_gzip_bomb(client, service_state):
    service_state.settings.max_body_bytes = 1000
    headers = {"Content-Type": "application/x-protobuf"}
    assert client.post("/v1/logs", content=LOGS_PB, headers=headers).status_code == 413
    assert client.post("/v1/logs", content=iter([LOGS_PB]), headers=headers).status_code == 413
    bomb = gzip.compress(b"\0" * 500_000)
    assert len(bomb) < 1000
    r = client.post("/v1/logs", content=bomb, headers={**headers, "Content-Encoding": "gzip"})
    assert r.status_code == 413


def test_store_down_is_503_with_retry_after_and_nothing_acknowledged(client, service_state, store, database):
    before = store.scalar("SELECT count() FROM request_copies")
    store.command(f"RENAME TABLE `{database}`.otel_logs TO `{database}`.otel_logs_away")
    try:
        r = client.post("/v1/logs", content=json.dumps(api_request_log(session="s-down")),
                        headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 503
        assert r.headers["retry-after"] == "5"
        assert "write failed" in r.json()["message"]
    finally:
        store.command(f"RENAME TABLE `{database}`.otel_logs_away TO `{database}`.otel_logs")
    assert store.scalar("SELECT count() FROM request_copies") == before
    # the client's retry then lands
    r = client.post("/v1/logs", content=json.dumps(api_request_log(session="s-down")),
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 200 and session_row(client, "s-down")["requests"] == 1


def test_full_write_queue_is_429(client, service_state):
    """Throttling: 429 with Retry-After (gRPC's RESOURCE_EXHAUSTED); 503 is for a store that is down."""
    service_state.writer.max_rows = 0
    r = client.post("/v1/logs", content=LOGS_JSON, headers={"Content-Type": "application/json"})
    assert r.status_code == 429 and "queue full" in r.json()["message"] and r.headers["Retry-After"] == "5"
    assert r.json()["code"] == 8  # google.rpc.Code RESOURCE_EXHAUSTED


def test_metrics_and_traces_land_in_the_raw_tables(engine_url):
    """Raw rows as the exporter writes them (a long TTL here: the fixtures are days old)."""
    from cctelemetry.config import Settings
    from conftest import api_client, fixture_bodies, make_state, new_database, open_store

    database = new_database()
    store = open_store(engine_url, database, raw_ttl_hours=24 * 3650)
    with api_client(make_state(store, Settings(database=database, write_flush_ms=5))) as client:
        for _run, signal, body, ctype in fixture_bodies("r10-full-traces-protobuf"):
            assert client.post(f"/v1/{signal}", content=body, headers={"Content-Type": ctype}).status_code == 200
    spans = store.rows("SELECT SpanName, SpanKind, StatusCode, length(TraceId) AS t, length(SpanId) AS s, "
                       "SpanAttributes['gen_ai.response.finish_reasons'] AS fr FROM otel_traces "
                       "WHERE SpanName = 'claude_code.llm_request' LIMIT 1")  # fmt: skip
    assert spans[0]["SpanKind"] == "Internal" and spans[0]["StatusCode"] == "Unset"
    assert (spans[0]["t"], spans[0]["s"]) == (32, 16)
    assert spans[0]["fr"].startswith('["')  # arrays are JSON, as AsString renders them
    sums = store.rows("SELECT AggregationTemporality AS t, IsMonotonic AS m, MetricUnit AS u FROM otel_metrics_sum "
                      "WHERE MetricName = 'claude_code.cost.usage' LIMIT 1")  # fmt: skip
    assert sums == [{"t": 1, "m": True, "u": "USD"}]
    assert store.scalar("SELECT count() FROM otel_traces_trace_id_ts") >= 1
    store.command(f"DROP DATABASE `{database}`")
