-- Requests that failed after every retry, by status and model, with what the prompts they ended had cost
-- (their successful requests, from `priced`).
SELECT
    status_code, model,
    grouping(status_code, model) != 0 AS _is_total,
    count() AS count,
    sum(total_attempts) AS attempts,
    sum(retry_duration_ms) AS retry_duration_ms,
    groupUniqArray(prompt_id) AS _prompts
FROM error_events
WHERE event_name = 'api_retries_exhausted'
GROUP BY GROUPING SETS ((status_code, model), ())
ORDER BY _is_total DESC, count DESC, status_code, model
