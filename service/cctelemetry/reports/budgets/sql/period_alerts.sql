-- The alerts a budget has fired in one period: (kind, threshold) pairs, so each fires once.
SELECT kind, threshold
FROM budget_alerts FINAL
WHERE budget = {budget:String} AND period_start = {period_start:DateTime64(3, 'UTC')}
