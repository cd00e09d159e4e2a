"""Live endpoints: the statusline (which records the official rate limits), the limits, the monitor snapshot
and the current session. Thin over the report layer (reports/limits.py, live.py, current.py) and the
service's live figures (api/live.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import PlainTextResponse

from ...ingest.rate_limits import snapshot_rows
from ...reports.live import statusline_figures
from ...reports.query import zone
from ...reports.results import LimitsReport, MonitorReport, SessionDetail
from ...statusline.hook import Hook
from ...statusline.line import Style, render
from ..deps import FiltersDep, Format, Mode, ReportsDep, SettingsDep, Since, Tz, Until, get_state
from ..live import live_for
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["live"])

STATUSLINE_WAIT_S = 0.25  # the first statusline of a service waits this long for its figures, at most


@router.post("/statusline", summary="Claude Code's statusline input in, the statusline out; records rate_limits")
def post_statusline(
    request: Request,
    settings: SettingsDep,
    hook_input: Annotated[dict[str, Any], Body(description="The JSON Claude Code pipes to a statusline command")],
    format: Annotated[str | None, Query(description="json (default) or text (the line alone)")] = None,
    color: Annotated[bool, Query(description="ANSI colours in the line")] = True,
    tz: Tz = None,
):
    """Stores each window of the input's `rate_limits` (official 5-hour and 7-day usage; a figure that did not
    change is stored again at most every `CCTELEMETRY_LIMITS_SNAPSHOT_SECONDS`) and answers with the line:
    model, the session's cost, today's cost, the active block's cost and time left, burn rate, the official
    percentages with their reset times. The figures come from the service's reports, at most
    `CCTELEMETRY_STATUSLINE_REFRESH_SECONDS` old; this endpoint never waits for a report once it has one."""
    if format not in (None, "", "json", "text"):
        from ...errors import BadRequest

        raise BadRequest(f"unknown format {format!r}: use json or text")
    tz = tz or settings.resolved_tz()
    where = zone(tz)
    hook = Hook.parse(hook_input)
    live = live_for(get_state(request))
    stored = live.recorder.record(snapshot_rows(hook, datetime.now(UTC)))
    snapshot = live.snapshot(STATUSLINE_WAIT_S, tz=tz)
    figures = statusline_figures(snapshot, hook.session_id) if snapshot else None
    line = render(hook, figures, _style(settings, color), tz=where)
    if format == "text":
        return PlainTextResponse(line)
    return {"line": line, "figures": figures, "stored_snapshots": stored}


def _style(settings, color: bool) -> Style:
    return Style(color=color, warn_percent=settings.statusline_warn_percent,
                 critical_percent=settings.statusline_critical_percent,
                 burn_warn_tpm=settings.statusline_burn_warn_tpm,
                 burn_critical_tpm=settings.statusline_burn_critical_tpm)  # fmt: skip


@router.get("/limits", summary="Official rate limits: latest per window, history, cost per 1 %, forecast",
            response_model=LimitsReport)  # fmt: skip
def get_limits(
    reports: ReportsDep,
    filters: FiltersDep,
    since: Annotated[str | None, Query(description="Snapshots and windows from (default 30d)")] = None,
    until: Until = None,
    history: Annotated[int, Query(ge=0, le=100_000, description="How many snapshots to list, newest first")] = 200,
    format: Format = None,
):
    """`windows.five_hour` / `seven_day`: the latest official figure (`source: official`) with its age, `stale`
    and `expired`; its `estimate` now and `forecast` of 100 % (`source: estimated`). `calibration`: cost and
    tokens per 1 % of each window, fitted from the windows observed. Filter with `user=...` (default: the
    person of the newest snapshot)."""
    body = reports.limits(since, until, history, filters)
    return report_response(body, format, rows_key="history", filename="limits")


@router.get(
    "/monitor", summary="Now: active sessions, active blocks, official limits, today", response_model=MonitorReport
)
def get_monitor(
    request: Request,
    settings: SettingsDep,
    filters: FiltersDep,
    session: Annotated[str | None, Query(description="One session (an id); default every active one")] = None,
    active_minutes: Annotated[
        int | None,
        Query(
            ge=1,
            le=10_080,
            description="Active: a request in the last this many minutes (default CCTELEMETRY_MONITOR_ACTIVE_MINUTES)",
        ),
    ] = None,  # fmt: skip
    tz: Tz = None,
    mode: Mode = None,
):
    """What `cctelemetry monitor` shows. The service keeps it computed while it is asked for (at most
    `CCTELEMETRY_STATUSLINE_REFRESH_SECONDS` old), so polling it is cheap."""
    tz = tz or settings.resolved_tz()
    zone(tz)
    filters = {k: v for k, v in filters.items() if k != "session"}  # the session asked for is not a filter here
    params = {"session": session, "active_minutes": active_minutes, "tz": tz, "mode": mode,
              "filters": tuple(sorted(filters.items())) or None}  # fmt: skip
    body = live_for(get_state(request)).snapshot(60.0, **params)
    if body is None:  # the worker failed: compute here, so the error is the caller's answer
        body = get_state(request).reports.monitor(session, active_minutes, tz, mode, filters)
    return body


@router.get("/sessions/current", summary="The session with the latest request (in a project, or a directory's)",
            response_model=SessionDetail)  # fmt: skip
def get_current_session(
    reports: ReportsDep,
    filters: FiltersDep,
    project: Annotated[str | None, Query(description="Only sessions of this project (its path)")] = None,
    cwd: Annotated[str | None, Query(description="A directory: sessions of its project when one is known")] = None,
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Mode = None,
    format: Format = None,
):
    """Filter with any dimension too (`agent=...`). `current.matched_by` says how the session was chosen:
    `project`, `cwd` (the directory's project) or `latest` (no project known for the directory)."""
    body = reports.current_session(project, cwd, since, until, tz, mode, filters)
    return report_response(body, format, rows_key="requests", filename="session")
