"""OTLP/gRPC receiver: the standard LogsService, MetricsService and TraceService (``Export``) on grpc_port.

The same decoding and rows as OTLP/HTTP (``ingest.decode_request``, ``ingest.outcome.map_request``) and
the same BatchWriter of the running service. Answers follow https://opentelemetry.io/docs/specs/otlp/#otlpgrpc:

- OK with the Export*ServiceResponse once the rows are written; ``partial_success`` says what was
  rejected, if anything (https://opentelemetry.io/docs/specs/otlp/#partial-success).
- INVALID_ARGUMENT for a request that is not an export request (not retryable).
- RESOURCE_EXHAUSTED with ``google.rpc.RetryInfo`` when the write queue is full, UNAVAILABLE with
  RetryInfo when the store cannot take the write: clients retry after ``retry_delay``
  (https://opentelemetry.io/docs/specs/otlp/#failures). grpcio itself answers RESOURCE_EXHAUSTED without
  RetryInfo (not retryable) for a message over ``max_body_bytes``, compressed or not.

Requests arrive as bytes and are parsed here, not by grpcio: grpcio answers a request it cannot
deserialize with INTERNAL ("Exception deserializing request!"), a server fault, where OTLP asks for
INVALID_ARGUMENT. The service names come from the official protos in opentelemetry-proto.
"""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from ..errors import BadRequest, PayloadTooLarge, StoreUnavailable, TelemetryError, UnsupportedMediaType, WriteQueueFull
from ..ingest import BatchWriter, IngestPolicy, submit_message
from ..ingest.decode import decode_request
from ..ingest.outcome import map_request, response_for
from ..security import Access, Tokens
from .ports import PortInUse

log = logging.getLogger(__name__)

SERVICES = {
    "logs": logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"],
    "metrics": metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"],
    "traces": trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"],
}
RETRY_DELAY_S = 5  # as OTLP/HTTP's Retry-After
WRITE_TIMEOUT_S = 30  # as OTLP/HTTP; a shorter client deadline wins
WORKERS = 16  # exports in flight; each waits for its flush (write_flush_ms) with the GIL released


class OtlpGrpcServicer:
    """One ``Export`` for each signal: bytes in, rows to the writer, the response (or a status) out."""

    def __init__(self, writer: BatchWriter, map_rows=map_request, policy: IngestPolicy | None = None):
        self.writer = writer
        self.map_rows = map_rows  # the seam for per-row rejects (partial success)
        self.policy = policy  # given: requests go through ingest.submit_message (logs flattened by ClickHouse)

    def export(self, signal: str, body: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            message = decode_request(signal, body, "application/x-protobuf")
            remaining = context.time_remaining()
            timeout = WRITE_TIMEOUT_S if remaining is None else max(min(remaining, WRITE_TIMEOUT_S), 0.001)
            if self.policy is not None:
                mapped = submit_message(self.writer, signal, message, body, self.policy).result(timeout=timeout)
            else:
                mapped = self.map_rows(signal, message)
                self.writer.submit(mapped.batch).result(timeout=timeout)
        except (BadRequest, UnsupportedMediaType) as exc:
            _abort(context, signal, code_pb2.INVALID_ARGUMENT, exc.message)
        except PayloadTooLarge as exc:
            _abort(context, signal, code_pb2.RESOURCE_EXHAUSTED, exc.message)
        except WriteQueueFull as exc:
            _abort(context, signal, code_pb2.RESOURCE_EXHAUSTED, exc.message, retry=True)
        except StoreUnavailable as exc:
            _abort(context, signal, code_pb2.UNAVAILABLE, exc.message, retry=True)
        except futures.TimeoutError:
            _abort(context, signal, code_pb2.UNAVAILABLE, "the store did not take the write in time", retry=True)
        except TelemetryError as exc:
            _abort(context, signal, code_pb2.INTERNAL, exc.message)
        return response_for(signal, mapped).SerializeToString()

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        return [
            grpc.method_handlers_generic_handler(
                service.full_name,
                {"Export": grpc.unary_unary_rpc_method_handler(self._bind(signal))},  # bytes in, bytes out
            )
            for signal, service in SERVICES.items()
        ]

    def _bind(self, signal: str):
        return lambda body, context: self.export(signal, body, context)


def _abort(context: grpc.ServicerContext, signal: str, code: int, message: str, retry: bool = False) -> None:
    """End the call with a google.rpc.Status (grpc-status-details-bin), RetryInfo in it when retryable."""
    status = status_pb2.Status(code=code, message=message)
    if retry:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=RETRY_DELAY_S)))
        status.details.append(detail)
    log.warning("otlp grpc export refused", extra={"signal": signal, "code": code_pb2.Code.Name(code),
                                                    "error": message})  # fmt: skip
    context.abort_with_status(rpc_status.to_status(status))


class TokenInterceptor(grpc.ServerInterceptor):
    """Exports need a full token (security.py), in the ``authorization`` metadata as ``Bearer <token>`` or in
    the configured header: what OTLP/gRPC exporters send from ``OTEL_EXPORTER_OTLP_HEADERS``. Without one,
    UNAUTHENTICATED; with a read-only one, PERMISSION_DENIED (neither is retried)."""

    def __init__(self, tokens: Tokens):
        self.tokens = tokens

    def intercept_service(self, continuation, handler_call_details):
        metadata = {k.lower(): v for k, v in (handler_call_details.invocation_metadata or ())
                    if isinstance(v, str)}  # fmt: skip
        access = self.tokens.access(self.tokens.token_from(metadata))
        if access == Access.WRITE:
            return continuation(handler_call_details)
        if access == Access.NONE:
            code, message = grpc.StatusCode.UNAUTHENTICATED, "a token is required: authorization: Bearer <token>"
        else:
            code, message = grpc.StatusCode.PERMISSION_DENIED, "this token is read-only: it cannot send telemetry"

        def refuse(request, context):
            context.abort(code, message)

        return grpc.unary_unary_rpc_method_handler(refuse)


class OtlpGrpcServer:
    """The gRPC server, in the service's process, on its own threads."""

    def __init__(self, writer: BatchWriter, host: str, port: int, max_message_bytes: int, map_rows=map_request,
                 interceptors=(), tokens: Tokens | None = None, policy: IngestPolicy | None = None):  # fmt: skip
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cctelemetry-grpc"),
            handlers=OtlpGrpcServicer(writer, map_rows, policy).handlers(),
            interceptors=[
                *([TokenInterceptor(tokens)] if tokens is not None and tokens.enabled else []),
                *interceptors,
            ],
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),  # also checked after gunzip
                ("grpc.so_reuseport", 0),  # a second server on the same port is an error, not a sharer
            ],
        )
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            self.port = self.server.add_insecure_port(address)
        except RuntimeError as exc:  # the port was taken after ports.ensure_ports_free looked
            raise PortInUse(f"OTLP/gRPC cannot listen on {address}: {exc}") from exc
        self.host = host

    def start(self) -> OtlpGrpcServer:
        self.server.start()
        log.info("otlp grpc listening", extra={"address": f"{self.host}:{self.port}"})
        return self

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop taking calls; let those in flight finish (up to ``grace_s``) before the writer closes."""
        self.server.stop(grace_s).wait(grace_s + 1)
