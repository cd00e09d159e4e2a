-- The session with the latest request among the report's filters. Appended to `WITH req AS (...)` (the usage
-- rows: reports/source.py usage_cte). Filled in by the report: WHERE (the filters, or nothing).
-- No semicolons in this file.
SELECT session_id AS session, max(req.last_at) AS last_seen, argMax(project, req.last_at) AS latest_project
FROM req
${WHERE}
GROUP BY session_id
HAVING session_id != '' AND sum(requests) != 0
ORDER BY last_seen DESC, session ASC
LIMIT 1
