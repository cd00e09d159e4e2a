-- Reconcile by session or model (${KEY} AS ${LEVEL}): where the costs differ, largest difference first.
-- Money is summed as Decimal128(12): exact whatever the row order.
SELECT ${KEY} AS ${LEVEL},
       count() AS requests,
       countIf(reason != '') AS differing_requests,
       toFloat64(sum(toDecimal128(computed_cost_usd, 12))) AS computed_cost_usd,
       toFloat64(sum(toDecimal128(reported_cost_usd, 12))) AS reported_cost_usd,
       computed_cost_usd - reported_cost_usd AS difference_usd,
       arraySort(groupUniqArrayIf(reason, reason != '')) AS reasons,
       sum(recovered_cache_write_1h_tokens) AS recovered_cache_write_1h_tokens,
       arraySort(groupUniqArrayIf(model, priced_model = '')) AS unknown_models
FROM checked
GROUP BY ${LEVEL}
HAVING differing_requests > 0
ORDER BY abs(ifNull(difference_usd, 0)) DESC, ${LEVEL} ASC
LIMIT {limit:UInt32}
