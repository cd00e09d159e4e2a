-- Prometheus counters that outlive the raw tables, budgets and their alert history (issue 13).
--
-- metric_counter_points: every point of a monotonic OTLP sum (Claude Code's session, lines-of-code,
-- commit, pull-request, active-time and edit-decision counters, any agent's), copied as it arrives, kept
-- for the retention instead of the raw 72 h, so GET /metrics can give totals since the beginning that do
-- not fall when otel_metrics_sum expires. A point exported twice (an exporter retry) has the same key and
-- collapses under FINAL. Totals (reports/sql/metric_counters.sql): delta points (temporality 1) add up; a
-- cumulative stream (temporality 2) counts from its StartTimeUnix, so its total is its largest value, per
-- series and StartTimeUnix (https://opentelemetry.io/docs/specs/otel/metrics/data-model/#sums).
CREATE TABLE IF NOT EXISTS metric_counter_points
(
    `MetricName` LowCardinality(String),
    `MetricUnit` LowCardinality(String),
    `ServiceName` LowCardinality(String),
    `Attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    -- One series: the metric's name, its service, its resource and its point attributes.
    `series` UInt64,
    `AggregationTemporality` Int32,
    `StartTimeUnix` DateTime CODEC(Delta, ZSTD(1)),
    `TimeUnix` DateTime CODEC(Delta, ZSTD(1)),
    `Value` Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(TimeUnix)
ORDER BY (MetricName, series, AggregationTemporality, StartTimeUnix, TimeUnix, Value)
TTL TimeUnix + ${RETENTION}
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS metric_counter_points_mv TO metric_counter_points
AS SELECT
    MetricName,
    MetricUnit,
    ServiceName,
    Attributes,
    ResourceAttributes,
    cityHash64(MetricName, ServiceName, ResourceAttributes, Attributes) AS series,
    AggregationTemporality,
    StartTimeUnix,
    TimeUnix,
    Value
FROM otel_metrics_sum
WHERE IsMonotonic AND AggregationTemporality IN (1, 2);

-- The raw points already stored when this migration runs (the last 72 h): copied once; a point that the
-- view copied meanwhile collapses with its copy under FINAL.
INSERT INTO metric_counter_points
SELECT
    MetricName,
    MetricUnit,
    ServiceName,
    Attributes,
    ResourceAttributes,
    cityHash64(MetricName, ServiceName, ResourceAttributes, Attributes) AS series,
    AggregationTemporality,
    StartTimeUnix,
    TimeUnix,
    Value
FROM otel_metrics_sum
WHERE IsMonotonic AND AggregationTemporality IN (1, 2);

-- Budgets set through the API (PUT /api/v1/budgets): every PUT is a new revision holding the whole set as
-- JSON; the latest revision is the current set. Budgets from CCTELEMETRY_BUDGETS_FILE are not stored.
CREATE TABLE IF NOT EXISTS budget_definitions
(
    `revision` UInt64,
    `saved_at` DateTime64(3, 'UTC') DEFAULT now64(3),
    `budgets` String CODEC(ZSTD(1))
)
ENGINE = MergeTree
ORDER BY revision;

-- Alerts: one row per budget, period, kind and threshold, which is what makes each crossing fire once
-- per period and threshold, across restarts. The webhook's delivery state is written again on the same
-- key (a newer updated_at wins): read with FINAL.
CREATE TABLE IF NOT EXISTS budget_alerts
(
    `budget` String,
    `kind` LowCardinality(String),
    `threshold` Float64,
    `period` LowCardinality(String),
    `period_start` DateTime64(3, 'UTC'),
    `period_end` DateTime64(3, 'UTC'),
    `unit` LowCardinality(String),
    `amount` Float64,
    `spent` Float64,
    `projection` Nullable(Float64),
    `filters` String,
    `fired_at` DateTime64(3, 'UTC'),
    `webhook` String,
    `delivery` LowCardinality(String),
    `attempts` UInt16,
    `last_error` String,
    `updated_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(period_start)
ORDER BY (budget, period_start, kind, threshold)
TTL toDateTime(fired_at) + ${RETENTION};
