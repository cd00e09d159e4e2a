-- session_usage: one row per session, with the reports' measures (like GET /api/v1/sessions).
CREATE OR REPLACE VIEW session_usage AS
SELECT
    session_id,
    any(agent_product) AS agent_product,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    arraySort(groupUniqArray(model)) AS models,
    max(project) AS project,
    max(user) AS user,
    count() AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    toFloat64(sum(toDecimal128(reported_cost_usd, 12))) AS reported_cost_usd,
    toFloat64(sum(toDecimal128(computed_cost_usd, 12))) AS computed_cost_usd,
    toFloat64(sum(toDecimal128(cost_usd, 12))) AS cost_usd
FROM requests
GROUP BY session_id
