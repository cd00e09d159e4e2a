-- The top {top_share} of sessions by cost (at least one session): how many, what they cost, their share of
-- the spend, and the most expensive {list_limit} of them. Requests are counted as sum(requests): the report reads
-- scope as the rollups' sums (a row of the requests view is one request, requests = 1).
SELECT
    count() AS top_sessions,
    any(sessions) AS session_count,
    ifNull(toFloat64(sum(toDecimal128(cost_usd, 12))), 0) AS top_usd,
    any(total_usd) AS spend_usd,
    min(cost_usd) AS top_min_usd,
    arraySlice(arraySort(x -> -x.2, groupArray((session_id, cost_usd, requests))), 1, {list_limit:UInt32}) AS top
FROM
(
    SELECT
        session_id,
        cost_usd,
        requests,
        count() OVER () AS sessions,
        toFloat64(sum(toDecimal128(cost_usd, 12)) OVER ()) AS total_usd,
        row_number() OVER (ORDER BY cost_usd DESC, session_id) AS rank
    FROM
    (
        SELECT session_id, toFloat64(sum(toDecimal128(cost_usd, 12))) AS cost_usd, sum(requests) AS requests
        FROM scope
        GROUP BY session_id
    )
)
WHERE rank <= greatest(1, toUInt64(ceil(sessions * {top_share:Float64})))
