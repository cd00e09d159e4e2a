-- Fact step 2: what request_copies holds for the batch's requests (every source, live or superseded). The
-- table is ordered by session, so these are a few ranges of it.
INSERT INTO ${STORED}
SELECT *
FROM request_copies FINAL
WHERE (agent_product, session_id) IN (SELECT DISTINCT agent_product, session_id FROM ${BATCH})
  AND (agent_product, session_id, request_key) IN (SELECT agent_product, session_id, request_key FROM ${BATCH})
