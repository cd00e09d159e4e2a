"""Report endpoints: usage by any dimensions, sessions, one session, read-only SQL."""

from __future__ import annotations

from typing import Annotated

from clickhouse_connect.driver.exceptions import DatabaseError
from fastapi import APIRouter, Body, Query

from ...errors import BadRequest
from ...reports.cost import ready_book
from ...reports.query import DIMENSIONS, parse_dimensions
from ...reports.sessions import list_sessions, session_detail
from ...reports.usage import Pricing, usage
from ..deps import FilterDep, SettingsDep, StoreDep
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["reports"])

Format = Annotated[str | None, Query(description="json (default) or csv")]


Mode = Annotated[str | None, Query(description="auto | calculate | display; default the service's setting")]


@router.get("/usage", summary="Requests, tokens and cost grouped by any dimensions")
def get_usage(
    store: StoreDep,
    settings: SettingsDep,
    flt: FilterDep,
    group_by: Annotated[str | None, Query(description=f"Comma-separated: {', '.join(DIMENSIONS)}")] = None,
    mode: Mode = None,
    breakdown: Annotated[bool, Query(description="Add cost_by_type to every row")] = False,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    """Filter on any dimension with `<dimension>=<value>`, e.g. `?group_by=day,model&agent=main`.
    `cost_usd` follows `mode`; `reported_cost_usd` and `computed_cost_usd` are always both there."""
    ready_book(store, settings.prices_file)
    body = usage(store, parse_dimensions(group_by), flt, Pricing.from_settings(settings, mode), breakdown, limit)
    return report_response(body, format, filename="usage")


@router.get("/sessions", summary="One row per session, newest first")
def get_sessions(
    store: StoreDep,
    settings: SettingsDep,
    flt: FilterDep,
    mode: Mode = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    format: Format = None,
):
    ready_book(store, settings.prices_file)
    body = list_sessions(store, flt, Pricing.from_settings(settings, mode), limit, offset)
    return report_response(body, format, filename="sessions")


@router.get("/sessions/{session_id}", summary="A session's requests in order, tool results and errors")
def get_session(session_id: str, store: StoreDep, settings: SettingsDep, flt: FilterDep, mode: Mode = None,
                format: Format = None):  # fmt: skip
    ready_book(store, settings.prices_file)
    body = session_detail(store, session_id, flt, Pricing.from_settings(settings, mode))
    return report_response(body, format, rows_key="requests", filename=session_id)


@router.post("/sql", summary="Run a read-only SQL query")
def post_sql(store: StoreDep, query: Annotated[str, Body(embed=True)], format: Format = None,
             limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000):  # fmt: skip
    try:
        result = store.query_readonly(query, max_rows=limit)
    except DatabaseError as exc:
        raise BadRequest(str(exc).split("\n")[0]) from exc
    rows = [dict(zip(result.column_names, row)) for row in result.result_rows]
    body = {"columns": list(result.column_names), "rows": rows}
    return report_response(jsonable(body), format, filename="query")


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode(errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
