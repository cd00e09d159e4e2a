-- API errors by (status, model, attempt), and by each alone, and in total, in one pass: `_set` says which.
SELECT
    status_code, model, attempt,
    multiIf(grouping(status_code, model, attempt) = 0, 'row', grouping(status_code, model, attempt) = 3, 'status',
            grouping(status_code, model, attempt) = 5, 'model', grouping(status_code, model, attempt) = 6, 'attempt',
            'total') AS _set,
    count() AS errors,
    uniqExact(session_id) AS sessions,
    sum(duration_ms) AS duration_ms
FROM error_events
WHERE event_name = 'api_error'
GROUP BY GROUPING SETS ((status_code, model, attempt), (status_code), (model), (attempt), ())
ORDER BY errors DESC, status_code, model, attempt
