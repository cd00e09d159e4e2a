-- Fact step 2, first: whether request_copies holds any row of the batch's requests (any version: only the key
-- columns are read, no FINAL). Nearly always none for telemetry and for a first import, and then step 2 proper
-- (facts_stored.sql: every column of the matching rows, FINAL, which opens every part's columns at once: 300 MB
-- at its peak over an import's daily partitions) is skipped.
SELECT count() > 0
FROM request_copies
WHERE (agent_product, session_id) IN (SELECT DISTINCT agent_product, session_id FROM ${BATCH})
  AND (agent_product, session_id, request_key) IN (SELECT agent_product, session_id, request_key FROM ${BATCH})
