-- API errors and exhausted retries in the window (preceded by `WITH [req AS (...),]`), each event once.
error_events AS (
    SELECT timestamp, session_id, prompt_id, event_name,
           attributes['status_code'] AS status_code,
           attributes['model'] AS model,
           toUInt32OrZero(attributes['attempt']) AS attempt,
           toUInt32OrZero(attributes['total_attempts']) AS total_attempts,
           toFloat64OrNull(attributes['duration_ms']) AS duration_ms,
           toFloat64OrNull(attributes['total_retry_duration_ms']) AS retry_duration_ms
    FROM agent_events
    WHERE event_name IN ('api_error', 'api_retries_exhausted') AND ${CONDITIONS}
    LIMIT 1 BY session_id, event_name, sequence, timestamp
)
