-- The cost of the prompts that ended in exhausted retries: every request of those prompts (from `priced`).
SELECT
    count() AS requests,
    toFloat64(sum(toDecimal128(cost_usd, 12))) AS cost_usd,
    toFloat64(sum(toDecimal128(computed_cost_usd, 12))) AS computed_cost_usd,
    arraySort(groupUniqArrayIf(model, priced_model = '')) AS unknown_models
FROM priced
WHERE prompt_id != '' AND prompt_id IN (
    SELECT prompt_id FROM error_events WHERE event_name = 'api_retries_exhausted' AND prompt_id != '')
