-- The fact table: one row per model request and source (an OTel event, a transcript line), from any agent.
-- Copies from one source (a retried export, a re-logged transcript line) collapse: the key is
-- (agent_product, request_key, source), the version keeps the copy with the most tokens. A request that
-- two sources delivered gets a third row, source 'merged' (ingest/merge.py), and its two inputs are
-- re-inserted with superseded = 1, which outranks them. Reports read `FINAL ... WHERE superseded = 0`
-- (reports/sql/requests.sql): one row per request, with no GROUP BY over all requests.
CREATE TABLE IF NOT EXISTS api_requests
(
    `timestamp` DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    `agent_product` LowCardinality(String),
    `service_name` LowCardinality(String),
    `session_id` String CODEC(ZSTD(1)),
    `prompt_id` String CODEC(ZSTD(1)),
    `request_id` String CODEC(ZSTD(1)),
    `message_id` String CODEC(ZSTD(1)),
    `request_key` String CODEC(ZSTD(1)),
    `user_id` String CODEC(ZSTD(1)),
    `user_email` String CODEC(ZSTD(1)),
    `user_account_uuid` String CODEC(ZSTD(1)),
    `organization_id` String CODEC(ZSTD(1)),
    `model` LowCardinality(String),
    `agent` LowCardinality(String),
    `query_source` LowCardinality(String),
    `speed` LowCardinality(String),
    `project` String CODEC(ZSTD(1)),
    `git_branch` String CODEC(ZSTD(1)),
    `input_tokens` UInt64,
    `output_tokens` UInt64,
    `cache_read_tokens` UInt64,
    `cache_creation_tokens` UInt64,
    `cache_creation_5m_tokens` UInt64,
    `cache_creation_1h_tokens` UInt64,
    `cache_split_known` UInt8,
    `web_search_requests` UInt32,
    `reported_cost_usd` Nullable(Float64),
    `duration_ms` Nullable(Float64),
    `source` LowCardinality(String),
    `source_priority` UInt8,
    `resource_attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    `superseded` UInt8 DEFAULT 0,
    `inserted_at` DateTime64(3, 'UTC') DEFAULT now64(3),
    `total_tokens` UInt64 MATERIALIZED input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens,
    -- A superseded copy outranks the live one; else the copy with the most tokens wins (a transcript's
    -- streamed partial copy has fewer), as ccusage keeps the largest.
    `version` UInt64 MATERIALIZED bitShiftLeft(toUInt64(superseded), 56)
        + least(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens, 72057594037927935),
    INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (agent_product, request_key, source)
TTL toDateTime(timestamp) + ${RETENTION}
SETTINGS index_granularity = 8192;

-- Claude Code's claude_code.api_request event -> one fact row (source 'otel').
-- Attribute values arrive as strings in LogAttributes (the exporter's AsString), so cast here.
CREATE MATERIALIZED VIEW IF NOT EXISTS api_requests_from_claude_code_mv TO api_requests
AS SELECT
    toDateTime64(Timestamp, 3, 'UTC') AS timestamp,
    'claude_code' AS agent_product,
    ServiceName AS service_name,
    LogAttributes['session.id'] AS session_id,
    LogAttributes['prompt.id'] AS prompt_id,
    LogAttributes['request_id'] AS request_id,
    '' AS message_id,
    if(LogAttributes['request_id'] != '', LogAttributes['request_id'],
       concat('otel:', hex(cityHash64(Timestamp, LogAttributes['session.id'], LogAttributes['event.sequence'], LogAttributes['model'])))) AS request_key,
    LogAttributes['user.id'] AS user_id,
    LogAttributes['user.email'] AS user_email,
    LogAttributes['user.account_uuid'] AS user_account_uuid,
    LogAttributes['organization.id'] AS organization_id,
    LogAttributes['model'] AS model,
    multiIf(LogAttributes['agent.name'] != '', LogAttributes['agent.name'],
            LogAttributes['query_source'] != '', LogAttributes['query_source'], 'main') AS agent,
    LogAttributes['query_source'] AS query_source,
    LogAttributes['speed'] AS speed,
    '' AS project,
    '' AS git_branch,
    toUInt64OrZero(LogAttributes['input_tokens']) AS input_tokens,
    toUInt64OrZero(LogAttributes['output_tokens']) AS output_tokens,
    toUInt64OrZero(LogAttributes['cache_read_tokens']) AS cache_read_tokens,
    toUInt64OrZero(LogAttributes['cache_creation_tokens']) AS cache_creation_tokens,
    toUInt64(0) AS cache_creation_5m_tokens,
    toUInt64(0) AS cache_creation_1h_tokens,
    toUInt8(0) AS cache_split_known,
    toUInt32(0) AS web_search_requests,
    toFloat64OrNull(LogAttributes['cost_usd']) AS reported_cost_usd,
    toFloat64OrNull(LogAttributes['duration_ms']) AS duration_ms,
    'otel' AS source,
    toUInt8(2) AS source_priority,
    ResourceAttributes AS resource_attributes
FROM otel_logs
WHERE Body = 'claude_code.api_request' OR EventName = 'claude_code.api_request';
