-- The daily rollup (issue: reports from rollups in milliseconds): usage_hourly summed by UTC day, for reports
-- over whole days (a month by model, every session's totals). The same columns as usage_hourly, with `day`
-- (the start of the UTC day) in place of `hour`: a day holds ~5x fewer rows than its hours, since a session
-- is active for a few hours of a day.
--
-- Fed by a materialized view on usage_hourly, so every row the fact writer writes there (the -old/+new change
-- of each request) reaches this table too, summed the same way: the daily rows sum to the hourly rows, and so
-- to the requests. A view on the facts themselves would double-count (a retried copy, a merge); a view on the
-- rollup's changes cannot.
CREATE TABLE IF NOT EXISTS usage_daily
(
    `day` DateTime('UTC'),
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
    `first_at` SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    `last_at` SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
PRIMARY KEY (day, agent_product, session_id)
ORDER BY (day, agent_product, session_id, user, model, agent, query_source, speed, effort, skill, plugin, mcp_server,
          subagent, entrypoint, terminal, service_name, project, git_branch, organization_id, sources, resource_id,
          long_context, reported_kind)
-- a day's rows go when its last hour's would (usage_hourly: hour + the retention)
TTL day + toIntervalDay(1) + ${RETENTION};

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_mv TO usage_daily
AS SELECT
    toStartOfDay(hour) AS day,
    agent_product, session_id, user, model, agent, query_source, speed, effort, skill, plugin, mcp_server, subagent,
    entrypoint, terminal, service_name, project, git_branch, organization_id, sources, resource_id, long_context,
    reported_kind,
    sum(requests) AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    sum(cache_write_1h_known) AS cache_write_1h_known,
    sum(cache_write_unknown) AS cache_write_unknown,
    sum(web_search_requests) AS web_search_requests,
    sum(reported_cost) AS reported_cost,
    min(first_at) AS first_at,
    max(last_at) AS last_at
FROM usage_hourly
GROUP BY day, agent_product, session_id, user, model, agent, query_source, speed, effort, skill, plugin, mcp_server,
         subagent, entrypoint, terminal, service_name, project, git_branch, organization_id, sources, resource_id,
         long_context, reported_kind;

-- The rollups already built are made again at the next start (ingest/facts.py `recover`): the hourly rows go
-- through the view above on their way in, so the days hold every request stored before this migration.
INSERT INTO ingest_state (key, value) VALUES ('rollup_built', '');
