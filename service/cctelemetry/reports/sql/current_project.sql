-- The project a directory belongs to: the longest project path (from transcripts; telemetry has none) that is
-- the directory or one of its parents. Appended to `WITH req AS (...)` (the usage rows: reports/source.py
-- usage_cte). Filled in by the report: WHERE (the report's filters, or nothing). No semicolons in this file.
SELECT project
FROM req
${WHERE}
GROUP BY project
HAVING project != '' AND sum(requests) != 0
   AND startsWith(concat({cwd:String}, '/'), concat(trimRight(project, '/'), '/'))
ORDER BY length(project) DESC
LIMIT 1
