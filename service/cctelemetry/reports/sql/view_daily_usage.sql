-- daily_usage: one row per UTC day, agent, model and agent name, with the reports' measures. Reads the
-- `requests` view, so it counts each request once with the service's default pricing settings.
CREATE OR REPLACE VIEW daily_usage AS
SELECT
    toDate(timestamp, 'UTC') AS day,
    agent_product,
    model,
    agent,
    count() AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    toFloat64(sum(toDecimal128(reported_cost_usd, 12))) AS reported_cost_usd,
    toFloat64(sum(toDecimal128(computed_cost_usd, 12))) AS computed_cost_usd,
    toFloat64(sum(toDecimal128(cost_usd, 12))) AS cost_usd
FROM requests
GROUP BY day, agent_product, model, agent
