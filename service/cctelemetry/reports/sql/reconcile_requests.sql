-- Reconcile by request: the requests whose computed and reported cost differ, oldest first.
SELECT timestamp, session_id AS session, request_key, agent_product, model, priced_model, price_tier,
       input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_split_known,
       web_search_requests, reported_cost_usd, computed_cost_usd, difference_usd, reason,
       recovered_cache_write_1h_tokens
FROM checked
WHERE reason != ''
ORDER BY timestamp, request_key
LIMIT {limit:UInt32}
