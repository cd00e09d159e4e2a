-- Rollups and one writer for the facts (issue: reports from rollups in milliseconds).
--
-- Every copy of a model request now arrives in api_request_inbox first: the materialized views on otel_logs
-- (telemetry) and the transcript importer write there, nothing else does. The fact writer (ingest/facts.py)
-- takes what is new there, resolves it against what is stored (a retried export or a re-logged line is the
-- same request; a fuller copy replaces a shorter one; telemetry + a transcript make one merged request) and
-- writes the result into request_copies, and the change it made (the old state out, the new one in) into the
-- hourly rollup usage_hourly. A request therefore never counts twice, not even for a moment, and the rollup
-- always sums to what request_copies says. Reports read the rollup (reports/rollup.py).

-- The resource attributes of requests (OTEL_RESOURCE_ATTRIBUTES, host, service), once per distinct map: the
-- rollup keeps their id, and the attr.<key> dimensions look the keys up here.
CREATE TABLE IF NOT EXISTS request_resources
(
    `resource_id` UInt64,
    `attributes` Map(LowCardinality(String), String) CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
ORDER BY resource_id;

-- Copies of requests waiting for the fact writer; kept as long as the raw telemetry, so a service that was
-- down can still take them in.
CREATE TABLE IF NOT EXISTS api_request_inbox
(
    `timestamp` DateTime64(3, 'UTC'),
    `agent_product` LowCardinality(String),
    `service_name` LowCardinality(String),
    `session_id` String,
    `prompt_id` String,
    `request_id` String,
    `message_id` String,
    `request_key` String,
    `user_id` String,
    `user_email` String,
    `user_account_uuid` String,
    `organization_id` String,
    `model` LowCardinality(String),
    `agent` LowCardinality(String),
    `query_source` LowCardinality(String),
    `speed` LowCardinality(String),
    `effort` LowCardinality(String),
    `skill` LowCardinality(String),
    `plugin` LowCardinality(String),
    `mcp_server` LowCardinality(String),
    `subagent` LowCardinality(String),
    `entrypoint` LowCardinality(String),
    `terminal` LowCardinality(String),
    `project` String,
    `git_branch` String,
    `input_tokens` UInt64,
    `output_tokens` UInt64,
    `reasoning_tokens` UInt64,
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
    `resource_attributes` Map(LowCardinality(String), String),
    `inserted_at` DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = MergeTree
PARTITION BY toStartOfHour(inserted_at)
ORDER BY inserted_at
TTL toDateTime(inserted_at) + ${RAW_TTL}
SETTINGS ttl_only_drop_parts = 1;

-- Every copy of every request as the fact writer resolved it: per request and source the latest copy it
-- wrote (version = when), superseded = 1 for the inputs of a merged request (their 'merged' row is live).
-- A request keeps the time it was first counted, so all its copies sit in one daily partition and FINAL may
-- work partition by partition (a year is a few hundred partitions; the writers insert with
-- max_partitions_per_insert_block = 0, since an import of a long history spans many days). Ordered by session: a session's requests are one range of the table.
-- People and tools query the `requests` view instead (reports/views.py): one row per request.
CREATE TABLE IF NOT EXISTS request_copies
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
    `effort` LowCardinality(String),
    `skill` LowCardinality(String),
    `plugin` LowCardinality(String),
    `mcp_server` LowCardinality(String),
    `subagent` LowCardinality(String),
    `entrypoint` LowCardinality(String),
    `terminal` LowCardinality(String),
    `project` String CODEC(ZSTD(1)),
    `git_branch` String CODEC(ZSTD(1)),
    `input_tokens` UInt64,
    `output_tokens` UInt64,
    `reasoning_tokens` UInt64,
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
    `version` UInt64,
    `inserted_at` DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY (agent_product, session_id, request_key, source)
TTL toDateTime(timestamp) + ${RETENTION}
SETTINGS index_granularity = 8192;

-- The hourly rollup: per UTC hour and every dimension a report groups or filters on, the sums of every
-- measure. Fed only by the fact writer, with the change each write made (-old, +new), so summed over any
-- rows it equals the same sums over the requests (the `requests` view). The flags say how a row is priced:
-- long_context (input + cache read + cache write over 200,000 tokens), reported_kind (0: no reported cost,
-- 1: reported 0 with billable usage, 2: reported 0 and nothing billable, 3: reported non-zero).
CREATE TABLE IF NOT EXISTS usage_hourly
(
    `hour` DateTime('UTC'),
    `agent_product` LowCardinality(String),
    `session_id` String CODEC(ZSTD(1)),
    `user` String CODEC(ZSTD(1)),
    `model` LowCardinality(String),
    `agent` LowCardinality(String),
    `query_source` LowCardinality(String),
    `speed` LowCardinality(String),
    `effort` LowCardinality(String),
    `skill` LowCardinality(String),
    `plugin` LowCardinality(String),
    `mcp_server` LowCardinality(String),
    `subagent` LowCardinality(String),
    `entrypoint` LowCardinality(String),
    `terminal` LowCardinality(String),
    `service_name` LowCardinality(String),
    `project` String CODEC(ZSTD(1)),
    `git_branch` String CODEC(ZSTD(1)),
    `organization_id` String CODEC(ZSTD(1)),
    `sources` LowCardinality(String),
    `resource_id` UInt64,
    `long_context` UInt8,
    `reported_kind` UInt8,
    `requests` Int64,
    `input_tokens` Int64,
    `output_tokens` Int64,
    `reasoning_tokens` Int64,
    `cache_read_tokens` Int64,
    `cache_creation_tokens` Int64,
    `cache_write_1h_known` Int64,
    `cache_write_unknown` Int64,
    `web_search_requests` Int64,
    `reported_cost` Decimal128(12),
    -- the first and last request of the row's requests: a request keeps its time once counted, so over a
    -- session these are its first and last request exactly
    `first_at` SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    `last_at` SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
PRIMARY KEY (hour, agent_product, session_id)
ORDER BY (hour, agent_product, session_id, user, model, agent, query_source, speed, effort, skill, plugin, mcp_server,
          subagent, entrypoint, terminal, service_name, project, git_branch, organization_id, sources, resource_id,
          long_context, reported_kind)
TTL hour + ${RETENTION};

-- Prices as the reports apply them, made from model_prices at every book sync (pricing/sync.py): per price and
-- per kind of usage (fast mode asked or not, long context or not), the tier that applies and its rates in USD
-- per token, Decimal and exact. A report then joins rates instead of choosing them row by row.
CREATE TABLE IF NOT EXISTS model_rates
(
    `model_id` LowCardinality(String),
    `applies_from` Date,
    `fast` UInt8,
    `long_context` UInt8,
    `price_tier` LowCardinality(String),
    `input` Decimal128(12),
    `output` Decimal128(12),
    `cache_read` Decimal128(12),
    `cache_write_5m` Decimal128(12),
    `cache_write_1h` Decimal128(12),
    `web_search` Decimal128(12),
    `input_per_mtok` Float64,
    `output_per_mtok` Float64,
    `cache_read_per_mtok` Float64,
    `cache_write_5m_per_mtok` Float64,
    `cache_write_1h_per_mtok` Float64,
    `overridden` UInt8,
    `present` UInt8 DEFAULT 1
)
ENGINE = MergeTree
ORDER BY (model_id, fast, long_context, applies_from);

CREATE TABLE IF NOT EXISTS model_rates_next AS model_rates;

-- Each model id ever stored, resolved once to its price book entry ('' when the book has none): by the fact
-- writer when a new id arrives, and for every id at each book sync.
CREATE TABLE IF NOT EXISTS model_resolutions
(
    `model` String,
    `priced_model` LowCardinality(String)
)
ENGINE = ReplacingMergeTree
ORDER BY model;

CREATE TABLE IF NOT EXISTS model_resolutions_next AS model_resolutions;

-- The fact writer's bookmarks (the inbox time it has taken in up to; whether a write was under way).
CREATE TABLE IF NOT EXISTS ingest_state
(
    `key` String,
    `value` String,
    `updated_at` DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key;

-- Claude Code's claude_code.api_request event -> one copy in the inbox (source 'otel').
-- Attribute values arrive as strings in LogAttributes (the exporter's AsString), so cast here.
DROP VIEW IF EXISTS api_requests_from_claude_code_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS inbox_from_claude_code_mv TO api_request_inbox
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
    LogAttributes['effort'] AS effort,
    LogAttributes['skill.name'] AS skill,
    LogAttributes['plugin.name'] AS plugin,
    LogAttributes['mcp_server.name'] AS mcp_server,
    LogAttributes['agent.name'] AS subagent,
    LogAttributes['app.entrypoint'] AS entrypoint,
    LogAttributes['terminal.type'] AS terminal,
    '' AS project,
    '' AS git_branch,
    toUInt64OrZero(LogAttributes['input_tokens']) AS input_tokens,
    toUInt64OrZero(LogAttributes['output_tokens']) AS output_tokens,
    toUInt64(0) AS reasoning_tokens,
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
WHERE (Body = 'claude_code.api_request' OR EventName = 'claude_code.api_request')
  -- the installer's smoke check proves the path to here and must leave nothing in anyone's reports
  AND ResourceAttributes['cctelemetry.selftest'] = '';

-- Codex CLI: the codex.sse_event of kind response.completed that carries usage (Codex logs a second one
-- without it) -> one copy in the inbox. conversation.id is the session (the thread). The telemetry's model is the
-- session's; Codex 0.169.0 sends no response model in its logs (a rollout's model_reroute line has it).
-- Token attributes come as strings or ints (Codex writes some with Display): toUInt64OrZero takes both.
CREATE MATERIALIZED VIEW IF NOT EXISTS inbox_from_codex_mv TO api_request_inbox
AS SELECT
    toDateTime64(Timestamp, 3, 'UTC') AS timestamp,
    'codex' AS agent_product,
    ServiceName AS service_name,
    LogAttributes['conversation.id'] AS session_id,
    '' AS prompt_id,
    '' AS request_id,
    '' AS message_id,
    concat('codex:', session_id, ':', hex(cityHash64(_in, _cached, _write, _out, _reasoning))) AS request_key,
    LogAttributes['user.account_id'] AS user_id,
    LogAttributes['user.email'] AS user_email,
    '' AS user_account_uuid,
    '' AS organization_id,
    LogAttributes['model'] AS model,
    'main' AS agent,
    LogAttributes['originator'] AS query_source,
    '' AS speed,
    '' AS effort,
    '' AS skill,
    '' AS plugin,
    '' AS mcp_server,
    '' AS subagent,
    '' AS entrypoint,
    '' AS terminal,
    '' AS project,
    '' AS git_branch,
    toUInt64(greatest(toInt64(_in) - toInt64(_cached) - toInt64(_write), 0)) AS input_tokens,
    _out AS output_tokens,
    _cached AS cache_read_tokens,
    _write AS cache_creation_tokens,
    toUInt64(0) AS cache_creation_5m_tokens,
    toUInt64(0) AS cache_creation_1h_tokens,
    toUInt8(0) AS cache_split_known,
    toUInt32(0) AS web_search_requests,
    CAST(NULL, 'Nullable(Float64)') AS reported_cost_usd,
    CAST(NULL, 'Nullable(Float64)') AS duration_ms,
    'otel' AS source,
    toUInt8(2) AS source_priority,
    ResourceAttributes AS resource_attributes,
    _reasoning AS reasoning_tokens
FROM
(
    SELECT
        Timestamp, ServiceName, LogAttributes, ResourceAttributes,
        toUInt64OrZero(LogAttributes['input_token_count']) AS _in,
        toUInt64OrZero(LogAttributes['cached_token_count']) AS _cached,
        toUInt64OrZero(LogAttributes['cache_write_token_count']) AS _write,
        toUInt64OrZero(LogAttributes['output_token_count']) AS _out,
        toUInt64OrZero(LogAttributes['reasoning_token_count']) AS _reasoning
    FROM otel_logs
    WHERE LogAttributes['event.name'] = 'codex.sse_event' AND LogAttributes['event.kind'] = 'response.completed'
      AND mapContains(LogAttributes, 'input_token_count')
);

-- Gemini CLI: gemini_cli.api_response -> one copy in the inbox.
CREATE MATERIALIZED VIEW IF NOT EXISTS inbox_from_gemini_cli_mv TO api_request_inbox
AS SELECT
    toDateTime64(Timestamp, 3, 'UTC') AS timestamp,
    'gemini_cli' AS agent_product,
    ServiceName AS service_name,
    if(LogAttributes['session.id'] != '', LogAttributes['session.id'], ResourceAttributes['session.id']) AS session_id,
    LogAttributes['prompt_id'] AS prompt_id,
    '' AS request_id,
    '' AS message_id,
    concat('gemini:', session_id, ':', hex(cityHash64(_prompt, _candidates, _cached, _thoughts, _tool))) AS request_key,
    LogAttributes['installation.id'] AS user_id,
    LogAttributes['user.email'] AS user_email,
    '' AS user_account_uuid,
    '' AS organization_id,
    LogAttributes['model'] AS model,
    if(LogAttributes['role'] != '', LogAttributes['role'], 'main') AS agent,
    LogAttributes['role'] AS query_source,
    '' AS speed,
    '' AS effort,
    '' AS skill,
    '' AS plugin,
    '' AS mcp_server,
    '' AS subagent,
    '' AS entrypoint,
    '' AS terminal,
    '' AS project,
    '' AS git_branch,
    toUInt64(greatest(toInt64(_prompt) - toInt64(_cached), 0) + _tool) AS input_tokens,
    _candidates + _thoughts AS output_tokens,
    _cached AS cache_read_tokens,
    toUInt64(0) AS cache_creation_tokens,
    toUInt64(0) AS cache_creation_5m_tokens,
    toUInt64(0) AS cache_creation_1h_tokens,
    toUInt8(0) AS cache_split_known,
    toUInt32(0) AS web_search_requests,
    CAST(NULL, 'Nullable(Float64)') AS reported_cost_usd,
    toFloat64OrNull(LogAttributes['duration_ms']) AS duration_ms,
    'otel' AS source,
    toUInt8(2) AS source_priority,
    ResourceAttributes AS resource_attributes,
    _thoughts AS reasoning_tokens
FROM
(
    SELECT
        Timestamp, ServiceName, LogAttributes, ResourceAttributes,
        toUInt64OrZero(LogAttributes['input_token_count']) AS _prompt,
        toUInt64OrZero(LogAttributes['output_token_count']) AS _candidates,
        toUInt64OrZero(LogAttributes['cached_content_token_count']) AS _cached,
        toUInt64OrZero(LogAttributes['thoughts_token_count']) AS _thoughts,
        toUInt64OrZero(LogAttributes['tool_token_count']) AS _tool
    FROM otel_logs
    WHERE LogAttributes['event.name'] = 'gemini_cli.api_response'
);

-- The facts stored before this migration, copied over once: each request's live row, and the inputs of a
-- merged request as superseded copies at the merged request's time. The old table is made to exist (empty,
-- if an earlier run of this file dropped it) so that running the file again copies nothing twice.
CREATE TABLE IF NOT EXISTS api_requests
(
    `timestamp` DateTime64(3, 'UTC'), `agent_product` LowCardinality(String), `service_name` LowCardinality(String),
    `session_id` String, `prompt_id` String, `request_id` String, `message_id` String, `request_key` String,
    `user_id` String, `user_email` String, `user_account_uuid` String, `organization_id` String,
    `model` LowCardinality(String), `agent` LowCardinality(String), `query_source` LowCardinality(String),
    `speed` LowCardinality(String), `project` String, `git_branch` String, `input_tokens` UInt64,
    `output_tokens` UInt64, `cache_read_tokens` UInt64, `cache_creation_tokens` UInt64,
    `cache_creation_5m_tokens` UInt64, `cache_creation_1h_tokens` UInt64, `cache_split_known` UInt8,
    `web_search_requests` UInt32, `reported_cost_usd` Nullable(Float64), `duration_ms` Nullable(Float64),
    `source` LowCardinality(String), `source_priority` UInt8, `resource_attributes` Map(LowCardinality(String), String),
    `superseded` UInt8 DEFAULT 0, `inserted_at` DateTime64(3, 'UTC') DEFAULT now64(3),
    `version` UInt64 MATERIALIZED bitShiftLeft(toUInt64(superseded), 56)
        + least(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens, 72057594037927935)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (agent_product, request_key, source);

INSERT INTO request_copies
    (timestamp, agent_product, service_name, session_id, prompt_id, request_id, message_id, request_key, user_id,
     user_email, user_account_uuid, organization_id, model, agent, query_source, speed, project, git_branch,
     input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_creation_5m_tokens,
     cache_creation_1h_tokens, cache_split_known, web_search_requests, reported_cost_usd, duration_ms, source,
     source_priority, resource_attributes, superseded, version)
SELECT
    if(merged_at IS NULL, c.timestamp, merged_at), c.agent_product, c.service_name, c.session_id, c.prompt_id,
    c.request_id, c.message_id, c.request_key, c.user_id, c.user_email, c.user_account_uuid, c.organization_id,
    c.model, c.agent, c.query_source, c.speed, c.project, c.git_branch, c.input_tokens, c.output_tokens,
    c.cache_read_tokens, c.cache_creation_tokens, c.cache_creation_5m_tokens, c.cache_creation_1h_tokens,
    c.cache_split_known, c.web_search_requests, c.reported_cost_usd, c.duration_ms, c.source, c.source_priority,
    c.resource_attributes, c.superseded, 1
FROM (SELECT * FROM api_requests FINAL) AS c
LEFT JOIN
(
    SELECT agent_product, request_key, timestamp AS merged_at
    FROM api_requests FINAL
    WHERE source = 'merged' AND superseded = 0
) AS m ON m.agent_product = c.agent_product AND m.request_key = c.request_key
SETTINGS join_use_nulls = 1, max_partitions_per_insert_block = 0;

DROP TABLE IF EXISTS api_requests;
