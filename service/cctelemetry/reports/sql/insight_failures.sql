-- Spend on failed or retried requests: the requests of prompts during which the API answered an error
-- (api_error; the client retries), refused (api_refusal) or the client gave up (api_retries_exhausted),
-- from the stored events. A failed attempt reports no tokens: what the data shows is what those prompts cost.
-- `scope` is read once (each mention of it is computed again): its requests are summed per failed prompt, and the
-- others into one row.
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
    GROUP BY session_id, prompt_id
),
spend AS (
    SELECT
        failed,
        if(failed, session_id, '') AS failed_session,
        if(failed, prompt_id, '') AS failed_prompt,
        count() AS requests,
        sum(toDecimal128(cost_usd, 12)) AS usd
    FROM (SELECT *, (session_id, prompt_id) IN (SELECT session_id, prompt_id FROM failed_prompts) AS failed FROM scope)
    GROUP BY failed, failed_session, failed_prompt
)
SELECT
    countIf(s.failed) AS prompts,
    sumIf(f.api_errors, s.failed) AS api_errors,
    sumIf(f.refusals, s.failed) AS refusals,
    sumIf(f.retries_exhausted, s.failed) AS retries_exhausted,
    sumMapIf(f.statuses, s.failed) AS error_statuses,
    sumIf(s.requests, s.failed) AS requests,
    ifNull(toFloat64(sumIf(s.usd, s.failed)), 0) AS prompts_usd,
    ifNull(toFloat64(sum(s.usd)), 0) AS total_usd
FROM spend AS s
LEFT JOIN failed_prompts AS f ON f.session_id = s.failed_session AND f.prompt_id = s.failed_prompt
