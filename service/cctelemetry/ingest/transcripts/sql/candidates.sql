-- Transcript import, step 3: the run's request lines (${LINES}) -> one row per request (${CAND}).
--
-- One API response is written as several lines (one per content block, early ones with a streaming
-- snapshot of usage), and resumed sessions, compaction and sidechains re-log earlier responses. All these
-- copies share the message id and the usage's input side (input, cache read, cache write: only the output
-- count grows while streaming). So:
--   1. per copy key = message id + input side (without a message id: the request id, else the line's uuid)
--      keep one copy: a main-thread copy over a sidechain replay (which re-logs a parent response under
--      another request id, ccusage #913), then the most tokens (ccusage: the largest total wins), then one
--      that knows the speed, then one with a request id, then the earliest, then the first file;
--   2. per request key keep one the same way. The request key is the request id (what OpenTelemetry's
--      request_id is); without one (a gateway), 'msg:' || message id || input side. The input side is there
--      because some gateways answer every response with the same message id (ccusage #1635): copies of one
--      response still collapse, distinct responses do not.
-- Session and project fall back to what the file's path says.
-- The preference is packed into one UInt128 (rank) and the winner found by its line number: argMax over
-- plain numbers, instead of over tuples of strings, keeps this step fast at millions of lines.
INSERT INTO ${CAND}
SELECT
    multiIf(l.request_id != '', l.request_id,
            l.message_id != '', concat('msg:', l.message_id, ':', toString(l.input_tokens), ':',
                                       toString(l.cache_read_tokens), ':', toString(l.cache_creation_tokens)),
            concat('uuid:', l.uuid)) AS request_key,
    l.timestamp,
    if(l.session_id != '', l.session_id, f.file_session) AS session_id,
    l.request_id,
    l.message_id,
    l.model,
    multiIf(l.attribution_agent != '', l.attribution_agent, l.is_sidechain, 'subagent', 'main') AS agent,
    l.speed,
    if(l.cwd != '', l.cwd, f.project_dir) AS project,
    l.git_branch,
    l.input_tokens,
    l.output_tokens,
    l.cache_read_tokens,
    l.cache_creation_tokens,
    l.cache_creation_5m_tokens,
    l.cache_creation_1h_tokens,
    l.cache_split_known,
    l.web_search_requests,
    l.reported_cost_usd,
    l.input_tokens + l.output_tokens + l.cache_read_tokens + l.cache_creation_tokens AS total_tokens,
    toUInt64(0) AS reasoning_tokens
FROM ${LINES} AS l
INNER JOIN
(
    -- 2. one per request key
    SELECT argMax(winner, copy_rank) AS line_no
    FROM
    (
        -- 1. one per message id
        SELECT argMax(line_no, rank) AS winner, argMax(request_hash, rank) AS request_hash, max(rank) AS copy_rank
        FROM
        (
            SELECT
                line_no,
                -- the keys as 128-bit hashes of their parts (the key strings, 40-80 bytes each, made these
                -- groupings hold 360 MB more at their peak over 720k lines); the request key itself is made from
                -- the winning line above
                multiIf(message_id != '', sipHash128('m', message_id, input_tokens, cache_read_tokens,
                                                     cache_creation_tokens),
                        request_id != '', sipHash128('r', request_id),
                        sipHash128('u', uuid)) AS copy_key,
                multiIf(request_id != '', sipHash128('r', request_id),
                        message_id != '', sipHash128('m', message_id, input_tokens, cache_read_tokens,
                                                     cache_creation_tokens),
                        sipHash128('u', uuid)) AS request_hash,
                -- main thread (1 bit) | tokens (48) | knows speed (1) | has request id (1) | earlier (44) | file (33)
                bitShiftLeft(toUInt128(NOT is_sidechain), 127)
                + bitShiftLeft(toUInt128(least(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens,
                                               281474976710655)), 79)
                + bitShiftLeft(toUInt128(speed != ''), 78)
                + bitShiftLeft(toUInt128(request_id != ''), 77)
                + bitShiftLeft(toUInt128(17592186044415 - least(greatest(toUnixTimestamp64Milli(timestamp), 0),
                                                                17592186044415)), 33)
                + toUInt128(4294967295 - file_idx) AS rank
            FROM ${LINES}
            WHERE kind = 'request'
        )
        GROUP BY copy_key
    )
    GROUP BY request_hash
) AS w ON w.line_no = l.line_no
LEFT JOIN ${FILES} AS f ON f.file_idx = l.file_idx
WHERE l.kind = 'request'
