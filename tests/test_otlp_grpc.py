"""OTLP/gRPC: every captured Claude Code export replayed over gRPC gives the same rows and reports as over
HTTP; gzip; answers per the OTLP/gRPC spec (OK, partial success, INVALID_ARGUMENT, RESOURCE_EXHAUSTED
with RetryInfo). The server is the service's own (api/otlp_grpc.py) on a free port; the client is
grpcio with the generated stubs of opentelemetry-proto."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from cctelemetry.api.otlp_grpc import OtlpGrpcServer
from cctelemetry.api.ports import PortInUse, ensure_ports_free
from cctelemetry.config import Settings
from cctelemetry.ingest import BatchWriter
from cctelemetry.ingest.decode import REQUEST_TYPES, decode_request
from cctelemetry.ingest.outcome import Mapped, map_request
from conftest import FIXTURES, api_client, fixture_bodies, make_state, new_database, open_store
from otlp_grpc_client import channel, export, export_raw, retry_delay_s

SUMMARY = {row[0]: row for row in json.loads((FIXTURES / "runs-summary.json").read_text())}
DERIVED_TABLES = ["request_copies", "agent_events"]  # kept 400 days: the captures' rows stay
RAW_TABLES = ["otel_logs", "otel_traces", "otel_metrics_sum", "otel_metrics_gauge", "otel_metrics_histogram",
              "otel_metrics_exponential_histogram", "otel_metrics_summary"]  # fmt: skip
REPORTS = ["session", "model,agent", "day,model", "agent_type", "user"]


def as_message(signal: str, body: bytes, content_type: str):
    """A captured body as the request message a gRPC exporter would send: .pb parsed as protobuf, JSON
    through the same OTLP/JSON parser the HTTP receiver uses."""
    return decode_request(signal, body, content_type)


def shifted_to_now(message, delta_ns: int):
    """The message with every *_unix_nano time moved by delta_ns: the raw tables' 72 h TTL would drop
    the captures' own times on insert."""
    for field, value in message.ListFields():
        if field.message_type is None:
            if field.name.endswith("_unix_nano") and value:
                setattr(message, field.name, value + delta_ns)
        else:
            for item in [value] if hasattr(value, "DESCRIPTOR") else value:  # one message or a repeated field
                shifted_to_now(item, delta_ns)
    return message


def captured_messages(recent: bool):
    """(signal, HTTP body, content type, request message) for every capture; ``recent`` moves them to now."""
    delta = time.time_ns() - 1_795_000_000 * 10**9  # the captures are from 2026-11
    for _, signal, body, content_type in fixture_bodies():
        message = as_message(signal, body, content_type)
        if recent:
            message = shifted_to_now(message, delta)
            body, content_type = message.SerializeToString(), "application/x-protobuf"
        yield signal, body, content_type, message


def replay_over_http(client, messages) -> int:
    for signal, body, content_type, _ in messages:
        r = client.post(f"/v1/{signal}", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 200, r.text
    return len(messages)


def replay_over_grpc(port: int, messages, compression=None) -> int:
    with channel(port) as ch:
        for signal, _, _, message in messages:
            response = export(ch, signal, message, compression)
            assert not response.HasField("partial_success"), response
    return len(messages)


@pytest.fixture
def grpc_server(service_state):
    server = OtlpGrpcServer(service_state.writer, "127.0.0.1", 0, service_state.settings.max_body_bytes).start()
    yield server
    server.stop(0)


class Replay:
    """Two databases with every captured export: one fed over OTLP/HTTP, one over OTLP/gRPC."""

    def __init__(self, engine_url: str, gzip: bool = False, recent: bool = False):
        messages = list(captured_messages(recent))
        self.stores, self.clients, self._exits = {}, {}, []
        for transport in ("http", "grpc"):
            database = new_database()
            store = open_store(engine_url, database)
            state = make_state(store, Settings(database=database, tz="UTC", write_flush_ms=5))
            cm = api_client(state)
            client = cm.__enter__()
            self._exits.append((cm, store, database))
            self.stores[transport], self.clients[transport] = store, client
            if transport == "http":
                self.bodies = replay_over_http(client, messages)
            else:
                server = OtlpGrpcServer(state.writer, "127.0.0.1", 0, state.settings.max_body_bytes).start()
                try:
                    compression = grpc.Compression.Gzip if gzip else None
                    assert replay_over_grpc(server.port, messages, compression) == self.bodies
                finally:
                    server.stop()

    def usage(self, transport: str, group_by: str) -> dict:
        r = self.clients[transport].get("/api/v1/usage", params={"group_by": group_by})
        assert r.status_code == 200, r.text
        return r.json()

    def table(self, transport: str, table: str) -> list[str]:
        rows = self.stores[transport].rows(f"SELECT * FROM {table}")
        rows = [{k: v for k, v in r.items() if k not in ("inserted_at", "version")} for r in rows]  # when, not what
        return sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)

    def close(self) -> None:
        for cm, store, database in self._exits:
            cm.__exit__(None, None, None)
            store.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture(scope="module", params=[False, True], ids=["identity", "gzip"])
def replay(request, engine_url):
    r = Replay(engine_url, gzip=request.param)
    yield r
    r.close()


@pytest.fixture(scope="module")
def recent_replay(engine_url):
    r = Replay(engine_url, recent=True)
    yield r
    r.close()


# -- the captured runs, over gRPC ------------------------------------------------------------------


def test_every_capture_was_replayed(replay):
    assert replay.bodies == len(list(fixture_bodies())) >= 30


@pytest.mark.parametrize("table", DERIVED_TABLES)
def test_fact_rows_are_the_same_as_over_http(replay, table):
    http = replay.table("http", table)
    assert http and replay.table("grpc", table) == http


@pytest.mark.parametrize("table", RAW_TABLES)
def test_raw_rows_are_the_same_as_over_http(recent_replay, table):
    http = recent_replay.table("http", table)
    assert recent_replay.table("grpc", table) == http
    if table in ("otel_logs", "otel_traces", "otel_metrics_sum"):
        assert http, f"the captures have {table} rows"


@pytest.mark.parametrize("group_by", REPORTS)
def test_reports_are_the_same_as_over_http(replay, group_by):
    assert replay.usage("grpc", group_by) == replay.usage("http", group_by)


@pytest.mark.parametrize("run", sorted(SUMMARY))
def test_session_totals_match_the_clients_own(replay, run):
    _, session, n_requests, _, cli_total, _, event_total, _ = SUMMARY[run]
    row = {r["session"]: r for r in replay.usage("grpc", "session")["rows"]}[session]
    assert row["requests"] == n_requests
    assert row["cost_usd"] == pytest.approx(event_total, abs=1e-12)
    if cli_total is not None:
        assert row["cost_usd"] == pytest.approx(cli_total, abs=1e-9)


# -- answers ---------------------------------------------------------------------------------------


def r04_logs() -> ExportLogsServiceRequest:
    """Claude Code's protobuf logs export of run r04, moved to now (so its raw rows outlive the TTL)."""
    body = (FIXTURES / "otlp" / "r04-protobuf" / "logs-001.pb").read_bytes()
    return shifted_to_now(ExportLogsServiceRequest.FromString(body), time.time_ns() - 1_795_000_000 * 10**9)


def logs_rows(store) -> int:
    return store.rows("SELECT count() n FROM otel_logs")[0]["n"]


def test_ok_answer_is_an_empty_export_response(grpc_server, service_state):
    with channel(grpc_server.port) as ch:
        response = export(ch, "logs", r04_logs())
    assert response.SerializeToString() == b""  # no partial_success: everything was accepted
    assert service_state.store.rows("SELECT count() n FROM requests") == [{"n": 1}]


@pytest.mark.parametrize("signal", ["logs", "metrics", "traces"])
def test_garbage_is_invalid_argument_and_not_retryable(grpc_server, signal):
    with channel(grpc_server.port) as ch, pytest.raises(grpc.RpcError) as e:
        export_raw(ch, signal, b"\xff\xff\xff not protobuf")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"cannot parse the protobuf {signal} export request" in e.value.details()
    assert retry_delay_s(e.value) is None


@pytest.mark.parametrize("signal", ["logs", "metrics", "traces"])
def test_an_empty_request_is_ok(grpc_server, signal):
    with channel(grpc_server.port) as ch:
        assert export_raw(ch, signal, b"") == b""
        assert export(ch, signal, REQUEST_TYPES[signal]()).ByteSize() == 0


def test_gzip_is_decompressed(grpc_server, service_state):
    spans = 0
    with channel(grpc_server.port) as ch:
        for signal, _, _, message in captured_messages(recent=True):
            if signal == "traces":
                export(ch, signal, message, grpc.Compression.Gzip)
                spans += sum(len(ss.spans) for rs in message.resource_spans for ss in rs.scope_spans)
    assert spans > 0
    assert service_state.store.rows("SELECT count() n FROM otel_traces") == [{"n": spans}]


@pytest.mark.parametrize("compression", [None, grpc.Compression.Gzip], ids=["identity", "gzip"])
def test_over_max_body_bytes_is_resource_exhausted_without_retry(service_state, compression):
    request = r04_logs()
    request.resource_logs[0].scope_logs[0].log_records[0].body.string_value = "x" * 50_000  # gzips to ~100 bytes
    server = OtlpGrpcServer(service_state.writer, "127.0.0.1", 0, max_message_bytes=10_000).start()
    try:
        with channel(server.port) as ch:
            with pytest.raises(grpc.RpcError) as e:
                export(ch, "logs", request, compression)
            assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert retry_delay_s(e.value) is None  # not retryable: the same body would fail again
            export(ch, "logs", r04_logs(), compression)  # a body under the limit still goes through
    finally:
        server.stop(0)
    assert logs_rows(service_state.store) == len(r04_logs().resource_logs[0].scope_logs[0].log_records)


def test_write_queue_full_is_resource_exhausted_with_retry_info(store, settings):
    writer = BatchWriter(store, max_rows=1, flush_ms=5)  # less than one export of two records
    request = r04_logs()
    request.resource_logs[0].scope_logs[0].log_records.append(request.resource_logs[0].scope_logs[0].log_records[0])
    server = OtlpGrpcServer(writer, "127.0.0.1", 0, settings.max_body_bytes).start()
    try:
        with channel(server.port) as ch, pytest.raises(grpc.RpcError) as e:
            export(ch, "logs", request)
    finally:
        server.stop(0)
        writer.close()
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "write queue full" in e.value.details()
    assert retry_delay_s(e.value) == 5
    assert logs_rows(store) == 0  # nothing half-written


def test_partial_success_reports_what_was_rejected(service_state):
    def first_record_only(signal, request):  # a per-row limit, as a future rule would be
        mapped = map_request(signal, request)
        rows = mapped.batch["otel_logs"]
        return Mapped({"otel_logs": rows[:1]}, rejected=len(rows) - 1, error_message="one record per export")

    request = r04_logs()
    n_records = len(request.resource_logs[0].scope_logs[0].log_records)
    assert n_records > 1
    server = OtlpGrpcServer(service_state.writer, "127.0.0.1", 0, 1 << 20, map_rows=first_record_only).start()
    try:
        with channel(server.port) as ch:
            response = export(ch, "logs", request)
    finally:
        server.stop(0)
    assert response.partial_success.rejected_log_records == n_records - 1
    assert response.partial_success.error_message == "one record per export"
    assert logs_rows(service_state.store) == 1


# -- ports -----------------------------------------------------------------------------------------


@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_busy_grpc_port_names_the_port_and_the_setting(busy_port):
    with pytest.raises(PortInUse) as e:
        ensure_ports_free(Settings(host="127.0.0.1", api_port=0, otlp_port=0, grpc_port=busy_port))
    assert f"port {busy_port} on 127.0.0.1 is already in use" in e.value.message
    assert "--grpc-port or CCTELEMETRY_GRPC_PORT" in e.value.message
    ensure_ports_free(Settings(host="127.0.0.1", api_port=0, otlp_port=0, grpc_port=0))  # 0: off


def test_grpc_may_not_share_the_http_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PortInUse, match=f"port {port} is set for OTLP/gRPC and for HTTP"):
        ensure_ports_free(Settings(host="127.0.0.1", api_port=port, otlp_port=0, grpc_port=port))


def test_the_grpc_server_itself_refuses_a_busy_port(busy_port, service_state):
    with pytest.raises(PortInUse, match=f"OTLP/gRPC cannot listen on 127.0.0.1:{busy_port}"):
        OtlpGrpcServer(service_state.writer, "127.0.0.1", busy_port, 1 << 20)


def test_serve_on_a_busy_grpc_port_is_one_line(busy_port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCTELEMETRY_")}
    cli = Path(sys.executable).with_name("cctelemetry")
    with tempfile.TemporaryDirectory() as data:
        out = subprocess.run(
            [
                str(cli),
                "serve",
                "--data-dir",
                data,
                "--api-port",
                "0",
                "--otlp-port",
                "0",
                "--grpc-port",
                str(busy_port),
                "--metrics-port",
                "0",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert out.returncode == 1
    lines = (out.stdout + out.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"port {busy_port}" in lines[0] and "CCTELEMETRY_GRPC_PORT" in lines[0]
