-- Spend on failed or retried requests: the requests of prompts during which the API answered an error
-- (api_error; the client retries), refused (api_refusal) or the client gave up (api_retries_exhausted),
-- from the stored events. A failed attempt reports no tokens: what the data shows is what those prompts cost.
WITH failed_prompts AS (
    SELECT
        session_id,
        prompt_id,
        countIf(event_name = 'api_error') AS api_errors,
        countIf(event_name = 'api_refusal') AS refusals,
        countIf(event_name = 'api_retries_exhausted') AS retries_exhausted,
        sumMap(map(if(attributes['status_code'] != '', attributes['status_code'], 'none'), toUInt64(1))) AS statuses
    FROM agent_events
    WHERE event_name IN ('api_error', 'api_refusal', 'api_retries_exhausted')
      AND timestamp >= {since:DateTime64(3, 'UTC')} AND timestamp < {until:DateTime64(3, 'UTC')}
      AND prompt_id != ''
      AND (session_id, prompt_id) IN (SELECT session_id, prompt_id FROM scope)
    GROUP BY session_id, prompt_id
)
SELECT
    (SELECT count() FROM failed_prompts) AS prompts,
    (SELECT sum(api_errors) FROM failed_prompts) AS api_errors,
    (SELECT sum(refusals) FROM failed_prompts) AS refusals,
    (SELECT sum(retries_exhausted) FROM failed_prompts) AS retries_exhausted,
    (SELECT sumMap(statuses) FROM failed_prompts) AS error_statuses,
    count() AS requests,
    ifNull(toFloat64(sum(toDecimal128(cost_usd, 12))), 0) AS prompts_usd,
    (SELECT ifNull(toFloat64(sum(toDecimal128(cost_usd, 12))), 0) FROM scope) AS total_usd
FROM scope
WHERE (session_id, prompt_id) IN (SELECT session_id, prompt_id FROM failed_prompts)
