"""Sessions: the list (newest first, or most expensive first) and one session's detail (its requests in
order, tool results, errors).

The list sums the usage rows per session (source.py); where the rollup answered, a session's first and last
request are known to the hour, so the list is ranked by that and then made exact from the requests of the
sessions it shows (and of those tied with them at the page's edge).
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import NotFound
from ..pricing.book import check_choice
from ..store import Store
from ..store.rollup import GRAIN
from ..store.sqlfiles import load
from .query import RequestFilter
from .results import SessionDetail, SessionList
from .scope import Pricing
from .source import (
    FINAL_SETTINGS,
    day_grain,
    exact_bounds,
    plan,
    priced_per_request,
    priced_sums,
    report_plan,
    usage_rows,
)
from .usage import USAGE_MEASURES, warn_unpriced

ORDERS = ("last_seen", "cost")
_KEYS = ("session_id", "agent_product", "agent", "project", "user")

_SESSION_MEASURES = (
    """
    min(first_at) AS first_seen,
    max(last_at) AS last_seen,
    any(_k1) AS agent_product,
    arraySort(groupUniqArray(model)) AS models,
    arraySort(groupUniqArray(_k2)) AS agents,
    max(_k3) AS project,
    max(_k4) AS user,"""
    + USAGE_MEASURES
)


def list_sessions(store: Store, flt: RequestFilter, pricing: Pricing | None = None, limit: int = 100,
                  offset: int = 0, order: str = "last_seen", use_rollup: bool = True) -> SessionList:  # fmt: skip
    """One row per session, newest first (or most expensive first, ``order="cost"``).

    In two steps: the page's sessions are picked first (by their last hour, which needs no prices, or by cost),
    then summed and priced in full for those sessions only."""
    pricing = pricing or Pricing()
    check_choice("order", order, ORDERS)
    picked = _pick(store, flt, pricing, limit + offset, order, use_rollup)
    if not picked:
        return SessionList.model_construct(mode=pricing.mode, rows=[], limit=limit, offset=offset)
    also = "session_id IN {sessions:Array(String)}"
    head, params = priced_sums(flt, list(_KEYS), first_last=True, also=also,
                               plan_=report_plan(store, flt, list(_KEYS), use_rollup, also))  # fmt: skip
    params.update(flt.params(), **pricing.params(), sessions=picked)
    rows = store.rows(head + f"SELECT _k0 AS session,{_SESSION_MEASURES}\nFROM priced\nGROUP BY _k0{FINAL_SETTINGS}",
                      params)  # fmt: skip
    if plan(flt, use_rollup).hours is not None and rows and not exact_bounds(flt):
        _exact_times(store, flt, rows)
    rows.sort(key=_sort_key(order))
    rows = rows[offset : offset + limit]
    warn_unpriced(sorted({m for r in rows for m in r["unknown_models"]}))
    return SessionList.model_construct(mode=pricing.mode, rows=[_jsonable(r) for r in rows], limit=limit, offset=offset)


def _pick(store: Store, flt: RequestFilter, pricing: Pricing, want: int, order: str, use_rollup: bool) -> list[str]:
    """The sessions of the first ``want`` rows, and every one tied with the last of them, whose order is then
    settled exactly. By cost: ties on cost. By last request: its exact time where the rollup's bounds are exact
    (``exact_bounds``); else its hour, taken from rows that still hold requests (each row of the rollup's full
    grain), and ties on the hour."""
    if order == "cost":
        head, params = priced_sums(flt, ["session_id"], use_rollup=use_rollup)
        sql = (head + "SELECT _k0 AS session_id FROM priced GROUP BY _k0 "
               f"ORDER BY sum(cost_usd) DESC NULLS LAST LIMIT {{want:UInt64}} WITH TIES{FINAL_SETTINGS}")  # fmt: skip
    else:
        # by the rows' last request when it is exact: a day's row has it as its hours' rows do
        exact = exact_bounds(flt)
        rows, params = usage_rows(flt, plan(flt, use_rollup, days=exact and day_grain(flt, [])))
        where = " AND ".join(flt.conditions()) or "1"
        if exact:
            sql = (f"SELECT session_id FROM ({rows}) WHERE {where} GROUP BY session_id HAVING sum(requests) != 0 "
                   f"ORDER BY max(last_at) DESC LIMIT {{want:UInt64}} WITH TIES{FINAL_SETTINGS}")  # fmt: skip
        else:
            sql = (
                f"SELECT session_id FROM (SELECT session_id, hour FROM ({rows}) WHERE {where} "
                f"GROUP BY {', '.join(GRAIN)} HAVING sum(requests) != 0) "
                f"GROUP BY session_id ORDER BY max(hour) DESC LIMIT {{want:UInt64}} WITH TIES{FINAL_SETTINGS}"
            )
    params.update(flt.params(), **pricing.params(), want=want)
    return [session for (session,) in store.query(sql, params).result_rows]


def _exact_times(store: Store, flt: RequestFilter, rows: list[dict]) -> None:
    """First and last request of each listed session, from its requests (the table is ordered by session)."""
    rows_sql, params = usage_rows(flt, plan(flt, use_rollup=False), per_request=True)
    where = " AND ".join([*flt.conditions(), "session_id IN {sessions:Array(String)}"])
    found = store.query(f"SELECT session_id, min(timestamp), max(timestamp) FROM ({rows_sql}) WHERE {where} "
                        f"GROUP BY session_id{FINAL_SETTINGS}",
                        {**params, **flt.params(), "sessions": [r["session"] for r in rows]}).result_rows  # fmt: skip
    times = {session: (first, last) for session, first, last in found}
    for row in rows:
        row["first_seen"], row["last_seen"] = times.get(row["session"], (row["first_seen"], row["last_seen"]))


def _sort_key(order: str):
    def key(row: dict):
        cost = row["cost_usd"]
        newest = -row["last_seen"].timestamp()
        if order == "cost":
            return (cost is None, -(cost or 0), newest, row["session"])
        return (newest, row["session"])

    return key


def session_detail(store: Store, session_id: str, flt: RequestFilter, pricing: Pricing | None = None) -> SessionDetail:
    pricing = pricing or Pricing()
    one = replace(flt, filters={**flt.filters, "session": session_id})
    head, params = priced_per_request(one)
    params.update(one.params(), **pricing.params(), session=session_id)
    summary = store.rows(
        head + "SELECT session_id AS session, min(timestamp) AS first_seen, max(timestamp) AS last_seen, "
        "any(agent_product) AS agent_product, arraySort(groupUniqArray(model)) AS models, "
        "arraySort(groupUniqArray(agent)) AS agents, max(project) AS project, max(user) AS user,"
        + USAGE_MEASURES
        + "\nFROM priced\nGROUP BY session_id"
        + FINAL_SETTINGS,
        params,
    )
    events = [_jsonable(e) for e in store.rows(load(__package__, "session_events"), params)]
    if not summary and not events:
        raise NotFound(f"no session {session_id!r}")
    requests = [_jsonable(r) for r in store.rows(head + load(__package__, "session_requests") + FINAL_SETTINGS, params)]
    return SessionDetail.model_construct(
        session=_jsonable(summary[0]) if summary else {"session": session_id, "requests": 0},
        requests=requests,
        tool_results=[e for e in events if e["event_name"] == "tool_result"],
        errors=[e for e in events if e["event_name"] in ("api_error", "api_retries_exhausted", "internal_error")
                or e["success"] == "false"],
        events=events,
    )  # fmt: skip


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif k.endswith("_tokens") or k == "requests":
            v = int(v)
        out[k] = v
    return out
