-- The official windows observed: per person, window kind and reset time, the first and the last snapshot
-- (rate_limit_snapshots, migration 0011). Appended to `WITH req AS (...)` (the usage rows: reports/source.py usage_cte): a snapshot
-- belongs to the person whose requests its session holds ('' when the service has none of them).
-- A window is one reset time; resets_at is rounded to the minute, in case Claude Code's figure wobbles.
-- Filled in by the report: USER the `user` dimension's expression. No semicolons in this file.
, snapshot_sessions AS (
    SELECT DISTINCT session_id FROM rate_limit_snapshots
    WHERE observed_at >= {since:DateTime64(3, 'UTC')} AND observed_at < {until:DateTime64(3, 'UTC')}
),
session_users AS (
    SELECT session_id, argMax(${USER}, req.last_at) AS user
    FROM req
    WHERE session_id IN (SELECT session_id FROM snapshot_sessions)
    GROUP BY session_id
    HAVING sum(requests) != 0
),
snapshots AS (
    SELECT s.*, u.user AS user, toStartOfMinute(ifNull(s.resets_at, toDateTime(0, 'UTC')) + 30) AS resets_key
    FROM rate_limit_snapshots AS s
    LEFT JOIN session_users AS u ON s.session_id = u.session_id
    WHERE s.observed_at >= {since:DateTime64(3, 'UTC')} AND s.observed_at < {until:DateTime64(3, 'UTC')}
)
SELECT
    user,
    window,
    resets_key,
    max(resets_at) AS window_resets_at,
    min(observed_at) AS first_at,
    argMin(used_percentage, observed_at) AS first_percentage,
    max(observed_at) AS last_at,
    argMax(used_percentage, observed_at) AS last_percentage,
    argMax(session_id, observed_at) AS session,
    argMax(model, observed_at) AS model,
    count() AS snapshots
FROM snapshots
GROUP BY user, window, resets_key
ORDER BY last_at
