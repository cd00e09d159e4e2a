-- One session's priced requests in order (from the CTE `priced`, one row per request).
SELECT timestamp, request_id, message_id, model, agent, query_source, speed, input_tokens, output_tokens,
       reasoning_tokens, cache_read_tokens, cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
       cache_split_known, toFloat64(reported_cost_usd) AS reported_cost_usd,
       toFloat64(computed_cost_usd) AS computed_cost_usd, toFloat64(cost_usd) AS cost_usd, cost_source, priced_model,
       duration_ms, sources, project, git_branch
FROM priced
ORDER BY timestamp, request_key
