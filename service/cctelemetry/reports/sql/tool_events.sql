-- The tool calls and permission decisions in the window (preceded by `WITH [req AS (...),]`): each event
-- once, however often an exporter retried it (the same session, name, sequence and time).
tool_events AS (
    SELECT timestamp, session_id, event_name,
           attributes['tool_name'] AS tool,
           attributes['success'] AS success,
           toFloat64OrNull(attributes['duration_ms']) AS duration_ms,
           toUInt64OrZero(attributes['tool_input_size_bytes']) AS input_bytes,
           toUInt64OrZero(attributes['tool_result_size_bytes']) AS result_bytes,
           attributes['decision'] AS decision,
           attributes['source'] AS decision_source
    FROM agent_events
    WHERE event_name IN ('tool_result', 'tool_decision') AND ${CONDITIONS}
    LIMIT 1 BY session_id, event_name, sequence, timestamp
)
