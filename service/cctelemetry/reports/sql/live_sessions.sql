-- Sessions for the monitor: per session, its requests in the window (a week back, or all of a session asked
-- for), kept when its latest request is recent enough. Appended to `WITH usage AS (...), priced AS (...)`
-- (reports/source.py: priced_sums, keys _k0 the session, _k1 the person, _k2 the project, _k3 the agent).
-- Filled in by the report: MEASURES (reports/usage.py). No semicolons in this file.
SELECT
    _k0 AS session,
    argMax(_k1, priced.last_at) AS user,
    argMax(_k2, priced.last_at) AS project,
    min(priced.first_at) AS first_seen,
    max(priced.last_at) AS last_seen,
    arraySort(groupUniqArray(model)) AS models,
    arraySort(groupUniqArray(_k3)) AS agents,${MEASURES}
FROM priced
GROUP BY _k0
HAVING session != '' AND last_seen >= {active_since:DateTime64(3, 'UTC')}
ORDER BY last_seen DESC, session ASC
LIMIT {limit:UInt32}
