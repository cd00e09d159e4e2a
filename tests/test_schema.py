"""The raw tables are, column for column, what otelcol-contrib v0.159's ClickHouse exporter writes (its
templates: https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/v0.159.0/exporter/clickhouseexporter/internal/sqltemplates),
so the collector can run with create_schema: false."""

import pytest

COMMON_METRIC = [
    ("ResourceAttributes", "Map(LowCardinality(String), String)"), ("ResourceSchemaUrl", "String"),
    ("ScopeName", "String"), ("ScopeVersion", "String"), ("ScopeAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeDroppedAttrCount", "UInt32"), ("ScopeSchemaUrl", "String"), ("ServiceName", "LowCardinality(String)"),
    ("MetricName", "LowCardinality(String)"), ("MetricDescription", "String"), ("MetricUnit", "String"),
    ("Attributes", "Map(LowCardinality(String), String)"), ("StartTimeUnix", "DateTime"), ("TimeUnix", "DateTime"),
]  # fmt: skip
EXEMPLARS = [
    ("Exemplars.FilteredAttributes", "Array(Map(LowCardinality(String), String))"),
    ("Exemplars.TimeUnix", "Array(DateTime)"), ("Exemplars.Value", "Array(Float64)"),
    ("Exemplars.SpanId", "Array(String)"), ("Exemplars.TraceId", "Array(String)"),
]  # fmt: skip

EXPORTER_COLUMNS = {
    "otel_logs": [
        ("Timestamp", "DateTime64(9)"), ("TraceId", "String"), ("SpanId", "String"), ("TraceFlags", "UInt8"),
        ("SeverityText", "LowCardinality(String)"), ("SeverityNumber", "UInt8"),
        ("ServiceName", "LowCardinality(String)"), ("Body", "String"),
        ("ResourceSchemaUrl", "LowCardinality(String)"),
        ("ResourceAttributes", "Map(LowCardinality(String), String)"),
        ("ScopeSchemaUrl", "LowCardinality(String)"), ("ScopeName", "String"),
        ("ScopeVersion", "LowCardinality(String)"), ("ScopeAttributes", "Map(LowCardinality(String), String)"),
        ("LogAttributes", "Map(LowCardinality(String), String)"), ("EventName", "String"),
    ] + [(f"__otel_materialized_{k}", "LowCardinality(String)") for k in (
        "k8s.cluster.name", "k8s.container.name", "k8s.deployment.name", "k8s.namespace.name", "k8s.node.name",
        "k8s.pod.name", "k8s.pod.uid", "deployment.environment.name")],
    "otel_traces": [
        ("Timestamp", "DateTime64(9)"), ("TraceId", "String"), ("SpanId", "String"), ("ParentSpanId", "String"),
        ("TraceState", "String"), ("SpanName", "LowCardinality(String)"), ("SpanKind", "LowCardinality(String)"),
        ("ServiceName", "LowCardinality(String)"), ("ResourceAttributes", "Map(LowCardinality(String), String)"),
        ("ScopeName", "String"), ("ScopeVersion", "String"),
        ("SpanAttributes", "Map(LowCardinality(String), String)"), ("Duration", "UInt64"),
        ("StatusCode", "LowCardinality(String)"), ("StatusMessage", "String"),
        ("Events.Timestamp", "Array(DateTime64(9))"), ("Events.Name", "Array(LowCardinality(String))"),
        ("Events.Attributes", "Array(Map(LowCardinality(String), String))"),
        ("Links.TraceId", "Array(String)"), ("Links.SpanId", "Array(String)"), ("Links.TraceState", "Array(String)"),
        ("Links.Attributes", "Array(Map(LowCardinality(String), String))"),
    ],
    "otel_traces_trace_id_ts": [("TraceId", "String"), ("Start", "DateTime"), ("End", "DateTime")],
    "otel_metrics_gauge": COMMON_METRIC + [("Value", "Float64"), ("Flags", "UInt32")] + EXEMPLARS,
    "otel_metrics_sum": COMMON_METRIC + [("Value", "Float64"), ("Flags", "UInt32")] + EXEMPLARS
    + [("AggregationTemporality", "Int32"), ("IsMonotonic", "Bool")],
    "otel_metrics_histogram": COMMON_METRIC + [
        ("Count", "UInt64"), ("Sum", "Float64"), ("BucketCounts", "Array(UInt64)"),
        ("ExplicitBounds", "Array(Float64)")] + EXEMPLARS
    + [("Flags", "UInt32"), ("Min", "Float64"), ("Max", "Float64"), ("AggregationTemporality", "Int32")],
    "otel_metrics_exponential_histogram": COMMON_METRIC + [
        ("Count", "UInt64"), ("Sum", "Float64"), ("Scale", "Int32"), ("ZeroCount", "UInt64"),
        ("PositiveOffset", "Int32"), ("PositiveBucketCounts", "Array(UInt64)"), ("NegativeOffset", "Int32"),
        ("NegativeBucketCounts", "Array(UInt64)")] + EXEMPLARS
    + [("Flags", "UInt32"), ("Min", "Float64"), ("Max", "Float64"), ("AggregationTemporality", "Int32")],
    "otel_metrics_summary": COMMON_METRIC + [
        ("Count", "UInt64"), ("Sum", "Float64"), ("ValueAtQuantiles.Quantile", "Array(Float64)"),
        ("ValueAtQuantiles.Value", "Array(Float64)"), ("Flags", "UInt32")],
}  # fmt: skip


@pytest.mark.parametrize("table", sorted(EXPORTER_COLUMNS))
def test_raw_table_matches_the_exporter(store, table):
    got = store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
        "ORDER BY position",
        {"t": table},
    ).result_rows
    assert [tuple(r) for r in got] == EXPORTER_COLUMNS[table]


def test_insert_columns_are_the_exporters(store):
    from cctelemetry.ingest.mapping import TABLE_COLUMNS

    for table, columns in TABLE_COLUMNS.items():
        expected = [name for name, _ in EXPORTER_COLUMNS[table] if not name.startswith("__otel_materialized")]
        assert columns == expected, table


def test_raw_ttl_renders_like_the_exporter(store):
    ddl = store.scalar("SELECT create_table_query FROM system.tables WHERE database = currentDatabase() "
                       "AND name = 'otel_logs'")  # fmt: skip
    assert "TTL toDateTime(Timestamp) + toIntervalDay(3)" in ddl
    ddl = store.scalar("SELECT create_table_query FROM system.tables WHERE database = currentDatabase() "
                       "AND name = 'request_copies'")  # fmt: skip
    assert "toIntervalDay(400)" in ddl
