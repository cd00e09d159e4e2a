-- How many of the batch's requests need step 3b: something is stored for them, or two sources delivered them.
SELECT count()
FROM
(
    SELECT agent_product, session_id, request_key
    FROM ${BATCH}
    GROUP BY agent_product, session_id, request_key
    HAVING count() > 1
    UNION ALL
    SELECT DISTINCT agent_product, session_id, request_key FROM ${STORED}
)
