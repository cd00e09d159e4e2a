-- Fact step 1: the copies that reached the inbox in (lo, hi], one per request and source: the one with the most
-- tokens (a transcript's streamed partial copy has fewer), then the latest.
INSERT INTO ${BATCH}
SELECT *
FROM api_request_inbox
WHERE inserted_at > {lo:DateTime64(6, 'UTC')} AND inserted_at <= {hi:DateTime64(6, 'UTC')}
ORDER BY input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens DESC, inserted_at DESC
LIMIT 1 BY agent_product, session_id, request_key, source
