-- The official rate limits, as Claude Code shows them to a statusline command: its input's `rate_limits`
-- (Claude Code 2.1.80+, Claude.ai subscribers; https://code.claude.com/docs/en/statusline). No OpenTelemetry
-- signal carries them, so this table is their only history. One row per window (five_hour, seven_day, ...)
-- per observation, written by POST /api/v1/statusline: a change at once, the same figure again at most
-- once a minute (CCTELEMETRY_LIMITS_SNAPSHOT_SECONDS). The reports relate them to the requests' cost
-- (reports/limits.py): the session ties a snapshot to a person, and the session's own running cost and
-- tokens, the model and fast mode say what was being spent when the figure was read.
CREATE TABLE IF NOT EXISTS rate_limit_snapshots
(
    `observed_at` DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    `window` LowCardinality(String),
    `used_percentage` Float64,
    `resets_at` Nullable(DateTime('UTC')),
    `session_id` String CODEC(ZSTD(1)),
    `model` LowCardinality(String),
    `model_display_name` LowCardinality(String),
    `agent_version` LowCardinality(String),
    `session_cost_usd` Nullable(Float64),
    `session_input_tokens` Nullable(UInt64),
    `session_output_tokens` Nullable(UInt64),
    `fast_mode` UInt8,
    `project_dir` String CODEC(ZSTD(1)),
    `source` LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(observed_at)
ORDER BY (window, observed_at)
TTL toDateTime(observed_at) + ${RETENTION}
SETTINGS index_granularity = 8192;
