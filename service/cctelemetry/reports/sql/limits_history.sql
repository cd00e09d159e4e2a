-- The snapshots themselves, newest first, with the person they belong to (see limits_instances.sql).
-- Appended to `WITH req AS (...)` (the usage rows: reports/source.py usage_cte). Filled in by the report: USER, USER_FILTER. No semicolons in this file.
, session_users AS (
    SELECT session_id, argMax(${USER}, req.last_at) AS user
    FROM req
    WHERE session_id IN (
        SELECT DISTINCT session_id FROM rate_limit_snapshots
        WHERE observed_at >= {since:DateTime64(3, 'UTC')} AND observed_at < {until:DateTime64(3, 'UTC')})
    GROUP BY session_id
    HAVING sum(requests) != 0
)
SELECT s.observed_at AS observed_at, s.window AS window, s.used_percentage AS used_percentage,
       s.resets_at AS resets_at, s.session_id AS session, s.model AS model, s.agent_version AS agent_version,
       s.session_cost_usd AS session_cost_usd, u.user AS user
FROM rate_limit_snapshots AS s
LEFT JOIN session_users AS u ON s.session_id = u.session_id
WHERE s.observed_at >= {since:DateTime64(3, 'UTC')} AND s.observed_at < {until:DateTime64(3, 'UTC')}${USER_FILTER}
ORDER BY s.observed_at DESC
LIMIT {limit:UInt32}
