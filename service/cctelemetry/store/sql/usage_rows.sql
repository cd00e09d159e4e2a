-- Requests -> rows of the hourly rollup (usage_hourly): its grain and measures, from the CTE `facts` (rows of
-- request_copies, plus `sign`: +1 to add a request, -1 to take it out). The rollup, its rebuild, the reports'
-- exact edges (the part of a window that is not whole hours) and the per-request views all use this one
-- mapping. The EXTRA token at the end of the list adds the columns a per-request view keeps (none for the
-- rollup).
-- No semicolons here (the file is embedded in other statements).
-- Every column of `facts` is named with its table (f.), never bare: a bare name would be the alias of the
-- same name below, already signed.
SELECT
    toStartOfHour(f.timestamp, 'UTC') AS hour,
    f.agent_product AS agent_product,
    f.session_id AS session_id,
    if(f.user_email != '', f.user_email, f.user_id) AS user,
    f.model AS model,
    f.agent AS agent,
    f.query_source AS query_source,
    f.speed AS speed,
    f.effort AS effort,
    f.skill AS skill,
    f.plugin AS plugin,
    f.mcp_server AS mcp_server,
    f.subagent AS subagent,
    f.entrypoint AS entrypoint,
    f.terminal AS terminal,
    f.service_name AS service_name,
    f.project AS project,
    f.git_branch AS git_branch,
    f.organization_id AS organization_id,
    if(f.source = 'merged', 'otel+transcript', toString(f.source)) AS sources,
    cityHash64(f.resource_attributes) AS resource_id,
    toUInt8(f.input_tokens + f.cache_read_tokens + f.cache_creation_tokens > 200000) AS long_context,
    toUInt8(multiIf(f.reported_cost_usd IS NULL, 0, f.reported_cost_usd != 0, 3,
                    f.input_tokens + f.output_tokens + f.cache_read_tokens + f.cache_creation_tokens + f.web_search_requests > 0, 1,
                    2)) AS reported_kind,
    toInt64(f.sign) AS requests,
    f.sign * toInt64(f.input_tokens) AS input_tokens,
    f.sign * toInt64(f.output_tokens) AS output_tokens,
    f.sign * toInt64(f.reasoning_tokens) AS reasoning_tokens,
    f.sign * toInt64(f.cache_read_tokens) AS cache_read_tokens,
    f.sign * toInt64(f.cache_creation_tokens) AS cache_creation_tokens,
    f.sign * toInt64(if(f.cache_split_known = 1, least(f.cache_creation_1h_tokens, f.cache_creation_tokens), 0)) AS cache_write_1h_known,
    f.sign * toInt64(if(f.cache_split_known = 1, 0, f.cache_creation_tokens)) AS cache_write_unknown,
    f.sign * toInt64(f.web_search_requests) AS web_search_requests,
    toDecimal128(f.sign, 0) * toDecimal128(ifNull(f.reported_cost_usd, 0), 12) AS reported_cost,
    f.timestamp AS first_at,
    f.timestamp AS last_at${EXTRA}
FROM facts AS f
