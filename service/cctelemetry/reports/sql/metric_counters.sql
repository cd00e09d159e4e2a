-- The agents' own counters (monotonic OTLP sums), totalled since the beginning, per label set.
-- Reads metric_counter_points (migration 0013): the points of otel_metrics_sum kept for the retention, a
-- point exported twice collapsing under FINAL. Per series (name, service, resource and point attributes):
--   delta points (AggregationTemporality = 1) add up;
--   a cumulative stream (2) counts from its StartTimeUnix, so it contributes its largest value, once per
--   StartTimeUnix (a restarted process starts a new stream at a new StartTimeUnix).
-- https://opentelemetry.io/docs/specs/otel/metrics/data-model/#sums
--
-- Parameters:
--   {metrics:Array(String)}          the metric names to total
--   {point_labels:Array(String)}     point attributes returned as point_values (in this order)
--   {resource_labels:Array(String)}  resource attributes returned as resource_values (in this order)
-- Columns: metric, user (user.email, else user.id, as the reports' user), point_values, resource_values,
-- value, first_seen (the label set's first point: the order of the cardinality bound).
SELECT
    MetricName AS metric,
    if(Attributes['user.email'] != '', Attributes['user.email'], Attributes['user.id']) AS user,
    arrayMap(k -> Attributes[k], {point_labels:Array(String)}) AS point_values,
    arrayMap(k -> ResourceAttributes[k], {resource_labels:Array(String)}) AS resource_values,
    sum(stream_total) AS value,
    min(stream_first) AS first_seen
FROM
(
    SELECT
        MetricName,
        any(Attributes) AS Attributes,
        any(ResourceAttributes) AS ResourceAttributes,
        if(AggregationTemporality = 2, max(Value), sum(Value)) AS stream_total,
        min(TimeUnix) AS stream_first
    FROM metric_counter_points FINAL
    WHERE MetricName IN {metrics:Array(String)}
    GROUP BY MetricName, series, AggregationTemporality,
             if(AggregationTemporality = 2, StartTimeUnix, toDateTime(0)) AS stream_start
)
GROUP BY metric, user, point_values, resource_values
ORDER BY metric, first_seen
