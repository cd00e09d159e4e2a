-- Alert history, newest first (budget_alerts, migration 0013; FINAL: the latest delivery state of each).
SELECT budget, kind, threshold, period, period_start, period_end, unit, amount, spent, projection, filters,
       fired_at, webhook, delivery, attempts, last_error
FROM budget_alerts FINAL
WHERE fired_at >= {since:DateTime64(3, 'UTC')}
  AND ({budget:String} = '' OR budget = {budget:String})
  AND ({delivery:String} = '' OR delivery = {delivery:String})
ORDER BY fired_at DESC, budget, kind, threshold
LIMIT {limit:UInt32}
