-- Codex rollout import, step 2: the lines of ${RAW} worth parsing -> ${LINES}, one row each with a kind:
--   'request'   a token_usage_record: one model response's usage, with its response id (Codex 0.16x writes
--               one per response, and never copies it into a forked thread's rollout)
--   'count'     an event_msg token_count with last_token_usage: the usage record of older rollouts that
--               have no token_usage_record (used only for such files, see codex_candidates.sql)
--   'context'   session_meta (thread id, cwd, git branch), turn_context (the turn's requested model, cwd),
--               event_msg model_reroute (the model that actually answered, to_model)
--   'other', 'blank', 'invalid_json', 'unknown_shape' as for Claude Code (lines.sql)
-- Token columns hold Codex's own numbers here (input includes cached and cache-write tokens; output
-- includes reasoning); codex_candidates.sql makes them disjoint. Lines are kept in file order (one thread),
-- since a request's model and session come from the lines before it.
-- The rollout line types: https://github.com/openai/codex/blob/main/codex-rs/protocol/src/protocol.rs
INSERT INTO ${LINES}
    (file_idx, line_no, kind, timestamp, session_id, request_id, model, cwd, git_branch, input_tokens,
     output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, record)
WITH
    'Tuple(timestamp String, type String,
           payload Tuple(type String, id String, thread_id String, session_id String, response_id String,
                         model String, to_model String, cwd String, git Tuple(branch String),
                         usage Tuple(input_tokens Nullable(UInt64), cached_input_tokens Nullable(UInt64),
                                     cache_write_input_tokens Nullable(UInt64), output_tokens Nullable(UInt64),
                                     reasoning_output_tokens Nullable(UInt64)),
                         info Tuple(last_token_usage Tuple(input_tokens Nullable(UInt64),
                                                           cached_input_tokens Nullable(UInt64),
                                                           cache_write_input_tokens Nullable(UInt64),
                                                           output_tokens Nullable(UInt64),
                                                           reasoning_output_tokens Nullable(UInt64)))))' AS entry_type
SELECT
    file_idx,
    {batch:UInt64} * 4294967296 + rn AS line_no,
    multiIf(
        kind0 != 'candidate', kind0,
        e.type = '', if(isValidJSON(line), 'unknown_shape', 'invalid_json'),
        isNull(ts), 'unknown_shape',
        e.type = 'token_usage_record', if(isNull(u.input_tokens) AND isNull(u.output_tokens), 'unknown_shape', 'request'),
        e.type = 'event_msg' AND e.payload.type = 'token_count', if(isNull(u.input_tokens) AND isNull(u.output_tokens), 'other', 'count'),
        e.type IN ('session_meta', 'turn_context'), 'context',
        e.type = 'event_msg' AND e.payload.type = 'model_reroute', 'context',
        'other') AS kind,
    ifNull(ts, toDateTime64(0, 3, 'UTC')) AS timestamp,
    multiIf(e.type = 'session_meta', e.payload.id,
            e.type = 'token_usage_record', if(e.payload.thread_id != '', e.payload.thread_id, e.payload.session_id),
            '') AS session_id,
    e.payload.response_id AS request_id,
    multiIf(e.type = 'turn_context', e.payload.model, e.payload.type = 'model_reroute', e.payload.to_model, '') AS model,
    if(e.type IN ('session_meta', 'turn_context'), e.payload.cwd, '') AS cwd,
    if(e.type = 'session_meta', e.payload.git.branch, '') AS git_branch,
    ifNull(u.input_tokens, 0) AS input_tokens,
    ifNull(u.output_tokens, 0) AS output_tokens,
    ifNull(u.cached_input_tokens, 0) AS cache_read_tokens,
    ifNull(u.cache_write_input_tokens, 0) AS cache_creation_tokens,
    ifNull(u.reasoning_output_tokens, 0) AS reasoning_tokens,
    if(e.type = 'event_msg', e.payload.type, e.type) AS record
FROM
(
    SELECT
        line,
        file_idx,
        rn,
        if(code = 7, '', line) AS rare,
        trimBoth(rare) AS rare_trimmed,
        multiIf(
            code = 7, 'candidate',
            empty(rare_trimmed), 'blank',
            NOT isValidJSON(rare), 'invalid_json',
            NOT startsWith(rare_trimmed, '{'), 'unknown_shape',
            code >= 4, 'candidate',
            'other') AS kind0,
        JSONExtract(line, entry_type) AS e,
        if(e.type = 'token_usage_record', e.payload.usage, e.payload.info.last_token_usage) AS u,
        parseDateTime64BestEffortOrNull(e.timestamp, 3, 'UTC') AS ts
    FROM ${RAW_LINES}
    WHERE code != 3
)
SETTINGS max_threads = 1
