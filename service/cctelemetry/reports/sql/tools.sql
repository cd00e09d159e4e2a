-- Per tool (and a totals row, first): calls (tool_result events), outcome, duration quantiles (linear
-- interpolation between ranks, as quantileExactInclusive), permission decisions, input and result sizes.
SELECT
    tool,
    grouping(tool) != 0 AS _is_total,
    countIf(event_name = 'tool_result') AS calls,
    countIf(event_name = 'tool_result' AND success = 'true') AS succeeded,
    countIf(event_name = 'tool_result' AND success = 'false') AS failed,
    if(calls = 0, NULL, round(succeeded / calls, 6)) AS success_rate,
    quantilesExactInclusiveIf(0.5, 0.95)(duration_ms, event_name = 'tool_result' AND duration_ms IS NOT NULL) AS _q,
    if(countIf(event_name = 'tool_result' AND duration_ms IS NOT NULL) = 0, NULL, round(_q[1], 3)) AS p50_duration_ms,
    if(countIf(event_name = 'tool_result' AND duration_ms IS NOT NULL) = 0, NULL, round(_q[2], 3)) AS p95_duration_ms,
    sumIf(duration_ms, event_name = 'tool_result') AS total_duration_ms,
    countIf(event_name = 'tool_decision' AND decision = 'accept') AS accepted,
    countIf(event_name = 'tool_decision' AND decision = 'reject') AS rejected,
    sumIf(input_bytes, event_name = 'tool_result') AS input_bytes,
    sumIf(result_bytes, event_name = 'tool_result') AS result_bytes
FROM tool_events
GROUP BY GROUPING SETS ((tool), ())
ORDER BY _is_total DESC, calls DESC, accepted + rejected DESC, tool ASC
LIMIT {limit:UInt32}
