"""Activity: lines of code added and removed, commits, pull requests, edit decisions by language, and active
time, from the agents' counters (``claude_code.lines_of_code.count``, ``.commit.count``,
``.pull_request.count``, ``.code_edit_tool.decision``, ``.active_time.total``; kept in ``agent_metrics``,
migration 0014), by day or another dimension the points carry."""

from __future__ import annotations

from ..store import Store
from ..store.sqlfiles import load, render, trusted
from .query import TIME_DIMENSIONS, RequestFilter, parse_dimensions
from .results import ActivityReport
from .signals import METRIC_COLUMNS, SignalFilter


def activity(store: Store, flt: RequestFilter, group_by: str | None = "day", limit: int = 10_000) -> ActivityReport:
    points = SignalFilter(flt, METRIC_COLUMNS)
    dims = parse_dimensions(group_by)
    columns = "".join(f"\n    {points.expression(d)} AS `{d}`," for d in dims)
    grouping = ""
    if dims:
        keys = ", ".join(f"`{d}`" for d in dims)
        order = ", ".join(f"`{d}` ASC" for d in dims if d in TIME_DIMENSIONS) or "active_time_s DESC"
        columns += f"\n    grouping({keys}) != 0 AS _is_total,"
        grouping = (f"GROUP BY GROUPING SETS (({keys}), ())\nORDER BY _is_total DESC, {order}, {keys}\n"
                    "LIMIT {limit:UInt32}")  # fmt: skip
    head = points.with_requests() + render(load(__package__, "activity_points"),
                                           CONDITIONS=trusted(points.conditions(time=False)))  # fmt: skip
    params = {**points.params(), "limit": limit + 1}
    found = store.rows(head + "\n" + render(load(__package__, "activity"), GROUP_COLUMNS=trusted(columns),
                                            GROUP_BY=trusted(grouping)), params)  # fmt: skip
    for row in found:
        row.pop("_is_total", None)
    totals = {k: v for k, v in found[0].items() if k not in dims}
    decisions = store.rows(head + "\n" + load(__package__, "edit_decisions"), params)
    return ActivityReport.model_construct(since=flt.since.isoformat(), until=flt.until.isoformat(), tz=flt.tz,
                                          group_by=dims, rows=found[1:] if dims else [], totals=totals,
                                          edit_decisions=decisions)  # fmt: skip
