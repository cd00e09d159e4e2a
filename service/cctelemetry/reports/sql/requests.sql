-- One row per model request: the copies of a request (an OTel event, a transcript line, a retried
-- export) merged on (agent_product, request_key). Telemetry (source_priority 2) wins for cost, tokens,
-- model, agent and duration; the 5m/1h cache-write split comes from a copy that knows it; project and
-- git branch from any copy that has them. Within one source the copy with the most tokens wins.
SELECT
    agent_product,
    request_key,
    min(timestamp) AS timestamp,
    max(session_id) AS session_id,
    max(prompt_id) AS prompt_id,
    max(request_id) AS request_id,
    max(message_id) AS message_id,
    argMax(service_name, rank) AS service_name,
    max(user_id) AS user_id,
    max(user_email) AS user_email,
    max(organization_id) AS organization_id,
    argMax(model, rank) AS model,
    argMax(agent, rank) AS agent,
    argMax(query_source, rank) AS query_source,
    argMax(speed, rank) AS speed,
    max(project) AS project,
    max(git_branch) AS git_branch,
    argMax(input_tokens, rank) AS input_tokens,
    argMax(output_tokens, rank) AS output_tokens,
    argMax(cache_read_tokens, rank) AS cache_read_tokens,
    argMax(cache_creation_tokens, rank) AS cache_creation_tokens,
    argMax(cache_creation_5m_tokens, split_rank) AS cache_creation_5m_tokens,
    argMax(cache_creation_1h_tokens, split_rank) AS cache_creation_1h_tokens,
    max(cache_split_known) AS cache_split_known,
    argMax(web_search_requests, rank) AS web_search_requests,
    argMax(reported_cost_usd, rank) AS reported_cost_usd,
    argMax(duration_ms, rank) AS duration_ms,
    arrayStringConcat(arraySort(groupUniqArray(source)), '+') AS sources,
    argMax(resource_attributes, rank) AS resource_attributes
FROM
(
    SELECT *, total_tokens, (source_priority, total_tokens) AS rank, (cache_split_known, source_priority, total_tokens) AS split_rank
    FROM api_requests
    WHERE timestamp >= {since:DateTime64(3, 'UTC')} AND timestamp < {until:DateTime64(3, 'UTC')}
)
GROUP BY agent_product, request_key
