"""OTLP export requests -> rows for the raw otel_* tables, exactly as the collector's ClickHouse exporter
writes them (exporter/clickhouseexporter: logs, traces and internal/metrics/*). One mapping, shared by
every transport (HTTP now, gRPC later).

Each function returns a ``Batch``: table name -> rows in that table's ``COLUMNS`` order.
"""

from __future__ import annotations

from collections import defaultdict

from .attributes import as_string, attributes_map

Batch = dict[str, list[list]]

LOG_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
    "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "LogAttributes", "EventName",
]  # fmt: skip

TRACE_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
    "Events.Timestamp", "Events.Name", "Events.Attributes",
    "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
]  # fmt: skip

_METRIC_COMMON = [
    "ResourceAttributes", "ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "ScopeDroppedAttrCount", "ScopeSchemaUrl", "ServiceName", "MetricName", "MetricDescription", "MetricUnit",
    "Attributes", "StartTimeUnix", "TimeUnix",
]  # fmt: skip
_EXEMPLARS = [
    "Exemplars.FilteredAttributes", "Exemplars.TimeUnix", "Exemplars.Value", "Exemplars.SpanId", "Exemplars.TraceId",
]  # fmt: skip

METRIC_COLUMNS = {
    "otel_metrics_gauge": _METRIC_COMMON + ["Value", "Flags"] + _EXEMPLARS,
    "otel_metrics_sum": _METRIC_COMMON + ["Value", "Flags"] + _EXEMPLARS + ["AggregationTemporality", "IsMonotonic"],
    "otel_metrics_histogram": _METRIC_COMMON
    + ["Count", "Sum", "BucketCounts", "ExplicitBounds"]
    + _EXEMPLARS
    + ["Flags", "Min", "Max", "AggregationTemporality"],
    "otel_metrics_exponential_histogram": _METRIC_COMMON
    + [
        "Count",
        "Sum",
        "Scale",
        "ZeroCount",
        "PositiveOffset",
        "PositiveBucketCounts",
        "NegativeOffset",
        "NegativeBucketCounts",
    ]
    + _EXEMPLARS
    + ["Flags", "Min", "Max", "AggregationTemporality"],
    "otel_metrics_summary": _METRIC_COMMON
    + ["Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value", "Flags"],
}

TABLE_COLUMNS = {"otel_logs": LOG_COLUMNS, "otel_traces": TRACE_COLUMNS, **METRIC_COLUMNS}

_SPAN_KINDS = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"]  # ptrace.SpanKind.String()
_STATUS_CODES = ["Unset", "Ok", "Error"]  # ptrace.StatusCode.String()


def hex_id(raw: bytes) -> str:
    """traceutil.TraceIDToHexOrEmptyString: empty for an absent or all-zero id."""
    return raw.hex() if raw and any(raw) else ""


def service_name(resource) -> str:
    for kv in resource.attributes:
        if kv.key == "service.name":
            return as_string(kv.value)
    return ""


# -- logs ------------------------------------------------------------------------------------------


def logs_to_rows(request) -> Batch:
    rows = []
    for resource_logs in request.resource_logs:
        resource = resource_logs.resource
        res_attrs, service = attributes_map(resource.attributes), service_name(resource)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_attrs = attributes_map(scope.attributes)
            for record in scope_logs.log_records:
                rows.append([
                    record.time_unix_nano or record.observed_time_unix_nano,
                    hex_id(record.trace_id), hex_id(record.span_id), record.flags & 0xFF,
                    record.severity_text, record.severity_number & 0xFF, service, as_string(record.body),
                    resource_logs.schema_url, res_attrs, scope_logs.schema_url, scope.name, scope.version,
                    scope_attrs, attributes_map(record.attributes), record.event_name,
                ])  # fmt: skip
    return {"otel_logs": rows} if rows else {}


# -- traces ----------------------------------------------------------------------------------------


def traces_to_rows(request) -> Batch:
    rows = []
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource
        res_attrs, service = attributes_map(resource.attributes), service_name(resource)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                rows.append([
                    span.start_time_unix_nano, hex_id(span.trace_id), hex_id(span.span_id),
                    hex_id(span.parent_span_id), span.trace_state, span.name, _enum_name(_SPAN_KINDS, span.kind),
                    service, res_attrs, scope.name, scope.version, attributes_map(span.attributes),
                    max(span.end_time_unix_nano - span.start_time_unix_nano, 0),
                    _enum_name(_STATUS_CODES, span.status.code), span.status.message,
                    [e.time_unix_nano for e in span.events], [e.name for e in span.events],
                    [attributes_map(e.attributes) for e in span.events],
                    [hex_id(link.trace_id) for link in span.links], [hex_id(link.span_id) for link in span.links],
                    [link.trace_state for link in span.links], [attributes_map(link.attributes) for link in span.links],
                ])  # fmt: skip
    return {"otel_traces": rows} if rows else {}


def _enum_name(names: list[str], value: int) -> str:
    return names[value] if 0 <= value < len(names) else str(value)


# -- metrics ---------------------------------------------------------------------------------------


def metrics_to_rows(request) -> Batch:
    batch: Batch = defaultdict(list)
    for resource_metrics in request.resource_metrics:
        resource = resource_metrics.resource
        res_attrs, service = attributes_map(resource.attributes), service_name(resource)
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            head = [res_attrs, resource_metrics.schema_url, scope.name, scope.version,
                    attributes_map(scope.attributes), scope.dropped_attributes_count, scope_metrics.schema_url,
                    service]  # fmt: skip
            for metric in scope_metrics.metrics:
                _metric_rows(batch, head + [metric.name, metric.description, metric.unit], metric)
    return dict(batch)


def _metric_rows(batch: Batch, head: list, metric) -> None:
    kind = metric.WhichOneof("data")
    if kind == "gauge":
        for p in metric.gauge.data_points:
            batch["otel_metrics_gauge"].append(_point_head(head, p) + [_number(p), p.flags] + _exemplars(p))
    elif kind == "sum":
        s = metric.sum
        for p in s.data_points:
            batch["otel_metrics_sum"].append(
                _point_head(head, p) + [_number(p), p.flags] + _exemplars(p)
                + [s.aggregation_temporality, s.is_monotonic]
            )  # fmt: skip
    elif kind == "histogram":
        h = metric.histogram
        for p in h.data_points:
            batch["otel_metrics_histogram"].append(
                _point_head(head, p) + [p.count, p.sum, list(p.bucket_counts), list(p.explicit_bounds)]
                + _exemplars(p) + [p.flags, p.min, p.max, h.aggregation_temporality]
            )  # fmt: skip
    elif kind == "exponential_histogram":
        h = metric.exponential_histogram
        for p in h.data_points:
            batch["otel_metrics_exponential_histogram"].append(
                _point_head(head, p) + [p.count, p.sum, p.scale, p.zero_count,
                                        p.positive.offset, list(p.positive.bucket_counts),
                                        p.negative.offset, list(p.negative.bucket_counts)]
                + _exemplars(p) + [p.flags, p.min, p.max, h.aggregation_temporality]
            )  # fmt: skip
    elif kind == "summary":
        for p in metric.summary.data_points:
            batch["otel_metrics_summary"].append(
                _point_head(head, p) + [p.count, p.sum, [q.quantile for q in p.quantile_values],
                                        [q.value for q in p.quantile_values], p.flags]
            )  # fmt: skip


def _point_head(head: list, point) -> list:
    # The current metrics layout stores StartTimeUnix/TimeUnix as DateTime (seconds).
    return head + [attributes_map(point.attributes), point.start_time_unix_nano // 10**9, point.time_unix_nano // 10**9]


def _number(point) -> float:
    """getValue: int points become float64, an empty value 0.0."""
    kind = point.WhichOneof("value")
    if kind == "as_int":
        return float(point.as_int)
    return point.as_double if kind == "as_double" else 0.0


def _exemplars(point) -> list:
    ex = point.exemplars
    return [
        [attributes_map(e.filtered_attributes) for e in ex],
        [e.time_unix_nano // 10**9 for e in ex],
        [_number(e) for e in ex],
        [hex_id(e.span_id) for e in ex],
        [hex_id(e.trace_id) for e in ex],
    ]


TO_ROWS = {"logs": logs_to_rows, "metrics": metrics_to_rows, "traces": traces_to_rows}
