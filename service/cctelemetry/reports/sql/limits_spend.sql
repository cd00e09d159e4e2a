-- What a person spent in given intervals (the official windows observed, and "since the window began" /
-- "since the last snapshot" for the forecast): cost, tokens and cost per model per interval. Appended to
-- `WITH usage AS (...), priced AS (...)`, a row per request (reports/source.py: priced_per_request). The
-- intervals come as parallel arrays; those with one key never overlap, so each request joins the one
-- interval of its key that began last before it (ASOF), and counts when it is also before that interval's
-- end: requests in (start, end].
-- Filled in by the report: USER the `user` dimension's expression. No semicolons in this file.
SELECT
    i.id AS id,
    count() AS requests,
    sum(r.tokens) AS tokens,
    sum(toDecimal128(r.cost_usd, 12)) AS cost_usd,
    countIf(r.cost_usd IS NULL) AS unpriced_requests,
    sumMap([r.model], [toDecimal128(ifNull(r.cost_usd, 0), 12)]) AS cost_by_model
FROM
(
    SELECT ${USER} AS user, timestamp, model, cost_usd,
           input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens AS tokens,
           arrayJoin({keys:Array(String)}) AS key
    FROM priced
    WHERE ${USER} IN {users:Array(String)}
) AS r
ASOF JOIN
(
    SELECT x.1 AS id, x.2 AS user, x.3 AS key, x.4 AS starts, x.5 AS ends
    FROM (SELECT arrayJoin(arrayZip({ids:Array(UInt32)}, {interval_users:Array(String)}, {interval_keys:Array(String)},
                                    {starts:Array(DateTime64(3, 'UTC'))}, {ends:Array(DateTime64(3, 'UTC'))})) AS x)
) AS i
ON r.user = i.user AND r.key = i.key AND r.timestamp > i.starts
WHERE r.timestamp <= i.ends
GROUP BY i.id
