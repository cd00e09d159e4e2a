-- Activity per group (and a totals row, first), from the increments in the window.
SELECT${GROUP_COLUMNS}
    toInt64(round(sumIf(increment, metric IN ('claude_code.lines_of_code.count', 'gemini_cli.lines.changed')
                                   AND attributes['type'] = 'added'))) AS lines_added,
    toInt64(round(sumIf(increment, metric IN ('claude_code.lines_of_code.count', 'gemini_cli.lines.changed')
                                   AND attributes['type'] = 'removed'))) AS lines_removed,
    toInt64(round(sumIf(increment, metric = 'claude_code.commit.count'))) AS commits,
    toInt64(round(sumIf(increment, metric = 'claude_code.pull_request.count'))) AS pull_requests,
    toInt64(round(sumIf(increment, metric = 'claude_code.code_edit_tool.decision' AND attributes['decision'] = 'accept'))) AS edits_accepted,
    toInt64(round(sumIf(increment, metric = 'claude_code.code_edit_tool.decision' AND attributes['decision'] = 'reject'))) AS edits_rejected,
    round(sumIf(increment, metric = 'claude_code.active_time.total' AND attributes['type'] = 'user'), 3) AS active_time_user_s,
    round(sumIf(increment, metric = 'claude_code.active_time.total' AND attributes['type'] = 'cli'), 3) AS active_time_cli_s,
    round(sumIf(increment, metric = 'claude_code.active_time.total'), 3) AS active_time_s,
    toInt64(round(sumIf(increment, metric IN ('claude_code.session.count', 'gemini_cli.session.count')))) AS sessions_started
FROM activity
WHERE timestamp >= {since:DateTime64(3, 'UTC')}
${GROUP_BY}
