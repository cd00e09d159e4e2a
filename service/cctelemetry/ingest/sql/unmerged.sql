-- The requests that more than one source delivered and that are not merged yet (a crash between a write
-- and its merge leaves some), by agent: ingest/merge.py merge_all repairs them.
SELECT agent_product, groupArray(request_key)
FROM
(
    SELECT agent_product, request_key
    FROM api_requests FINAL
    WHERE superseded = 0
    GROUP BY agent_product, request_key
    HAVING uniqExact(source) > 1 AND NOT has(groupArray(source), 'merged')
)
GROUP BY agent_product
