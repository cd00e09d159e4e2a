-- The agents' activity counters (lines of code, commits, pull requests, edit decisions, active time,
-- sessions started), kept past the raw TTL so the activity report (reports/activity.py) covers the same
-- 400 days as requests and events. Token and cost counters are not copied: api_requests has them per request.
-- Points are copied as sent, delta or cumulative (temporality 1 or 2, as OTLP's AggregationTemporality);
-- the report turns cumulative series into increments.
CREATE TABLE IF NOT EXISTS agent_metrics
(
    `timestamp` DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    `start_time` DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    `agent_product` LowCardinality(String),
    `service_name` LowCardinality(String),
    `session_id` String CODEC(ZSTD(1)),
    `metric` LowCardinality(String),
    `temporality` Int32,
    `value` Float64 CODEC(ZSTD(1)),
    `attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (metric, session_id, timestamp)
TTL toDateTime(timestamp) + ${RETENTION}
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS agent_metrics_from_sums_mv TO agent_metrics
AS SELECT
    toDateTime64(TimeUnix, 3, 'UTC') AS timestamp,
    toDateTime64(StartTimeUnix, 3, 'UTC') AS start_time,
    if(startsWith(MetricName, 'gemini_cli.'), 'gemini_cli', 'claude_code') AS agent_product,
    ServiceName AS service_name,
    Attributes['session.id'] AS session_id,
    MetricName AS metric,
    AggregationTemporality AS temporality,
    Value AS value,
    Attributes AS attributes
FROM otel_metrics_sum
WHERE MetricName IN ('claude_code.lines_of_code.count', 'claude_code.commit.count', 'claude_code.pull_request.count',
                     'claude_code.code_edit_tool.decision', 'claude_code.active_time.total',
                     'claude_code.session.count', 'gemini_cli.lines.changed', 'gemini_cli.session.count');

-- What arrived before this migration and is still in the raw table (once: only while the copy is empty).
INSERT INTO agent_metrics
SELECT
    toDateTime64(TimeUnix, 3, 'UTC'), toDateTime64(StartTimeUnix, 3, 'UTC'),
    if(startsWith(MetricName, 'gemini_cli.'), 'gemini_cli', 'claude_code'), ServiceName, Attributes['session.id'],
    MetricName, AggregationTemporality, Value, Attributes
FROM otel_metrics_sum
WHERE MetricName IN ('claude_code.lines_of_code.count', 'claude_code.commit.count', 'claude_code.pull_request.count',
                     'claude_code.code_edit_tool.decision', 'claude_code.active_time.total',
                     'claude_code.session.count', 'gemini_cli.lines.changed', 'gemini_cli.session.count')
  AND (SELECT count() FROM agent_metrics) = 0;
