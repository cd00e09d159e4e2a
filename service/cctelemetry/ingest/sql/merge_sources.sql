-- The requests among {keys} that two sources delivered (an OTel event and a transcript line), as one
-- 'merged' row: telemetry (source_priority 2) wins for cost, tokens, model, agent and duration; the
-- 5m/1h cache-write split comes from a copy that knows it; project and branch from any copy that has
-- them; the reasoning part of output with the output. A Codex rollout's model wins over telemetry's: it
-- is the model that answered (a model_reroute line), telemetry's is the session's. Rows already merged
-- are left alone (their inputs are superseded).
INSERT INTO api_requests
    (timestamp, agent_product, service_name, session_id, prompt_id, request_id, message_id, request_key, user_id,
     user_email, user_account_uuid, organization_id, model, agent, query_source, speed, project, git_branch,
     input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_creation_5m_tokens,
     cache_creation_1h_tokens, cache_split_known, web_search_requests, reported_cost_usd, duration_ms, source,
     source_priority, resource_attributes, reasoning_tokens)
SELECT
    min(timestamp), agent_product, argMax(service_name, rank), max(session_id), max(prompt_id), max(request_id),
    max(message_id), request_key, max(user_id), max(user_email), max(user_account_uuid), max(organization_id),
    argMax(model, model_rank), argMax(agent, rank), argMax(query_source, rank), argMax(speed, rank), max(project),
    max(git_branch), argMax(input_tokens, rank), argMax(output_tokens, rank), argMax(cache_read_tokens, rank),
    argMax(cache_creation_tokens, rank), argMax(cache_creation_5m_tokens, split_rank),
    argMax(cache_creation_1h_tokens, split_rank), max(cache_split_known), argMax(web_search_requests, rank),
    argMax(reported_cost_usd, rank), argMax(duration_ms, rank), 'merged', 3, argMax(resource_attributes, rank),
    argMax(reasoning_tokens, rank)
FROM
(
    SELECT *, (source_priority, total_tokens) AS rank, (cache_split_known, source_priority, total_tokens) AS split_rank,
           (if(agent_product = 'codex', 3 - source_priority, source_priority), total_tokens) AS model_rank
    FROM api_requests FINAL
    WHERE agent_product = {agent_product:String} AND request_key IN {keys:Array(String)} AND superseded = 0
)
GROUP BY agent_product, request_key
HAVING uniqExact(source) > 1 AND NOT has(groupArray(source), 'merged');

-- Their inputs, re-inserted as superseded (which outranks the live copy under FINAL).
INSERT INTO api_requests
SELECT * EXCEPT (superseded, inserted_at), toUInt8(1), now64(3)  -- no aliases: WHERE would see them
FROM api_requests FINAL
WHERE agent_product = {agent_product:String} AND request_key IN {keys:Array(String)} AND superseded = 0
  AND source != 'merged'
  AND request_key IN (
      SELECT request_key FROM api_requests FINAL
      WHERE agent_product = {agent_product:String} AND request_key IN {keys:Array(String)} AND source = 'merged'
  );
