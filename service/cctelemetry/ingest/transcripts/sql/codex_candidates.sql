-- Codex rollout import, step 3: the run's lines (${LINES}) -> one row per request (${CAND}).
--
-- A request is a token_usage_record (one per model response, with the response id). A rollout without any
-- (older Codex) is read from its token_count events instead (last_token_usage per response). Each takes
-- from the lines before it in its file: the model (the turn's turn_context, or a model_reroute after it:
-- the model that answered), the cwd and the git branch; a token_count also its session (the last
-- session_meta before it).
--
-- The request key is the one the telemetry view computes (migrations/0009): 'codex:' || thread id || a
-- hash of the response's five usage numbers, so a request that telemetry delivered too meets it. One
-- response copied into several files (an archived copy, a fork's replay of its parent's history, a resumed
-- session's file) has the same key and counts once (ccusage #897, #1175, #1349 counted forks again).
-- Tokens become disjoint here: input = input - cached - cache write; output keeps its reasoning.
INSERT INTO ${CAND}
SELECT
    request_key,
    argMin(timestamp, pref) AS timestamp,
    argMin(session, pref) AS session_id,
    argMin(request_id, pref) AS request_id,
    '' AS message_id,
    argMin(ctx_model, pref) AS model,
    'main' AS agent,
    '' AS speed,
    argMin(project, pref) AS project,
    argMin(ctx_branch, pref) AS git_branch,
    argMin(c_input, pref) AS input_tokens,
    argMin(c_output, pref) AS output_tokens,
    argMin(c_read, pref) AS cache_read_tokens,
    argMin(c_write, pref) AS cache_creation_tokens,
    toUInt64(0) AS cache_creation_5m_tokens,
    toUInt64(0) AS cache_creation_1h_tokens,
    toUInt8(0) AS cache_split_known,
    toUInt32(0) AS web_search_requests,
    CAST(NULL, 'Nullable(Float64)') AS reported_cost_usd,
    argMin(c_total, pref) AS total_tokens,
    argMin(c_reasoning, pref) AS reasoning_tokens
FROM
(
    SELECT
        *,
        if(kind = 'request' AND session_id != '', session_id, ifNull(ctx_session, file_session)) AS session,
        concat('codex:', session, ':',
               hex(cityHash64(input_tokens, cache_read_tokens, cache_creation_tokens, output_tokens, reasoning_tokens)))
            AS request_key,
        if(ifNull(ctx_cwd, '') != '', ctx_cwd, project_dir) AS project,
        toUInt64(greatest(toInt64(input_tokens) - toInt64(cache_read_tokens) - toInt64(cache_creation_tokens), 0))
            AS c_input,
        output_tokens AS c_output,
        cache_read_tokens AS c_read,
        cache_creation_tokens AS c_write,
        reasoning_tokens AS c_reasoning,
        input_tokens + output_tokens AS c_total,
        -- a usage record over a token_count, then one with a response id, then the earliest
        (kind != 'request', request_id = '', timestamp, file_idx, line_no) AS pref
    FROM
    (
        SELECT
            l.*,
            f.project_dir AS project_dir,
            f.file_session AS file_session,
            anyLast(nullIf(l.model, '')) OVER w AS ctx_model0,
            ifNull(ctx_model0, '') AS ctx_model,
            anyLast(nullIf(l.cwd, '')) OVER w AS ctx_cwd,
            ifNull(anyLast(nullIf(l.git_branch, '')) OVER w, '') AS ctx_branch,
            anyLast(if(l.record = 'session_meta', nullIf(l.session_id, ''), NULL)) OVER w AS ctx_session,
            countIf(l.kind = 'request') OVER (PARTITION BY l.file_idx) AS file_records
        FROM ${LINES} AS l
        LEFT JOIN ${FILES} AS f ON f.file_idx = l.file_idx
        WHERE l.kind IN ('request', 'count', 'context')
        WINDOW w AS (PARTITION BY l.file_idx ORDER BY l.line_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    WHERE kind = 'request' OR (kind = 'count' AND file_records = 0)
)
GROUP BY request_key
