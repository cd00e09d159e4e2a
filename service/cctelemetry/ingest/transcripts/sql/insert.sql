-- Transcript import, step 5: the planned rows -> the inbox, as the agent's copies of source 'transcript'
-- (priority 1, below OpenTelemetry's 2: reports take cost, tokens, model and agent from telemetry when both
-- have a request, and the 5m/1h cache-write split, which only transcripts know, from here). The fact writer
-- (ingest/facts.py) takes them in right after, one part of the sessions at a time (a request is in one session,
-- so in one part), so that its working tables hold one part. Their resource
-- attributes are empty, or, for files pushed to a hub, the machine they came from (host.name), as its telemetry
-- names it.
INSERT INTO api_request_inbox
(
    timestamp, agent_product, service_name, session_id, prompt_id, request_id, message_id, request_key,
    user_id, user_email, user_account_uuid, organization_id, model, agent, query_source, speed, project,
    git_branch, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_creation_5m_tokens,
    cache_creation_1h_tokens, cache_split_known, web_search_requests, reported_cost_usd, duration_ms, source,
    source_priority, resource_attributes, reasoning_tokens
)
SELECT
    timestamp, {agent_product:String}, {service_name:String}, session_id, '', request_id, message_id, request_key,
    '', '', '', '', model, agent, '', speed, project,
    git_branch, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_creation_5m_tokens,
    cache_creation_1h_tokens, cache_split_known, web_search_requests, reported_cost_usd, NULL, 'transcript',
    1, mapFromArrays({attribute_keys:Array(String)}, {attribute_values:Array(String)}), reasoning_tokens
FROM ${PLAN}
WHERE write = 1 AND cityHash64(session_id) % {parts:UInt64} = {part:UInt64}
-- the rows are distinct per key already: no need to collapse them while inserting
SETTINGS optimize_on_insert = 0
