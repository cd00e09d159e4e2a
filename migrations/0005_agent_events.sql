-- Every other agent event (prompts, tool decisions and results, errors, subagents), kept past the raw TTL
-- so a session's detail outlives otel_logs.
CREATE TABLE IF NOT EXISTS agent_events
(
    `timestamp` DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    `agent_product` LowCardinality(String),
    `service_name` LowCardinality(String),
    `session_id` String CODEC(ZSTD(1)),
    `prompt_id` String CODEC(ZSTD(1)),
    `event_name` LowCardinality(String),
    `sequence` Int64,
    `attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (agent_product, session_id, timestamp)
TTL toDateTime(timestamp) + ${RETENTION}
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS agent_events_from_claude_code_mv TO agent_events
AS SELECT
    toDateTime64(Timestamp, 3, 'UTC') AS timestamp,
    'claude_code' AS agent_product,
    ServiceName AS service_name,
    LogAttributes['session.id'] AS session_id,
    LogAttributes['prompt.id'] AS prompt_id,
    if(LogAttributes['event.name'] != '', LogAttributes['event.name'], replaceOne(Body, 'claude_code.', '')) AS event_name,
    toInt64OrZero(LogAttributes['event.sequence']) AS sequence,
    LogAttributes AS attributes
FROM otel_logs
WHERE startsWith(Body, 'claude_code.') AND Body NOT IN ('claude_code.api_request', 'claude_code.assistant_response');
