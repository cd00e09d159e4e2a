-- Transcript import, step 4: the run's requests (${CAND}) against what request_copies already holds.
--   known            the request key is there already, from any source (OpenTelemetry or an earlier import)
--   stored_tokens    the most tokens an earlier transcript copy of it has (-1: none)
--   replay_of        another request key already stored for the same response (same message id and input
--                    side, re-logged under another request id, e.g. by a sidechain): not a request of its own
--   write            1 when the row goes in: new from transcripts, or a fuller copy of one (the table keeps
--                    the copy with the most tokens per key and source)
INSERT INTO ${PLAN}
SELECT
    c.*,
    toUInt8(k.request_key != '') AS known,
    if(k.request_key != '', k.stored_tokens, -1) AS stored_tokens,
    arrayFirst(k -> k != c.request_key, m.stored_keys) AS replay_of,
    toUInt8(replay_of = '' AND toInt64(c.total_tokens) > stored_tokens) AS write
FROM ${CAND} AS c
LEFT JOIN
(
    SELECT request_key, maxIf(toInt64(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens),
                              source = 'transcript') AS tt, countIf(source = 'transcript') AS n,
           if(n > 0, tt, -1) AS stored_tokens
    FROM request_copies
    WHERE agent_product = {agent_product:String}
      AND request_key IN (SELECT request_key FROM ${CAND})
    GROUP BY request_key
) AS k ON k.request_key = c.request_key
LEFT JOIN
(
    SELECT message_id, input_tokens, cache_read_tokens, cache_creation_tokens,
           groupUniqArray(request_key) AS stored_keys
    FROM request_copies
    WHERE agent_product = {agent_product:String} AND source = 'transcript'
      AND message_id IN (SELECT message_id FROM ${CAND} WHERE message_id != '')
    GROUP BY message_id, input_tokens, cache_read_tokens, cache_creation_tokens
) AS m ON m.message_id = c.message_id AND m.input_tokens = c.input_tokens AND m.cache_read_tokens = c.cache_read_tokens
      AND m.cache_creation_tokens = c.cache_creation_tokens
SETTINGS join_use_nulls = 0
