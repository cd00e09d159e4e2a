-- Who spends: the main thread, subagents (query_source 'agent:<name>' or 'subagent'), title generation
-- (query_source 'generate_session_title') and other auxiliary requests (compaction, ...), by query_source.
-- Requests are counted as sum(requests): the report reads scope as the rollups' sums (a row of the requests view
-- is one request, requests = 1).
SELECT
    multiIf(query_source = 'generate_session_title', 'title_generation',
            startsWith(query_source, 'agent:') OR query_source = 'subagent', 'subagent',
            agent_product != 'claude_code' OR query_source IN ('', 'main', 'repl_main_thread', 'sdk'), 'main',
            'other') AS role,
    query_source,
    sum(requests) AS requests,
    ifNull(toFloat64(sum(toDecimal128(cost_usd, 12))), 0) AS cost_usd
FROM scope
GROUP BY role, query_source
ORDER BY role, cost_usd DESC, query_source
