"""OTLP/gRPC when the store is down: UNAVAILABLE with RetryInfo (the client retries), nothing acknowledged;
once the ClickHouse server is back the same export goes through. The server is tests/support/chshim.py
(ClickHouse's HTTP interface in front of the real engine), stopped and started on the same port."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from cctelemetry.api.otlp_grpc import OtlpGrpcServer
from cctelemetry.ingest import BatchWriter
from cctelemetry.store import Store
from cctelemetry.store.migrate import migrate
from otlp_grpc_client import channel, export, retry_delay_s
from stack_users import writer_url

R04_LOGS = Path(__file__).resolve().parents[1] / "data/claude-code-2.1.197/otlp/r04-protobuf/logs-001.pb"


def test_store_down_is_unavailable_with_retry_info_then_recovers(own_chshim, database):
    store = Store(writer_url(own_chshim, database), database)
    migrate(store)
    writer = BatchWriter(store, flush_ms=5)
    server = OtlpGrpcServer(writer, "127.0.0.1", 0, 1 << 24).start()
    request = ExportLogsServiceRequest.FromString(R04_LOGS.read_bytes())
    try:
        with channel(server.port) as ch:
            own_chshim.stop()
            with pytest.raises(grpc.RpcError) as e:
                export(ch, "logs", request)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "is unavailable" in e.value.details() or "not reachable" in e.value.details()
            assert retry_delay_s(e.value) == 5

            own_chshim.start()  # the same port, the same data: the client's retry goes through
            assert export(ch, "logs", request).ByteSize() == 0
        assert store.rows("SELECT count() n FROM request_copies FINAL WHERE superseded = 0") == [{"n": 1}]
    finally:
        server.stop(0)
        writer.close()
        store.close()
