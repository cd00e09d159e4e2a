-- One session's prompts, tool calls and decisions, and API errors, in order, each once.
SELECT timestamp, event_name, prompt_id, sequence, attributes
FROM agent_events
WHERE session_id = {session:String}
  AND event_name IN ('user_prompt', 'tool_result', 'tool_decision', 'api_error', 'subagent_completed')
ORDER BY timestamp, sequence
LIMIT 1 BY event_name, sequence, timestamp
LIMIT {limit:UInt32}
