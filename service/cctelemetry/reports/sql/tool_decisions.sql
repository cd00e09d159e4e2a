-- Permission decisions per tool, decision source (config, hook, user_permanent, user_temporary,
-- user_abort, user_reject) and decision (accept, reject).
SELECT tool, decision_source AS source, decision, count() AS decisions
FROM tool_events
WHERE event_name = 'tool_decision'
GROUP BY tool, source, decision
ORDER BY tool, source, decision
