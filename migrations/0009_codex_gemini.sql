-- Codex CLI and Gemini CLI: their OpenTelemetry -> api_requests / agent_events, and a reasoning measure.
--
-- Token columns stay disjoint for every agent, so that input + output + cache read + cache write is the
-- agent's own total on every request:
--   Codex (OpenAI Responses usage): input_tokens counts cached and cache-write tokens too, and output
--     includes reasoning, so input = input - cached - cache write, cache read = cached, cache write =
--     cache write, output = output (https://platform.openai.com/docs/api-reference/responses/object).
--   Gemini: promptTokenCount includes cachedContentTokenCount, and thoughts are billed as output, so input =
--     prompt - cached + tool-use prompt, cache read = cached, output = candidates + thoughts
--     (https://ai.google.dev/api/generate-content#UsageMetadata).
-- reasoning_tokens (Codex reasoning, Gemini thoughts) is the part of output_tokens spent thinking: shown
-- on its own, never added to output.
--
-- Neither agent's telemetry carries a response id, and neither session file carries anything else the
-- telemetry has, so a request that telemetry and a rollout/chat file both deliver meets on a content key:
-- the agent, the session and the request's usage numbers (ingest/transcripts/sql/*_candidates.sql computes
-- the same key). Two requests of one session with exactly the same five numbers would count once.

-- After resource_attributes: merge_sources.sql re-inserts rows as `SELECT * EXCEPT (superseded,
-- inserted_at), 1, now64(3)`, positionally, so the new column must sit before those two.
ALTER TABLE api_requests ADD COLUMN IF NOT EXISTS `reasoning_tokens` UInt64 DEFAULT 0 AFTER resource_attributes;

-- Codex CLI: the codex.sse_event of kind response.completed that carries usage (Codex logs a second one
-- without it) -> one fact row. conversation.id is the session (the thread). The telemetry's model is the
-- session's; Codex 0.169.0 sends no response model in its logs (a rollout's model_reroute line has it).
-- Token attributes come as strings or ints (Codex writes some with Display): toUInt64OrZero takes both.
CREATE MATERIALIZED VIEW IF NOT EXISTS api_requests_from_codex_mv TO api_requests
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

-- Gemini CLI: gemini_cli.api_response -> one fact row.
CREATE MATERIALIZED VIEW IF NOT EXISTS api_requests_from_gemini_cli_mv TO api_requests
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

-- Their other events (prompts, tool decisions and results, errors), as 0005 keeps Claude Code's. Codex's
-- streaming events (codex.sse_event, one per SSE chunk) are left in the raw table.
CREATE MATERIALIZED VIEW IF NOT EXISTS agent_events_from_codex_mv TO agent_events
AS SELECT
    toDateTime64(Timestamp, 3, 'UTC') AS timestamp,
    'codex' AS agent_product,
    ServiceName AS service_name,
    LogAttributes['conversation.id'] AS session_id,
    '' AS prompt_id,
    replaceOne(LogAttributes['event.name'], 'codex.', '') AS event_name,
    toInt64(0) AS sequence,
    LogAttributes AS attributes
FROM otel_logs
WHERE startsWith(LogAttributes['event.name'], 'codex.') AND LogAttributes['event.name'] != 'codex.sse_event';

CREATE MATERIALIZED VIEW IF NOT EXISTS agent_events_from_gemini_cli_mv TO agent_events
AS SELECT
    toDateTime64(Timestamp, 3, 'UTC') AS timestamp,
    'gemini_cli' AS agent_product,
    ServiceName AS service_name,
    if(LogAttributes['session.id'] != '', LogAttributes['session.id'], ResourceAttributes['session.id']) AS session_id,
    LogAttributes['prompt_id'] AS prompt_id,
    replaceOne(LogAttributes['event.name'], 'gemini_cli.', '') AS event_name,
    toInt64(0) AS sequence,
    LogAttributes AS attributes
FROM otel_logs
WHERE startsWith(LogAttributes['event.name'], 'gemini_cli.') AND LogAttributes['event.name'] != 'gemini_cli.api_response';
