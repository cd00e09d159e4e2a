"""Budgets and alerts: ``GET/PUT /api/v1/budgets`` and ``GET /api/v1/alerts``. Thin over the report layer
(``Reports.budgets``, ``put_budgets``, ``alerts``), which the CLI calls too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ...reports.budgets import BudgetSet
from ..deps import ReportsDep, Since, get_state

router = APIRouter(prefix="/api/v1", tags=["budgets"])


@router.get("/budgets", summary="Budgets with their current period's spend and projection")
def get_budgets(reports: ReportsDep) -> dict:
    """Every budget (from `CCTELEMETRY_BUDGETS_FILE`, `source: file`, and from `PUT`, `source: api`) as defined,
    plus its current period (`period_start`, `period_end`), `spent` (USD or tokens, as its amount), `used_pct`,
    `projection` (the spend projected linearly to the period's end, once `projected_overrun.min_elapsed_pct` of
    it has passed; else null), the thresholds `crossed` and a `level` for colours: `ok`, `warning`, `over`."""
    return reports.budgets()


@router.put("/budgets", summary="Replace the budgets set through the API")
def put_budgets(body: BudgetSet, reports: ReportsDep, request: Request) -> dict:
    """Takes `{"budgets": [{"name", "period", "amount_usd" or "amount_tokens", "filters": {...},
    "thresholds": [50, 80, 100], "webhook": "http://...", "projected_overrun": {"enabled": true,
    "min_elapsed_pct": 10}, "tz": "Europe/Paris"}]}`; `period` is `day`, `week`, `month` or `block` (the
    active 5-hour block). The file's budgets stay. Answers as `GET`; the budgets are checked at once."""
    answer = reports.put_budgets(body.model_dump())
    evaluator = getattr(get_state(request), "budget_evaluator", None)
    if evaluator is not None:
        evaluator.wake()
    return answer


@router.get("/alerts", summary="Budget alert history, newest first")
def get_alerts(reports: ReportsDep, budget: Annotated[str | None, Query(description="One budget's alerts")] = None,
               since: Since = None, limit: Annotated[int, Query(ge=1, le=100_000)] = 1000) -> dict:  # fmt: skip
    """`{"alerts": [{"budget", "kind" (threshold | projected), "threshold", "period", "period_start",
    "period_end", "unit", "amount", "spent", "projection", "filters", "fired_at", "webhook", "delivery"
    (none | pending | delivered | failed), "attempts", "last_error"}]}`."""
    return reports.alerts(budget, since, limit)
