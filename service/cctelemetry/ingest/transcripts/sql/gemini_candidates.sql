-- Gemini CLI chat import, step 3: the run's message records (${LINES}) -> one row per request (${CAND}).
--
-- The session is the file's (its first line, or a later $set of sessionId). The request key is the one the
-- telemetry view computes (migrations/0009): 'gemini:' || session || a hash of the response's five usage
-- numbers, so a request that telemetry delivered too meets it, and a message written again (Gemini appends
-- a changed message anew, a resumed session's file repeats it) counts once.
-- Tokens become disjoint: input = prompt - cached + tool-use prompt, cache read = cached, output =
-- candidates + thoughts (thoughts are billed as output; ccusage drops them from output).
INSERT INTO ${CAND}
SELECT
    request_key,
    argMin(timestamp, pref) AS timestamp,
    argMin(session, pref) AS session_id,
    '' AS request_id,
    argMin(message_id, pref) AS message_id,
    argMin(model, pref) AS model,
    'main' AS agent,
    '' AS speed,
    argMin(project_dir, pref) AS project,
    '' AS git_branch,
    argMin(c_input, pref) AS input_tokens,
    argMin(c_output, pref) AS output_tokens,
    argMin(c_read, pref) AS cache_read_tokens,
    toUInt64(0) AS cache_creation_tokens,
    toUInt64(0) AS cache_creation_5m_tokens,
    toUInt64(0) AS cache_creation_1h_tokens,
    toUInt8(0) AS cache_split_known,
    toUInt32(0) AS web_search_requests,
    CAST(NULL, 'Nullable(Float64)') AS reported_cost_usd,
    argMin(c_input + c_output + c_read, pref) AS total_tokens,
    argMin(c_reasoning, pref) AS reasoning_tokens
FROM
(
    SELECT
        *,
        ifNull(ctx_session, file_session) AS session,
        concat('gemini:', session, ':',
               hex(cityHash64(input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, tool_tokens)))
            AS request_key,
        toUInt64(greatest(toInt64(input_tokens) - toInt64(cache_read_tokens), 0) + tool_tokens) AS c_input,
        output_tokens + reasoning_tokens AS c_output,
        cache_read_tokens AS c_read,
        reasoning_tokens AS c_reasoning,
        (timestamp, file_idx, line_no) AS pref
    FROM
    (
        SELECT
            l.*,
            f.project_dir AS project_dir,
            f.file_session AS file_session,
            anyLast(nullIf(l.session_id, '')) OVER w AS ctx_session
        FROM ${LINES} AS l
        LEFT JOIN ${FILES} AS f ON f.file_idx = l.file_idx
        WHERE l.kind IN ('request', 'context')
        WINDOW w AS (PARTITION BY l.file_idx ORDER BY l.line_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    WHERE kind = 'request'
)
GROUP BY request_key
