-- daily_usage: one row per UTC day, agent, model and agent name, with the reports' measures, summed from the
-- hourly rollup and priced like every report (the CTE `priced` of pricing/sql/priced_usage.sql).
SELECT
    _k0 AS day,
    _k1 AS agent_product,
    model,
    _k2 AS agent,
    sum(requests) AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    toFloat64(sum(reported_cost_usd)) AS reported_cost_usd,
    toFloat64(sum(computed_cost_usd)) AS computed_cost_usd,
    toFloat64(sum(cost_usd)) AS cost_usd
FROM priced
GROUP BY day, agent_product, model, agent
