"""Every limit is a setting with a clear answer, over OTLP/HTTP (JSON and protobuf) and OTLP/gRPC alike:
value length and attribute count (cut, counted, partial success), items per request (413), JSON depth
(400), a full write queue (429 with Retry-After), the SQL endpoint's time and row limits; and what is kept
of prompts, tool inputs and emails."""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from functools import partial

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from pydantic import SecretStr

from cctelemetry.api.otlp_grpc import OtlpGrpcServer
from cctelemetry.api.state import ServiceState
from cctelemetry.ingest import BatchWriter
from cctelemetry.ingest.outcome import map_request
from conftest import FIXTURES, api_client, fixture_bodies, new_database, open_store
from otlp_grpc_client import channel, export, retry_delay_s

JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}


@contextmanager
def service(store, settings, max_rows: int | None = None, flush_ms: int = 5, **overrides):
    s = settings.model_copy(update=overrides)
    writer = BatchWriter(store, max_rows=max_rows or s.write_queue_rows, flush_ms=flush_ms)
    state = ServiceState(settings=s, store=store, writer=writer)
    with api_client(state) as client:
        yield client, state


def log_body(n: int = 1, session: str = "s-limits", **attributes) -> dict:
    now = time.time_ns()
    records = []
    for i in range(n):
        kv = {"session.id": session, "event.name": "user_prompt", "event.sequence": str(i), **attributes}
        records.append(
            {
                "timeUnixNano": str(now + i),
                "body": {"stringValue": attributes.pop("_body", "claude_code.user_prompt")},
                "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in kv.items()],
            }
        )
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
                "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}],
            }
        ]
    }


def json_to_pb(body: dict) -> bytes:
    from google.protobuf import json_format

    return json_format.ParseDict(body, ExportLogsServiceRequest()).SerializeToString()


def stored(store, session: str) -> list[dict]:
    return store.rows("SELECT Body, LogAttributes AS a FROM otel_logs WHERE LogAttributes['session.id'] = {s:String} "
                      "ORDER BY Timestamp", {"s": session})  # fmt: skip


# -- value length and attribute count -----------------------------------------------------------------


def test_long_values_are_cut_counted_and_told(store, settings):
    with service(store, settings, max_attribute_length=1000) as (client, _):
        body = log_body(session="s-long", big="x" * 20_000, small="ok")
        body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"] = {"stringValue": "b" * 5000}
        r = client.post("/v1/logs", content=json.dumps(body), headers=JSON)
    assert r.status_code == 200
    partial_success = r.json()["partialSuccess"]
    assert partial_success.get("rejectedLogRecords", "0") in (0, "0")
    assert "2 attribute value(s) or body(ies) cut to 1000 characters" in partial_success["errorMessage"]
    assert "CCTELEMETRY_MAX_ATTRIBUTE_LENGTH" in partial_success["errorMessage"]
    (row,) = stored(store, "s-long")
    assert len(row["a"]["big"]) == 1000 and row["a"]["small"] == "ok" and len(row["Body"]) == 1000
    assert row["a"]["cctelemetry.truncated"] == "2"


def test_long_values_over_protobuf_and_grpc_get_the_same_partial_success(store, settings):
    request = ExportLogsServiceRequest()
    request.ParseFromString((FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes())
    for r in request.resource_logs[0].scope_logs[0].log_records:
        r.time_unix_nano = time.time_ns()  # within the raw tables' TTL
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    kv = record.attributes.add()
    kv.key, kv.value.string_value = "big", "y" * 3000
    with service(store, settings, max_attribute_length=1000) as (client, state):
        r = client.post("/v1/logs", content=request.SerializeToString(), headers=PROTOBUF)
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
        over_http = ExportLogsServiceResponse.FromString(r.content).partial_success
        server = OtlpGrpcServer(state.writer, "127.0.0.1", 0, 1 << 24,
                                map_rows=partial(map_request, policy=state.policy)).start()  # fmt: skip
        try:
            with channel(server.port) as ch:
                over_grpc = export(ch, "logs", request).partial_success
        finally:
            server.stop(0)
    assert over_http.rejected_log_records == over_grpc.rejected_log_records == 0
    assert over_http.error_message == over_grpc.error_message
    assert "1 attribute value(s) or body(ies) cut to 1000" in over_http.error_message
    lengths = store.rows("SELECT length(LogAttributes['big']) AS n FROM otel_logs WHERE LogAttributes['big'] != ''")
    assert lengths == [{"n": 1000}, {"n": 1000}]


def test_a_map_left_empty_by_the_content_rule(store, settings):
    """Found by fuzzing: a span event whose only attribute was content (removed) made the length check fail."""
    from cctelemetry.ingest.policy import IngestPolicy, apply

    batch = {"otel_logs": [[0, "", "", 0, "", 0, "s", "b", "", {}, "", "", "", {}, {"body": "raw"}, ""]]}
    assert apply(batch, IngestPolicy()).redacted == 1 and batch["otel_logs"][0][14] == {}


def test_too_many_attributes_are_dropped_and_counted(store, settings):
    many = {f"k{i:03d}": "v" for i in range(300)}
    with service(store, settings, max_attributes=128) as (client, _):
        r = client.post("/v1/logs", content=json.dumps(log_body(session="s-many", **many)), headers=JSON)
    assert r.status_code == 200
    # 303 attributes (300 + session.id, event.name, event.sequence): 175 over the limit
    assert (
        "175 attribute(s) dropped over 128 per map (CCTELEMETRY_MAX_ATTRIBUTES)"
        in r.json()["partialSuccess"]["errorMessage"]
    )
    (row,) = stored(store, "s-many")
    assert len(row["a"]) == 128 + 1 and row["a"]["cctelemetry.truncated"] == "175"


def test_limits_off_keep_everything(store, settings):
    with service(store, settings, max_attribute_length=0, max_attributes=0) as (client, _):
        r = client.post("/v1/logs", content=json.dumps(log_body(session="s-whole", big="z" * 100_000)), headers=JSON)
    assert r.status_code == 200 and r.content == b"{}"  # nothing cut: the plain (empty) response
    (row,) = stored(store, "s-whole")
    assert len(row["a"]["big"]) == 100_000 and "cctelemetry.truncated" not in row["a"]


def test_defaults_keep_the_captures_whole(store, settings):
    """The captured Claude Code bodies are within the default limits: nothing cut, no partial success."""
    with service(store, settings) as (client, _):
        for _, signal, body, content_type in fixture_bodies():
            r = client.post(f"/v1/{signal}", content=body, headers={"Content-Type": content_type})
            assert r.status_code == 200 and r.content in (b"{}", b""), r.content


def test_times_the_store_cannot_hold_are_rejected_not_retried(store, settings):
    """Found by fuzzing: a time past 2262 (logs, spans) or 2106 (metric points) failed the whole insert, and
    every other client's rows in the same flush, with a 503 that the client would retry forever. Such rows
    are now rejected and counted (partial success); the rest of the request is written."""
    body = log_body(2, session="s-time")
    body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["timeUnixNano"] = str(2**64 - 1)
    with service(store, settings) as (client, state):
        r = client.post("/v1/logs", content=json.dumps(body), headers=JSON)
        assert r.status_code == 200
        assert r.json()["partialSuccess"]["rejectedLogRecords"] in (1, "1")
        assert "a time past what can be stored" in r.json()["partialSuccess"]["errorMessage"]
        metrics = {
            "resourceMetrics": [
                {
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": "claude_code.commit.count",
                                    "sum": {
                                        "aggregationTemporality": 1,
                                        "dataPoints": [
                                            {"timeUnixNano": str(2**63), "asDouble": 1},
                                            {"timeUnixNano": str(time.time_ns()), "asDouble": 1},
                                        ],
                                    },
                                }
                            ]
                        }
                    ]
                }
            ]
        }
        from google.protobuf import json_format
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        server = OtlpGrpcServer(state.writer, "127.0.0.1", 0, 1 << 24,
                                map_rows=partial(map_request, policy=state.policy)).start()  # fmt: skip
        try:
            with channel(server.port) as ch:
                response = export(ch, "metrics", json_format.ParseDict(metrics, ExportMetricsServiceRequest()))
        finally:
            server.stop(0)
    assert response.partial_success.rejected_data_points == 1
    assert len(stored(store, "s-time")) == 1
    assert store.scalar("SELECT count() FROM otel_metrics_sum WHERE MetricName = 'claude_code.commit.count'") == 1


# -- items per request, JSON depth ------------------------------------------------------------------


def test_too_many_records_in_one_request_is_413(store, settings):
    with service(store, settings, max_items_per_request=3) as (client, state):
        r = client.post("/v1/logs", content=json.dumps(log_body(5, session="s-items")), headers=JSON)
        assert r.status_code == 413 and "5 log records in one request; at most 3" in r.json()["message"]
        assert "CCTELEMETRY_MAX_ITEMS_PER_REQUEST" in r.json()["message"]
        assert (
            client.post("/v1/logs", content=json.dumps(log_body(3, session="s-items")), headers=JSON).status_code == 200
        )
        request = ExportLogsServiceRequest.FromString(json_to_pb(log_body(5, session="s-items-grpc")))
        server = OtlpGrpcServer(state.writer, "127.0.0.1", 0, 1 << 24,
                                map_rows=partial(map_request, policy=state.policy)).start()  # fmt: skip
        try:
            with channel(server.port) as ch, pytest.raises(grpc.RpcError) as e:
                export(ch, "logs", request)
        finally:
            server.stop(0)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and retry_delay_s(e.value) is None
    assert len(stored(store, "s-items")) == 3


def test_a_body_larger_than_the_write_queue_is_413_not_a_retry(store, settings):
    with service(store, settings, write_queue_rows=10) as (client, _):
        r = client.post("/v1/logs", content=json.dumps(log_body(12, session="s-q")), headers=JSON)
    assert r.status_code == 413 and "at most 10" in r.json()["message"]


def nested(depth: int) -> dict:
    value = {"stringValue": "leaf"}
    for _ in range(depth):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    return value


def test_json_depth_is_a_setting(store, settings):
    body = log_body(session="s-deep")
    body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"].append({"key": "deep", "value": nested(10)})
    with service(store, settings, max_json_depth=24) as (client, _):
        r = client.post("/v1/logs", content=json.dumps(body), headers=JSON)
        assert (
            r.status_code == 400
            and "nested more than 24 levels deep (CCTELEMETRY_MAX_JSON_DEPTH)" in r.json()["message"]
        )
    with service(store, settings) as (client, _):  # the default, 64
        assert client.post("/v1/logs", content=json.dumps(body), headers=JSON).status_code == 200


# -- the write queue --------------------------------------------------------------------------------


def test_a_full_write_queue_is_429_with_retry_after_until_it_drains(store, settings):
    # a writer that holds what it was given for 2 s before writing: a queue of 10 rows fills for real
    with service(store, settings, max_rows=10, flush_ms=2000, write_queue_rows=10) as (client, state):
        from cctelemetry.ingest.decode import decode_request

        first = map_request("logs", decode_request("logs", json.dumps(log_body(8, session="s-full")).encode(),
                                                   "application/json"))  # fmt: skip
        pending = state.writer.submit(first.batch)
        r = client.post("/v1/logs", content=json.dumps(log_body(5, session="s-full2")), headers=JSON)
        assert r.status_code == 429 and r.headers["Retry-After"] == "5"
        assert r.json() == {"code": 8, "message": r.json()["message"]} and "write queue full" in r.json()["message"]
        pending.result(timeout=30)
        r = client.post("/v1/logs", content=json.dumps(log_body(5, session="s-full2")), headers=JSON)
        assert r.status_code == 200
    assert len(stored(store, "s-full")) == 8 and len(stored(store, "s-full2")) == 5


# -- the SQL endpoint's limits ----------------------------------------------------------------------


def test_sql_row_limit(store, settings):
    with service(store, settings, sql_max_rows=5) as (client, _):
        body = client.post("/api/v1/sql", json={"query": "SELECT number FROM numbers(100)"}).json()
        assert body["truncated"] is True and [r["number"] for r in body["rows"]] == [0, 1, 2, 3, 4]
        body = client.post("/api/v1/sql", params={"limit": 3}, json={"query": "SELECT number FROM numbers(100)"}).json()
        assert body["truncated"] is True and len(body["rows"]) == 3
        body = client.post("/api/v1/sql", json={"query": "SELECT number FROM numbers(5)"}).json()
        assert body["truncated"] is False and len(body["rows"]) == 5


def test_sql_time_limit(store, settings):
    with service(store, settings, sql_max_seconds=1) as (client, _):
        t0 = time.monotonic()
        r = client.post("/api/v1/sql", json={"query": "SELECT sum(cityHash64(number)) FROM numbers(1000000000000)"})
        elapsed = time.monotonic() - t0
    assert r.status_code == 400 and r.json()["code"] == "query_timeout"
    assert "CCTELEMETRY_SQL_MAX_SECONDS" in r.json()["error"]
    assert elapsed < 20


# -- content: prompts, tool inputs, emails ----------------------------------------------------------

R10 = "r10-full-traces-protobuf"


@pytest.fixture
def long_store(engine_url):
    """The captures are weeks old: raw tables with a TTL that keeps them."""
    database = new_database()
    s = open_store(engine_url, database, raw_ttl_hours=24 * 365 * 10)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")
    s.close()


def replay_r10(client):
    for _, signal, body, content_type in fixture_bodies(R10):
        assert client.post(f"/v1/{signal}", content=body, headers={"Content-Type": content_type}).status_code == 200


def test_prompts_and_tool_inputs_are_not_stored_by_default(long_store, settings):
    with service(long_store, settings.model_copy(update={"database": long_store.database})) as (client, _):
        replay_r10(client)
        cost = client.get("/api/v1/usage").json()["totals"]["cost_usd"]
    logs = {r["event"]: r["a"] for r in long_store.rows(
        "SELECT LogAttributes['event.name'] AS event, LogAttributes AS a FROM otel_logs")}  # fmt: skip
    assert logs["user_prompt"]["prompt"] == "<REDACTED>" and logs["user_prompt"]["prompt_length"] == "60"
    assert logs["assistant_response"]["response"] == "<REDACTED>"
    assert "tool_input" not in logs["tool_result"] and logs["tool_result"]["tool_input_size_bytes"]
    params = [
        json.loads(a["tool_parameters"])
        for a in long_store.rows("SELECT LogAttributes AS a FROM otel_logs WHERE LogAttributes['tool_name'] = 'Bash'")
        for a in [a["a"]]
    ]
    assert params and all("full_command" not in p and p["bash_command"] == "echo" for p in params)
    spans = {
        r["name"]: r["a"] for r in long_store.rows("SELECT SpanName AS name, SpanAttributes AS a FROM otel_traces")
    }
    assert spans["claude_code.interaction"]["user_prompt"] == "<REDACTED>"
    tools = long_store.rows("SELECT SpanAttributes AS a FROM otel_traces WHERE SpanName = 'claude_code.tool'")
    assert all("full_command" not in t["a"] for t in tools)
    events = long_store.rows("SELECT attributes AS a FROM agent_events WHERE event_name = 'user_prompt'")
    assert [e["a"]["prompt"] for e in events] == ["<REDACTED>"]
    assert cost == pytest.approx(0.116151, abs=1e-9)  # the money is untouched (runs-summary.json: r10)


def test_prompts_are_stored_when_configured(long_store, settings):
    with service(long_store, settings.model_copy(update={"database": long_store.database}), store_prompts=True) as (
        client,
        _,
    ):
        replay_r10(client)
    prompt = long_store.scalar(
        "SELECT LogAttributes['prompt'] FROM otel_logs WHERE LogAttributes['event.name'] = 'user_prompt'"
    )
    captured = json.loads((FIXTURES / "otlp" / R10 / "logs-001.pb.json").read_text())
    records = captured["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    sent = [a["value"]["stringValue"] for r in records for a in r["attributes"] if a["key"] == "prompt"]
    assert [prompt] == sent
    assert long_store.scalar("SELECT count() FROM otel_logs WHERE LogAttributes['tool_input'] != ''") == 2


def test_emails_can_be_hashed(store, settings):
    body = log_body(session="s-mail", **{"user.email": "Dev@Example.com", "_body": "claude_code.api_request"})
    for record in body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]:
        record["attributes"] += [{"key": "model", "value": {"stringValue": "claude-sonnet-4-5"}},
                                 {"key": "input_tokens", "value": {"stringValue": "10"}}]  # fmt: skip
    with service(store, settings, hash_emails=True, email_hash_salt=SecretStr("pepper")) as (client, _):
        assert client.post("/v1/logs", content=json.dumps(body), headers=JSON).status_code == 200
        users = client.get("/api/v1/usage", params={"group_by": "user", "session": "s-mail"}).json()["rows"]
    expected = "sha256:" + hashlib.sha256(b"pepperdev@example.com").hexdigest()[:16]
    assert [u["user"] for u in users] == [expected]
    assert store.scalar("SELECT count() FROM otel_logs WHERE position(toString(LogAttributes), 'xample') > 0") == 0
