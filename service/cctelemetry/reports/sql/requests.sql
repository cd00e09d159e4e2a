-- One row per model request. Copies from one source collapse under FINAL, and a request that two sources
-- delivered is the row ingest/merge.py wrote (source 'merged': telemetry's cost, tokens, model, agent and
-- duration, the transcript's cache-write split, project and branch), its inputs marked superseded.
-- FINAL merges across partitions on purpose. do_not_merge_across_partitions_select_final (~40% off FINAL)
-- is only right if every copy of a key sits in one partition, a month of timestamp, and they need not: a
-- later transcript import writes a fuller copy of a request stamped with its own line's time, so a response
-- streamed across midnight UTC at a month's end can leave a copy in each month, and both would count.
-- No semicolons here, comments included (see pricing/sql/priced_requests.sql).
SELECT
    agent_product,
    request_key,
    timestamp,
    session_id,
    prompt_id,
    request_id,
    message_id,
    service_name,
    user_id,
    user_email,
    organization_id,
    model,
    agent,
    query_source,
    speed,
    project,
    git_branch,
    input_tokens,
    output_tokens,
    cache_read_tokens,
    cache_creation_tokens,
    reasoning_tokens,
    cache_creation_5m_tokens,
    cache_creation_1h_tokens,
    cache_split_known,
    web_search_requests,
    reported_cost_usd,
    duration_ms,
    if(source = 'merged', 'otel+transcript', toString(source)) AS sources,
    -- one attribute, not the whole map: reports carry every column through pricing
    resource_attributes[{agent_type_attribute:String}] AS agent_type
FROM api_requests FINAL
WHERE superseded = 0
  AND timestamp >= {since:DateTime64(3, 'UTC')} AND timestamp < {until:DateTime64(3, 'UTC')}
