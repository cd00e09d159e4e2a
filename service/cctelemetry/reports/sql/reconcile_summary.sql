-- Reconcile summary: how many requests match, the two costs, and the count per reason.
SELECT count() AS requests,
       countIf(reason = '') AS matching_requests,
       toFloat64(sum(toDecimal128(computed_cost_usd, 12))) AS computed_cost_usd,
       toFloat64(sum(toDecimal128(reported_cost_usd, 12))) AS reported_cost_usd,
       computed_cost_usd - reported_cost_usd AS difference_usd,
       CAST(sumMap(map(reason, toUInt64(1))), 'Map(String, UInt64)') AS by_reason
FROM checked
