-- One session's events (prompts, tool decisions and results, errors), in order.
SELECT timestamp, event_name, prompt_id, sequence,
       attributes['tool_name'] AS tool_name,
       attributes['success'] AS success,
       toFloat64OrNull(attributes['duration_ms']) AS duration_ms,
       attributes['decision'] AS decision,
       attributes['error'] AS error,
       attributes['status_code'] AS status_code,
       attributes
FROM agent_events
WHERE session_id = {session:String}
ORDER BY timestamp, sequence
