-- Edit, Write and NotebookEdit permission decisions by language, tool, decision and source, in the window.
SELECT attributes['language'] AS language, attributes['tool_name'] AS tool, attributes['decision'] AS decision,
       attributes['source'] AS source, toInt64(round(sum(increment))) AS decisions
FROM activity
WHERE metric = 'claude_code.code_edit_tool.decision' AND timestamp >= {since:DateTime64(3, 'UTC')}
GROUP BY language, tool, decision, source
ORDER BY decisions DESC, language, tool, decision, source
