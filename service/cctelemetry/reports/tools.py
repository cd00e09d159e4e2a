"""Tools: per tool, how often it ran and how it went, how long it took, who allowed or refused it, and how
much went in and out (Claude Code's ``tool_result`` and ``tool_decision`` events)."""

from __future__ import annotations

from ..store import Store
from ..store.sqlfiles import load, render, trusted
from .query import RequestFilter
from .results import ToolsReport
from .signals import EVENT_COLUMNS, SignalFilter


def tools(store: Store, flt: RequestFilter, limit: int = 1000) -> ToolsReport:
    events = SignalFilter(flt, EVENT_COLUMNS)
    head = events.with_requests() + render(load(__package__, "tool_events"), CONDITIONS=trusted(events.conditions()))
    params = {**events.params(), "limit": limit + 1}
    found = store.rows(head + "\n" + load(__package__, "tools"), params)
    decisions = store.rows(head + "\n" + load(__package__, "tool_decisions"), params)
    by_tool: dict[str, dict] = {}
    for d in decisions:
        by_tool.setdefault(d["tool"], {}).setdefault(d["source"], {})[d["decision"]] = int(d["decisions"])
    rows = [_clean(r) for r in found]
    totals = rows[0] if rows else {}
    totals.pop("tool", None)
    for row in rows[1:]:
        row["decisions_by_source"] = by_tool.get(row["tool"], {})
    return ToolsReport.model_construct(since=flt.since.isoformat(), until=flt.until.isoformat(), tz=flt.tz,
                                       rows=rows[1:], totals=totals)  # fmt: skip


def _clean(row: dict) -> dict:
    row.pop("_is_total", None)
    row.pop("_q", None)
    for key in ("calls", "succeeded", "failed", "accepted", "rejected", "input_bytes", "result_bytes"):
        row[key] = int(row[key])
    return row
