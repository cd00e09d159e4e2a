"""Cost endpoints: cost by any dimensions and period, the reconcile report, the price list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...reports.cost import (
    COST_MODES,
    DEFAULT_TOLERANCE_USD,
    PERIODS,
    RECONCILE_LEVELS,
    cost,
    current_book,
    price_list,
    ready_book,
    reconcile,
)
from ...reports.query import DIMENSIONS, parse_dimensions
from ...reports.usage import Pricing
from ..deps import FilterDep, SettingsDep, StoreDep
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["cost"])

Format = Annotated[str | None, Query(description="json (default) or csv")]


@router.get("/cost", summary="Cost by any dimensions and period, with its parts per token type")
def get_cost(
    store: StoreDep,
    settings: SettingsDep,
    flt: FilterDep,
    group_by: Annotated[str | None, Query(description=f"Comma-separated: {', '.join(DIMENSIONS)}")] = None,
    period: Annotated[str | None, Query(description=f"Also group by {' | '.join(PERIODS)} (in tz)")] = None,
    mode: Annotated[str | None, Query(description=f"{' | '.join(COST_MODES)}; default the service's setting")] = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    """`cost_usd` follows `mode`: **auto** = the cost the agent reported when it reported one, else the cost
    computed from tokens and the price book; **calculate** = always computed; **display** = only reported.
    Filter on any dimension with `<dimension>=<value>`."""
    pricing = Pricing.from_settings(settings, mode)
    book = ready_book(store, settings.prices_file)
    body = cost(store, parse_dimensions(group_by), flt, period or None, pricing, book, limit)
    return report_response(body, format, filename="cost")


@router.get("/cost/reconcile", summary="Where the computed and the reported cost differ, and why")
def get_reconcile(
    store: StoreDep,
    settings: SettingsDep,
    flt: FilterDep,
    group_by: Annotated[str, Query(description=f"One of {' | '.join(RECONCILE_LEVELS)}")] = "request",
    tolerance: Annotated[float, Query(ge=0, description="USD per request")] = DEFAULT_TOLERANCE_USD,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    pricing = Pricing.from_settings(settings)
    body = reconcile(store, flt, group_by, tolerance, pricing, ready_book(store, settings.prices_file), limit)
    return report_response(body, format, filename="reconcile")


@router.get("/prices", summary="The effective price list (USD per million tokens), overrides marked")
def get_prices(
    settings: SettingsDep,
    model: Annotated[str | None, Query(description="Show how this model id resolves, and its prices")] = None,
    day: Annotated[str | None, Query(description="Resolve the price in force on this day (YYYY-MM-DD, UTC)")] = None,
    format: Format = None,
):
    book = current_book(settings.prices_file)
    return report_response(price_list(book, model, day), format, filename="prices")
