-- One session's spans (Claude Code's claude_code.* with session.id; Gemini CLI's with gen_ai.conversation.id),
-- each once however often it was exported.
SELECT Timestamp AS start, Duration AS duration_ns, TraceId AS trace_id, SpanId AS span_id,
       ParentSpanId AS parent_id, SpanName AS name, StatusCode AS status, SpanAttributes AS attributes
FROM otel_traces
WHERE SpanAttributes['session.id'] = {session:String} OR SpanAttributes['gen_ai.conversation.id'] = {session:String}
ORDER BY start, span_id
LIMIT 1 BY trace_id, span_id
LIMIT {limit:UInt32}
