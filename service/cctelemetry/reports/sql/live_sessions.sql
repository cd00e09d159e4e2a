-- Sessions for the monitor: per session, its requests in the window (a week back, or all of a session asked
-- for), kept when its latest request is recent enough. Appended to `WITH req AS (...), priced AS (...)`.
-- Filled in by the report: USER (the `user` dimension), WHERE (the filters, or nothing), MEASURES (reports/usage.py).
-- No semicolons in this file.
SELECT
    session_id AS session,
    argMax(${USER}, timestamp) AS user,
    argMax(project, timestamp) AS project,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    arraySort(groupUniqArray(model)) AS models,
    arraySort(groupUniqArray(agent)) AS agents,${MEASURES}
FROM priced
${WHERE}
GROUP BY session_id
HAVING session != '' AND last_seen >= {active_since:DateTime64(3, 'UTC')}
ORDER BY last_seen DESC, session ASC
LIMIT {limit:UInt32}
