"""An OTLP/gRPC client for tests: the generated stubs of opentelemetry-proto over a real channel.

Also reads what a failed call carried: its google.rpc.Status (grpc-status-details-bin) and RetryInfo.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

STUBS = {
    "logs": logs_service_pb2_grpc.LogsServiceStub,
    "metrics": metrics_service_pb2_grpc.MetricsServiceStub,
    "traces": trace_service_pb2_grpc.TraceServiceStub,
}
METHODS = {
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
}
TIMEOUT_S = 30


def channel(port: int) -> grpc.Channel:
    # never through a proxy the developer's shell may set
    return grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)])


def export(ch: grpc.Channel, signal: str, request, compression=None):
    """Export one request message; the Export*ServiceResponse, or grpc.RpcError."""
    return STUBS[signal](ch).Export(request, timeout=TIMEOUT_S, compression=compression)


def export_raw(ch: grpc.Channel, signal: str, body: bytes) -> bytes:
    """Send bytes as they are (no serializer), as a client with a broken encoder would."""
    return ch.unary_unary(METHODS[signal])(body, timeout=TIMEOUT_S)


def retry_delay_s(error: grpc.RpcError) -> float | None:
    """The RetryInfo delay in the call's status details, or None when there is none."""
    status = rpc_status.from_call(error)
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None
