-- One session's priced requests in order (from the CTE `priced`).
SELECT timestamp, request_id, message_id, model, agent, query_source, speed, input_tokens, output_tokens,
       cache_read_tokens, cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
       cache_split_known, reported_cost_usd, computed_cost_usd, cost_usd, cost_source, priced_model,
       duration_ms, sources, project, git_branch
FROM priced
WHERE session_id = {session:String}
ORDER BY timestamp, request_key
