-- Gemini CLI chat import, step 2: the lines of ${RAW} worth parsing -> ${LINES}, one row per message
-- record (a line is one record, or a {"$set": {"messages": [...]}} update holding several), with a kind:
--   'request'   a "gemini" message with tokens: one model response's usage
--   'context'   the session's metadata ({"sessionId", "projectHash", ...}, or a $set of sessionId)
--   'other', 'blank', 'invalid_json', 'unknown_shape' as for Claude Code (lines.sql)
-- Token columns hold Gemini's own numbers here (input = promptTokenCount, which includes the cached
-- tokens; output = candidates, without thoughts); gemini_candidates.sql makes them disjoint.
-- The record format: packages/core/src/services/chatRecordingService.ts in google-gemini/gemini-cli
-- (a message is appended again when it changes: the copies share its id and its tokens).
INSERT INTO ${LINES}
    (file_idx, line_no, kind, timestamp, session_id, message_id, model, input_tokens, output_tokens,
     cache_read_tokens, reasoning_tokens, tool_tokens, record)
WITH
    'Tuple(id String, type String, timestamp String, model String,
           tokens Tuple(input Nullable(UInt64), output Nullable(UInt64), cached Nullable(UInt64),
                        thoughts Nullable(UInt64), tool Nullable(UInt64)))' AS message_type
SELECT
    file_idx,
    {batch:UInt64} * 4294967296 + rn * 1024 + least(part, 1023) AS line_no,
    multiIf(
        kind0 != 'candidate', kind0,
        session != '', 'context',
        m.type != 'gemini', 'other',
        isNull(m.tokens.input) AND isNull(m.tokens.output), 'other',
        isNull(ts), 'unknown_shape',
        'request') AS kind,
    ifNull(ts, toDateTime64(0, 3, 'UTC')) AS timestamp,
    session AS session_id,
    m.id AS message_id,
    m.model AS model,
    ifNull(m.tokens.input, 0) AS input_tokens,
    ifNull(m.tokens.output, 0) AS output_tokens,
    ifNull(m.tokens.cached, 0) AS cache_read_tokens,
    ifNull(m.tokens.thoughts, 0) AS reasoning_tokens,
    ifNull(m.tokens.tool, 0) AS tool_tokens,
    m.type AS record
FROM
(
    SELECT
        file_idx,
        rn,
        kind0,
        session,
        part,
        JSONExtract(msg, message_type) AS m,
        parseDateTime64BestEffortOrNull(m.timestamp, 3, 'UTC') AS ts
    FROM
    (
        SELECT
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
            if(JSONHas(line, '$set', 'sessionId'), JSONExtractString(line, '$set', 'sessionId'),
               JSONExtractString(line, 'sessionId')) AS session,
            if(JSONHas(line, '$set', 'messages'), JSONExtractArrayRaw(line, '$set', 'messages'), [line]) AS msgs
        FROM ${RAW_LINES}
        WHERE code != 3
    )
    ARRAY JOIN msgs AS msg, arrayEnumerate(msgs) AS part
)
SETTINGS max_threads = 1
