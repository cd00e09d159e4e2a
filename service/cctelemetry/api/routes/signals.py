"""Reports over what agents send besides requests: a session's timeline (spans, else events), tools, errors
and activity. Thin over the report layer (reports/catalog.py), which the CLI calls too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...reports.results import ActivityReport, ErrorsReport, Timeline, ToolsReport
from ..deps import FiltersDep, Format, Mode, ReportsDep, Since, Tz, Until
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/sessions/{session_id}/timeline", summary="A session's interactions, model requests and tools, "
            "with durations", response_model=Timeline)  # fmt: skip
def get_timeline(session_id: str, reports: ReportsDep, mode: Mode = None):
    """From spans (`otel_traces`, Claude Code with `CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1`, Gemini CLI with
    traces) while they are kept, else from events: `source` says which. Interactions hold their model
    requests in order; a request holds the tools its answer called; a tool that ran a subagent holds the
    subagent's requests."""
    return reports.timeline(session_id, mode)


@router.get("/tools", summary="Per tool: calls, success rate, p50/p95 duration, decisions by source, bytes",
            response_model=ToolsReport)  # fmt: skip
def get_tools(reports: ReportsDep, filters: FiltersDep, since: Since = None, until: Until = None, tz: Tz = None,
              limit: Annotated[int, Query(ge=1, le=100_000)] = 1000, format: Format = None):  # fmt: skip
    """From Claude Code's `tool_result` and `tool_decision` events. Filters on dimensions a tool call does not
    carry (`model`, `project`, `attr.team`, ...) select the calls of the sessions whose requests match."""
    return report_response(reports.tools(since, until, tz, limit, filters), format, filename="tools")


@router.get("/errors", summary="API errors by status, model and attempt; exhausted retries and their cost",
            response_model=ErrorsReport)  # fmt: skip
def get_errors(reports: ReportsDep, filters: FiltersDep, since: Since = None, until: Until = None, tz: Tz = None,
               mode: Mode = None, format: Format = None):  # fmt: skip
    """From `api_error` and `api_retries_exhausted` events. `retries_exhausted.prompts_cost_usd` is what the
    prompts that ended in exhausted retries had cost (their requests that did succeed)."""
    return report_response(reports.errors(since, until, tz, mode, filters), format, filename="errors")


@router.get("/activity", summary="Lines added and removed, commits, pull requests, edit decisions, active time",
            response_model=ActivityReport)  # fmt: skip
def get_activity(
    reports: ReportsDep,
    filters: FiltersDep,
    group_by: Annotated[
        str | None,
        Query(
            description="day (default), hour, week, month, session, "
            "user, service or agent_product; empty for totals only"
        ),
    ] = "day",
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: Format = None,
):
    """From the agents' counters (`claude_code.lines_of_code.count`, `.commit.count`, `.pull_request.count`,
    `.code_edit_tool.decision`, `.active_time.total`), delta or cumulative."""
    return report_response(reports.activity(group_by, since, until, tz, limit, filters), format,
                           filename="activity")  # fmt: skip
