-- Fact step 1: the copies that reached the inbox in (lo, hi], one per request and source: the one with the most
-- tokens (a transcript's streamed partial copy has fewer), then the latest.
-- Nearly every copy is the only one of its request and source (an import writes one per request): those go in
-- as they are, and only the others are sorted to pick one (sorting every row of a 600k-row import took 4 s, this
-- 0.7 s). Keys are told apart by a hash: a hash seen twice sends its rows to the exact path, which picks by the
-- keys themselves, so a collision costs a sort, never a row.
INSERT INTO ${BATCH}
SELECT *
FROM api_request_inbox
WHERE inserted_at > {lo:DateTime64(6, 'UTC')} AND inserted_at <= {hi:DateTime64(6, 'UTC')}
  AND cityHash64(agent_product, session_id, request_key, source) NOT IN
      (SELECT cityHash64(agent_product, session_id, request_key, source) AS h
       FROM api_request_inbox
       WHERE inserted_at > {lo:DateTime64(6, 'UTC')} AND inserted_at <= {hi:DateTime64(6, 'UTC')}
       GROUP BY h
       HAVING count() > 1)
UNION ALL
SELECT *
FROM
(
    SELECT *
    FROM api_request_inbox
    WHERE inserted_at > {lo:DateTime64(6, 'UTC')} AND inserted_at <= {hi:DateTime64(6, 'UTC')}
      AND cityHash64(agent_product, session_id, request_key, source) IN
          (SELECT cityHash64(agent_product, session_id, request_key, source) AS h
           FROM api_request_inbox
           WHERE inserted_at > {lo:DateTime64(6, 'UTC')} AND inserted_at <= {hi:DateTime64(6, 'UTC')}
           GROUP BY h
           HAVING count() > 1)
    ORDER BY input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens DESC, inserted_at DESC
    LIMIT 1 BY agent_product, session_id, request_key, source
)
