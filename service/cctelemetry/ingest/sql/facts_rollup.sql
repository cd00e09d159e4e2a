-- Fact step 5: the rollup follows what step 4 wrote: each request whose live row changed goes out as it was
-- (-1) and in as it is now (+1), so the rollup sums to what request_copies says.
INSERT INTO usage_hourly
WITH facts AS
(
    SELECT *, toInt8(-1) AS sign
    FROM ${STORED}
    WHERE superseded = 0
      AND (agent_product, session_id, request_key) IN
          (SELECT agent_product, session_id, request_key FROM ${NEW} WHERE superseded = 0)
    UNION ALL
    SELECT *, toInt8(1) AS sign
    FROM ${NEW}
    WHERE superseded = 0
)
${USAGE_ROWS}
