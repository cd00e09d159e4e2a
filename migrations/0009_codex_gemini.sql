-- Codex CLI and Gemini CLI: their events into agent_events (their requests: 0010, into the fact writer's
-- inbox), and what the token columns mean for them.
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
