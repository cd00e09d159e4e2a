"""The service's own health as Prometheus metrics, and the registry ``/metrics`` renders.

Health counters count since the process started (a restart resets them, which ``rate()`` expects of a
process's counters); the usage counters beside them come from the store (reports/metrics.py) and do not.

- ``cctelemetry_ingest_requests_total{transport, signal, status}``: OTLP export requests answered, by HTTP
  status (``200``, ``400``, ``503``, ...) or gRPC code (``OK``, ``INVALID_ARGUMENT``, ``UNAVAILABLE``, ...);
- ``cctelemetry_ingest_rows_total{signal, table, status}``: rows the writer wrote (``written``) or lost to a
  failed flush (``failed``; the clients were told, and retry);
- ``cctelemetry_write_queue_rows`` / ``cctelemetry_write_queue_capacity_rows``: rows waiting, and how many may;
- ``cctelemetry_write_duration_seconds``: one flush's inserts;
- ``cctelemetry_store_errors_total{operation, code}``: the store failing a write, a report, the metrics, a
  budget check;
- ``cctelemetry_metrics_store_up``: 1 when the last scrape read the store, 0 when it could not (then only the
  health metrics are served);
- budgets: ``cctelemetry_budget_spent`` / ``_amount`` / ``_projected`` (gauges per budget and unit),
  ``cctelemetry_budget_alerts_total{budget, kind}`` and ``cctelemetry_webhook_deliveries_total{status}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from ..errors import TelemetryError
from ..ingest.writer import BatchWriter, Flushed

log = logging.getLogger(__name__)

OTLP_PATHS = {"/v1/logs": "logs", "/v1/metrics": "metrics", "/v1/traces": "traces"}
_GRPC_SIGNALS = {"LogsService": "logs", "MetricsService": "metrics", "TraceService": "traces"}


def signal_of(table: str) -> str:
    if table.startswith("otel_metrics"):
        return "metrics"
    return {"otel_logs": "logs", "otel_traces": "traces"}.get(table, "other")


class ServiceMetrics:
    """The instruments, in a registry of the service's own (tests run many services in one process)."""

    def __init__(self, writer: BatchWriter):
        self.registry = CollectorRegistry()
        r = self.registry
        self.ingest_requests = Counter("cctelemetry_ingest_requests", "OTLP export requests answered, by transport, "
                                       "signal and status.", ["transport", "signal", "status"], registry=r)  # fmt: skip
        self.ingest_rows = Counter(
            "cctelemetry_ingest_rows",
            "Rows written to the raw tables (status written) or lost to a failed flush (failed).",
            ["signal", "table", "status"],
            registry=r,
        )
        self.write_seconds = Histogram("cctelemetry_write_duration_seconds", "Time one flush of the writer took.",
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                                       registry=r)  # fmt: skip
        self.store_errors = Counter("cctelemetry_store_errors", "Store failures, by what was being done and the "
                                    "error code.", ["operation", "code"], registry=r)  # fmt: skip
        queue = Gauge("cctelemetry_write_queue_rows", "Rows waiting for the writer.", registry=r)
        queue.set_function(lambda: writer.pending_rows)
        Gauge("cctelemetry_write_queue_capacity_rows", "Rows the queue holds before ingest answers 503.",
              registry=r).set_function(lambda: writer.max_rows)  # fmt: skip
        self.budget_spent = Gauge("cctelemetry_budget_spent", "A budget's spend in its current period.",
                                  ["budget", "unit", "period"], registry=r)  # fmt: skip
        self.budget_amount = Gauge("cctelemetry_budget_amount", "A budget's amount.", ["budget", "unit", "period"],
                                   registry=r)  # fmt: skip
        self.budget_projected = Gauge("cctelemetry_budget_projected", "A budget's spend projected to the end of its "
                                      "period.", ["budget", "unit", "period"], registry=r)  # fmt: skip
        self.budget_alerts = Counter(
            "cctelemetry_budget_alerts", "Budget alerts fired.", ["budget", "kind"], registry=r
        )
        self.webhook_deliveries = Counter("cctelemetry_webhook_deliveries", "Webhook attempts, by outcome.",
                                          ["status"], registry=r)  # fmt: skip

    def on_flush(self, flushed: Flushed) -> None:
        status = "failed" if flushed.error else "written"
        for table, rows in flushed.rows.items():
            self.ingest_rows.labels(signal_of(table), table, status).inc(rows)
        self.write_seconds.observe(flushed.seconds)
        if flushed.error:
            self.store_errors.labels("write", "store_unavailable").inc()

    def store_error(self, operation: str, exc: BaseException) -> None:
        code = exc.code if isinstance(exc, TelemetryError) else type(exc).__name__
        self.store_errors.labels(operation, code).inc()

    def ingest_answered(self, transport: str, signal: str, status: str) -> None:
        self.ingest_requests.labels(transport, signal, status).inc()


class IngestStatusMiddleware:
    """Counts every OTLP/HTTP answer by signal and status (a plain ASGI wrapper: it costs one dict lookup on
    other paths and never touches the body)."""

    def __init__(self, app, metrics: Callable[[object], ServiceMetrics | None]):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        signal = OTLP_PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if signal is None:
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_status(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            metrics = self.metrics(scope.get("app"))
            if metrics is not None:
                metrics.ingest_answered("http", signal, str(status["code"]))


class GrpcStatusInterceptor(grpc.ServerInterceptor):
    """Counts every OTLP/gRPC Export answer by signal and status code."""

    def __init__(self, metrics: ServiceMetrics):
        self.metrics = metrics

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        service = handler_call_details.method.rsplit("/", 2)[-2].rsplit(".", 1)[-1] if handler else ""
        signal = _GRPC_SIGNALS.get(service)
        if handler is None or signal is None or handler.unary_unary is None:
            return handler
        behavior = handler.unary_unary

        def counted(request, context):
            try:
                response = behavior(request, context)
            except BaseException:
                self.metrics.ingest_answered("grpc", signal, _code_name(context.code(), "UNKNOWN"))
                raise
            self.metrics.ingest_answered("grpc", signal, _code_name(context.code(), "OK"))
            return response

        return grpc.unary_unary_rpc_method_handler(counted, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)  # fmt: skip


def _code_name(code, default: str) -> str:
    if code is None:
        return default
    if isinstance(code, grpc.StatusCode):
        return code.name
    for member in grpc.StatusCode:
        if member.value[0] == code:
            return member.name
    return str(code)


class StoreCollector:
    """The usage counters from the store, read at each scrape through the report layer, and whether that worked."""

    def __init__(self, reports, metrics: ServiceMetrics):
        self.reports = reports
        self.metrics = metrics

    def collect(self):
        up = GaugeMetricFamily(
            "cctelemetry_metrics_store_up",
            "1 when this scrape read the usage counters from the "
            "store, 0 when the store could not answer (only the health metrics are served).",
        )
        try:
            families = self.reports.metric_families()
        except TelemetryError as exc:
            self.metrics.store_error("metrics", exc)
            log.warning("metrics: the store did not answer", extra={"error": exc.message})
            families = []
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield from families
        yield up
