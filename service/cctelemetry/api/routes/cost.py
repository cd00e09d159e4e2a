"""Cost endpoints: cost by any dimensions and period, the reconcile report, the price list and its reload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...pricing import current_book, sync_current
from ...reports.cost import COST_MODES, DEFAULT_TOLERANCE_USD, PERIODS, RECONCILE_LEVELS
from ...reports.query import valid_dimensions
from ...reports.results import CostReport, PriceList, ReconcileReport
from ..deps import FiltersDep, Format, ReportsDep, SettingsDep, Since, StoreDep, Tz, Until
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["cost"])


@router.get("/cost", summary="Cost by any dimensions and period, with its parts per token type",
            response_model=CostReport)  # fmt: skip
def get_cost(
    reports: ReportsDep,
    filters: FiltersDep,
    group_by: Annotated[str | None, Query(description=f"Comma-separated: {valid_dimensions()}")] = None,
    period: Annotated[str | None, Query(description=f"Also group by {' | '.join(PERIODS)} (in tz)")] = None,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Annotated[str | None, Query(description=f"{' | '.join(COST_MODES)}; default the service's setting")] = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    """`cost_usd` follows `mode`: **auto** = the cost the agent reported when it reported one, else the cost
    computed from tokens and the price book; **calculate** = always computed; **display** = only reported.
    Filter on any dimension with `<dimension>=<value>`."""
    body = reports.cost(group_by, period, since, until, tz, mode, limit, filters)
    return report_response(body, format, filename="cost")


@router.get("/cost/reconcile", summary="Where the computed and the reported cost differ, and why",
            response_model=ReconcileReport)  # fmt: skip
def get_reconcile(
    reports: ReportsDep,
    filters: FiltersDep,
    group_by: Annotated[str, Query(description=f"One of {' | '.join(RECONCILE_LEVELS)}")] = "request",
    tolerance: Annotated[float, Query(ge=0, le=1e9, description="USD per request")] = DEFAULT_TOLERANCE_USD,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    body = reports.reconcile(group_by, tolerance, since, until, tz, limit, filters)
    return report_response(body, format, filename="reconcile")


@router.get("/prices", summary="The effective price list (USD per million tokens), overrides marked",
            response_model=PriceList)  # fmt: skip
def get_prices(
    reports: ReportsDep,
    model: Annotated[str | None, Query(description="Show how this model id resolves, and its prices")] = None,
    day: Annotated[str | None, Query(description="Resolve the price in force on this day (YYYY-MM-DD, UTC)")] = None,
    format: Format = None,
):
    return report_response(reports.prices(model, day), format, filename="prices")


@router.post("/prices/reload", summary="Read the price files again and sync the book into the store")
def reload_prices(store: StoreDep, settings: SettingsDep) -> dict:
    """The service also notices a changed `CCTELEMETRY_PRICES_FILE` by itself within a few seconds."""
    changed = sync_current(store, settings.prices_file)
    book = current_book(settings.prices_file)
    return {"ok": True, "changed": changed, "digest": book.digest(), "files": book.files}
