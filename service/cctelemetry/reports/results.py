"""What each report returns: typed results, the same for the API (its OpenAPI schemas) and the CLI.

Rows are dicts whose keys are the report's dimensions and measures, already JSON-ready (numbers, strings,
ISO times). ``to_dict`` is the JSON body, without re-validating or copying the rows.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Row = dict[str, Any]


class Result(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_dict(self) -> dict[str, Any]:
        body = dict(self.__dict__)
        body.update(self.__pydantic_extra__ or {})
        return body

    def __getitem__(self, key: str) -> Any:
        """``result["rows"]``: a result reads like the JSON body it becomes."""
        return self.to_dict()[key]


class NoMatch(BaseModel):
    filter: str
    value: str
    found_in: list[str] = Field(description="Other dimensions in which the value does occur in the window.")


class Window(Result):
    since: str = Field(description="Start of the window (UTC, ISO 8601).")
    until: str = Field(description="End of the window, exclusive.")
    tz: str = Field(description="Time zone of day/hour/week/month.")


class UsageReport(Window):
    group_by: list[str]
    mode: str = Field(description="How cost_usd is chosen: auto, calculate or display.")
    cache_write_ttl: str
    rows: list[Row]
    totals: Row
    unpriced_models: list[str] = Field(description="Models the price book does not know: their computed cost is null.")
    no_match: list[NoMatch] = Field(
        default_factory=list,
        description="Filters that matched no request, when the report is empty, and where their values occur instead.",
    )


class CostReport(UsageReport):
    period: str | None = None
    prices: dict[str, Any] = Field(description="The price book used: its digest and files.")


class ReconcileReport(Window):
    level: str
    tolerance_usd: float
    cache_write_ttl: str
    summary: Row
    unknown_models: list[str]
    reasons: dict[str, str]
    rows: list[Row]
    prices: dict[str, Any]


class SessionList(Result):
    mode: str
    rows: list[Row]
    limit: int
    offset: int


class SessionDetail(Result):
    session: Row
    requests: list[Row]
    tool_results: list[Row]
    errors: list[Row]
    events: list[Row]


class PriceList(Result):
    digest: str
    files: list[str]
    resolved: Row | None = None
    rows: list[Row]


class SqlResult(Result):
    columns: list[str]
    rows: list[Row]
    truncated: bool = Field(description="True when rows were cut at the row limit.")


class BlockReport(Window):
    mode: str = Field(description="How cost_usd is chosen: auto, calculate or display.")
    cache_write_ttl: str
    session_hours: int = Field(description="Length of a block, in hours (5).")
    now: str = Field(description="The time the report was made (UTC): what is_active and projections are relative to.")
    token_limit: int | str | None = Field(description="The token limit asked for: a number, 'max', or null.")
    blocks: list[Row] = Field(description="Blocks and gap blocks, oldest first; each belongs to one user.")
    totals: Row = Field(description="Over the blocks listed (gaps excluded).")


class LimitsReport(Window):
    now: str
    user: str = Field(description="Whose limits: the user filter, else the person of the newest snapshot.")
    stale_after_seconds: float
    windows: dict[str, Row | None] = Field(
        description="Per window (five_hour, seven_day): the latest official "
        "figure, its age, an estimate of now and a forecast of 100 %."
    )
    history: list[Row] = Field(description="The snapshots, newest first.")
    calibration: dict[str, Row | None] = Field(
        description="Per window: cost and tokens per 1 %, fitted from the windows observed (source: estimated)."
    )


class MonitorReport(Result):
    now: str
    tz: str
    mode: str
    active_minutes: int
    session: str | None = Field(description="The session asked for, or null for every active one.")
    sessions: list[Row] = Field(description="Sessions with a request in the last active_minutes, newest first.")
    blocks: list[Row] = Field(description="Each person's active 5-hour block.")
    limits: Row = Field(description="The official limits (windows, calibration) of the person concerned.")
    today: Row = Field(description="Today's usage per person (rows) and in all (totals), since local midnight.")


class ToolsReport(Window):
    rows: list[Row] = Field(
        description="One row per tool: calls (tool results), succeeded, failed, success_rate, "
        "p50/p95/total duration_ms, accepted/rejected decisions, decisions by source, "
        "input_bytes and result_bytes."
    )
    totals: Row


class ErrorsReport(Window):
    rows: list[Row] = Field(description="API errors by status_code, model and attempt.")
    by_status: list[Row]
    by_model: list[Row]
    by_attempt: list[Row]
    totals: Row
    retries_exhausted: Row = Field(
        description="Requests that failed after every retry: count, by status and "
        "model, and the cost of the prompts they ended."
    )


class ActivityReport(Window):
    group_by: list[str]
    rows: list[Row] = Field(
        description="Lines added and removed, commits, pull requests, edit decisions and active time, per group."
    )
    totals: Row
    edit_decisions: list[Row] = Field(
        description="Edit, Write and NotebookEdit decisions by language, tool, decision and source."
    )


class Timeline(Result):
    session: str
    source: str = Field(description="spans (from traces) or events (from the 400-day event log).")
    interactions: list[Row] = Field(
        description="Interactions (a user prompt and all it caused), each with its "
        "model requests, each request with the tools it called; a tool that ran a "
        "subagent holds the subagent's requests."
    )
