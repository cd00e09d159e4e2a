-- Transcript import, step 2: the lines of ${RAW} worth parsing -> ${LINES}, one row each with a kind:
--   'request'        an assistant entry with usage: a fact row candidate
--   'other'          a valid entry of another kind that mentions "usage" (e.g. a subagent's tool result)
--   'blank'          an empty line
--   'invalid_json'   not JSON (a torn write, garbage)
--   'unknown_shape'  JSON, but not an entry we can read (not an object, usage without token counts,
--                    no timestamp, no id at all)
--   'synthetic'      the <synthetic> placeholder of a failed request, zero usage
-- Code 3 lines (JSON objects without "usage") are not in ${RAW}: they are only counted.
-- Nothing raises on bad input: a line that cannot be read gets a kind.
INSERT INTO ${LINES}
    (file_idx, line_no, kind, timestamp, session_id, request_id, message_id, uuid, model, attribution_agent,
     is_sidechain, speed, cwd, git_branch, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
     cache_creation_5m_tokens, cache_creation_1h_tokens, cache_split_known, web_search_requests, reported_cost_usd)
WITH
    -- The fields read from an entry. JSONExtract fills each one on its own: a missing or mistyped field
    -- becomes its default (NULL for the token counts, so that "absent" and "0" differ).
    'Tuple(type String, sessionId String, requestId String, uuid String, timestamp String, cwd String, gitBranch String,
           isSidechain Bool, attributionAgent String, costUSD Nullable(Float64),
           message Tuple(id String, model String,
                         usage Tuple(input_tokens Nullable(UInt64), output_tokens Nullable(UInt64),
                                     cache_read_input_tokens Nullable(UInt64),
                                     cache_creation_input_tokens Nullable(UInt64),
                                     cache_creation Tuple(ephemeral_5m_input_tokens Nullable(UInt64),
                                                          ephemeral_1h_input_tokens Nullable(UInt64)),
                                     server_tool_use Tuple(web_search_requests Nullable(UInt64)),
                                     speed String)))' AS entry_type
SELECT
    file_idx,
    -- unique in the run: the batch number in the high bits
    {batch:UInt64} * 4294967296 + rn AS line_no,
    multiIf(
        kind0 != 'candidate', kind0,
        -- JSONExtract gives all defaults for text that is not JSON: only then is the line checked (rarely).
        e.type = '', if(isValidJSON(if(e.type = '', line, '{}')), 'unknown_shape', 'invalid_json'),
        e.type != 'assistant', 'other',
        isNull(u.input_tokens) AND isNull(u.output_tokens) AND isNull(u.cache_read_input_tokens)
            AND isNull(u.cache_creation_input_tokens), 'unknown_shape',
        e.message.model = '<synthetic>' AND tokens = 0, 'synthetic',
        isNull(ts), 'unknown_shape',
        e.message.id = '' AND e.requestId = '' AND e.uuid = '', 'unknown_shape',
        'request') AS kind,
    ifNull(ts, toDateTime64(0, 3, 'UTC')) AS timestamp,
    e.sessionId AS session_id,
    e.requestId AS request_id,
    e.message.id AS message_id,
    e.uuid AS uuid,
    e.message.model AS model,
    e.attributionAgent AS attribution_agent,
    e.isSidechain AS is_sidechain,
    if(u.speed = 'standard', 'normal', u.speed) AS speed,
    e.cwd AS cwd,
    e.gitBranch AS git_branch,
    ifNull(u.input_tokens, 0) AS input_tokens,
    ifNull(u.output_tokens, 0) AS output_tokens,
    ifNull(u.cache_read_input_tokens, 0) AS cache_read_tokens,
    -- The total as the API reports it; the 5m/1h breakdown only when the line has it.
    ifNull(u.cache_creation_input_tokens, c5m + c1h) AS cache_creation_tokens,
    c5m AS cache_creation_5m_tokens,
    c1h AS cache_creation_1h_tokens,
    toUInt8(isNotNull(u.cache_creation.ephemeral_5m_input_tokens)
            OR isNotNull(u.cache_creation.ephemeral_1h_input_tokens)) AS cache_split_known,
    toUInt32(least(ifNull(u.server_tool_use.web_search_requests, 0), 4294967295)) AS web_search_requests,
    e.costUSD AS reported_cost_usd
FROM
(
    SELECT
        line,
        file_idx,
        rn,
        -- Lines other than code 7 ({"...usage"...}) are rare: only they are trimmed and validated, through a
        -- column that is empty for every other line (a condition on the whole line would copy it).
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
        e.message.usage AS u,
        ifNull(u.cache_creation.ephemeral_5m_input_tokens, 0) AS c5m,
        ifNull(u.cache_creation.ephemeral_1h_input_tokens, 0) AS c1h,
        ifNull(u.input_tokens, 0) + ifNull(u.output_tokens, 0) + ifNull(u.cache_read_input_tokens, 0)
            + ifNull(u.cache_creation_input_tokens, 0) AS tokens,
        parseDateTime64BestEffortOrNull(e.timestamp, 3, 'UTC') AS ts
    FROM ${RAW_LINES}
    WHERE code != 3
)
