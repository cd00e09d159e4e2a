-- The budgets set through the API: the latest revision's JSON (migration 0013, budget_definitions).
SELECT budgets FROM budget_definitions ORDER BY revision DESC LIMIT 1
