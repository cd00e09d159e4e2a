cityHash64(tuple(timestamp, service_name, prompt_id, request_id, message_id, user_id, user_email, user_account_uuid,
    organization_id, model, agent, query_source, speed, effort, skill, plugin, mcp_server, subagent, entrypoint,
    terminal, project, git_branch, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,
    cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_split_known, web_search_requests,
    reported_cost_usd, duration_ms, source_priority, resource_attributes, superseded))
