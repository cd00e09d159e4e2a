-- Sessions whose cache churned: most of what they put through the cache was written again, not read.
-- churn = cache writes / (cache writes + cache reads) of the session. A session churned when it has at least
-- {min_requests} requests and churn >= {min_churn}. gaps_over_5m: pauses of more than 5 minutes between two
-- of its requests (after which Claude Code's default 5-minute cache has expired).
SELECT
    count() AS sessions,
    countIf(churned) AS churned_sessions,
    ifNull(toFloat64(sumIf(toDecimal128(cache_write_usd, 12), churned)), 0) AS churned_cache_write_usd,
    ifNull(toFloat64(sumIf(toDecimal128(cost_usd, 12), churned)), 0) AS churned_cost_usd,
    ifNull(toFloat64(sum(toDecimal128(cache_write_usd, 12))), 0) AS all_cache_write_usd,
    arraySlice(arraySort(x -> -x.6, groupArrayIf((session_id, requests, cache_read_tokens, cache_creation_tokens,
                                                  churn, cache_write_usd, gaps_over_5m), churned)),
               1, {list_limit:UInt32}) AS top
FROM
(
    SELECT
        session_id,
        count() AS requests,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_creation_tokens) AS cache_creation_tokens,
        ifNull(cache_creation_tokens / nullIf(cache_creation_tokens + cache_read_tokens, 0), 0) AS churn,
        countIf(gap_ms > 300000) AS gaps_over_5m,
        toFloat64(sum(toDecimal128(cost_cache_write_5m_usd + cost_cache_write_1h_usd, 12))) AS cache_write_usd,
        toFloat64(sum(toDecimal128(cost_usd, 12))) AS cost_usd,
        requests >= {min_requests:UInt32} AND churn >= {min_churn:Float64} AS churned
    FROM
    (
        SELECT *, dateDiff('millisecond', lagInFrame(timestamp, 1, timestamp)
                      OVER (PARTITION BY session_id ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
                      timestamp) AS gap_ms
        FROM scope
    )
    GROUP BY session_id
)
