-- The session with the latest request among the report's filters. Appended to `WITH req AS (...)`.
-- Filled in by the report: WHERE (the filters, or nothing). No semicolons in this file.
SELECT session_id AS session, max(timestamp) AS last_seen, argMax(project, timestamp) AS latest_project
FROM req
${WHERE}
GROUP BY session_id
HAVING session_id != ''
ORDER BY last_seen DESC, session ASC
LIMIT 1
