"""Report endpoints: usage by any dimensions, sessions, one session, read-only SQL. Thin over the report
layer (reports/catalog.py), which the CLI calls too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from ...reports.query import valid_dimensions
from ...reports.results import SessionDetail, SessionList, SqlResult, UsageReport
from ..deps import FiltersDep, Format, Mode, ReportsDep, Since, Tz, Until
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["reports"])

GroupBy = Annotated[str | None, Query(description=f"Comma-separated dimensions: {valid_dimensions()}")]


@router.get("/usage", summary="Requests, tokens and cost grouped by any dimensions", response_model=UsageReport)
def get_usage(
    reports: ReportsDep,
    filters: FiltersDep,
    group_by: GroupBy = None,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Mode = None,
    breakdown: Annotated[bool, Query(description="Add cost_by_type to every row")] = False,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    """Filter on any dimension with `<dimension>=<value>`, e.g. `?group_by=day,model&agent=main` or
    `?group_by=attr.team`. `cost_usd` follows `mode`; `reported_cost_usd` and `computed_cost_usd` are always
    both there. An empty report with filters lists, in `no_match`, the filters that matched nothing."""
    body = reports.usage(group_by, since, until, tz, mode, breakdown, limit, filters)
    return report_response(body, format, filename="usage")


@router.get("/sessions", summary="One row per session, newest first", response_model=SessionList)
def get_sessions(
    reports: ReportsDep,
    filters: FiltersDep,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Mode = None,
    order: Annotated[str, Query(description="last_seen (newest first) or cost (most expensive first)")] = "last_seen",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    format: Format = None,
):
    body = reports.sessions(since, until, tz, mode, limit, offset, order, filters)
    return report_response(body, format, filename="sessions")


@router.get("/sessions/{session_id}", summary="A session's requests in order, tool results and errors",
            response_model=SessionDetail)  # fmt: skip
def get_session(session_id: str, reports: ReportsDep, filters: FiltersDep, since: Since = None, until: Until = None,
                tz: Tz = None, mode: Mode = None, format: Format = None):  # fmt: skip
    body = reports.session(session_id, since, until, tz, mode, filters)
    return report_response(body, format, rows_key="requests", filename="session")


@router.post("/sql", summary="Run a read-only SQL query", response_model=SqlResult)
def post_sql(reports: ReportsDep, query: Annotated[str, Body(embed=True, max_length=100_000)], format: Format = None,
             limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000):  # fmt: skip
    """One SELECT, SHOW, DESCRIBE, EXPLAIN or EXISTS, run read-only within `CCTELEMETRY_SQL_MAX_SECONDS` and at most
    `CCTELEMETRY_SQL_MAX_ROWS` rows (or `limit`, if lower); `truncated` says whether rows were cut. The documented
    views `requests` and `daily_usage` give the reports' numbers (one row per request, duplicates removed)."""
    return report_response(reports.sql(query, limit), format, filename="query")
