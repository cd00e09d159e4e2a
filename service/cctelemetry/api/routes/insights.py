"""``GET /api/v1/insights``: findings with dollar amounts, each with its numbers and the SQL behind it. Thin over
the report layer (``Reports.insights``), which the CLI calls too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ...reports.insights import DEFAULTS, InsightsReport
from ..deps import RESERVED_PARAMS, Mode, ReportsDep, Since, Tz, Until

router = APIRouter(prefix="/api/v1", tags=["reports"])

OWN_PARAMS = {"compare_model", "small_output_tokens"}


@router.get("/insights", summary="Findings with dollar amounts, their numbers and SQL", response_model=InsightsReport)
def get_insights(
    request: Request,
    reports: ReportsDep,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Mode = None,
    compare_model: Annotated[
        str | None, Query(description=f"Model small Opus requests are priced as (default {DEFAULTS['compare_model']})")
    ] = None,  # fmt: skip
    small_output_tokens: Annotated[
        int | None,
        Query(ge=0, description=f"Most output tokens of a small request (default {DEFAULTS['small_output_tokens']})"),
    ] = None,  # fmt: skip
):
    """`{"findings": [{"kind", "title", "usd", "numbers": {...}, "sql"}]}` over the window and any report
    filters (`<dimension>=<value>`): `cache` (hit ratio; what uncached input and cache writes cost), `cache_churn`
    (sessions whose cache was mostly re-written), `model_mix` (spend by model; small Opus requests and what
    `compare_model` would have cost), `long_context` (share and premium), `failures` (spend of prompts that met
    API errors, refusals, exhausted retries), `roles` (subagents and title generation), `top_sessions` (the top
    1 % by cost). Each `sql` runs as is through `POST /api/v1/sql`."""
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMS | OWN_PARAMS}
    return reports.insights(since, until, tz, mode, compare_model, small_output_tokens, filters)
