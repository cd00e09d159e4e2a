-- One session's priced requests (from the CTE `priced`) with their prompt, for the timeline.
SELECT timestamp, prompt_id, request_id, model, agent, query_source, input_tokens, output_tokens,
       cache_read_tokens, cache_creation_tokens, toFloat64(cost_usd) AS cost_usd, duration_ms
FROM priced
WHERE session_id = {session:String}
ORDER BY timestamp, request_key
