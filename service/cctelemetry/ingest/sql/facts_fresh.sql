-- Fact step 3a: the batch's requests that nothing stored and only one source delivered (nearly every new
-- telemetry event) are written as they are. The others go through step 3b (facts_resolve.sql).
INSERT INTO ${NEW}
SELECT * EXCEPT (inserted_at), toUInt8(0) AS superseded, {version:UInt64} AS version, now64(6) AS inserted_at
FROM ${BATCH}
WHERE (agent_product, session_id, request_key) IN
      (SELECT agent_product, session_id, request_key FROM ${BATCH}
       GROUP BY agent_product, session_id, request_key HAVING count() = 1)
  AND (agent_product, session_id, request_key) NOT IN
      (SELECT agent_product, session_id, request_key FROM ${STORED})
