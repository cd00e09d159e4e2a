"""Where a report's numbers come from: the hourly rollup for the whole hours of its window, the requests
themselves for the rest, priced by one SQL (pricing/sql/priced_usage.sql) either way.

The **usage rows** of a window are the rollup's rows (``usage_hourly``) for its whole UTC hours and, for the
parts of an hour at either end (``since=7d`` starts mid-hour), the same columns made from the requests
(store/sql/usage_rows.sql) in those parts. A time zone whose offset is not whole hours (Asia/Kolkata) cannot
be cut by UTC hours: its reports read the requests throughout. So the rollup path and the requests path give
the same rows, and the same numbers (tests/test_rollup_equals_raw.py).

A grouped report first sums the usage rows by its dimensions and what a price depends on (model, UTC day,
speed, long-context flag, kind of reported cost), then prices those sums: cost is linear in tokens and all
money is Decimal, so that is exactly the sum of the requests' prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..pricing import priced_usage_sql
from ..store.rollup import COLUMNS, MEASURES, usage_rows_sql
from .query import EPOCH, FAR_FUTURE, RequestFilter, zone

HOUR = timedelta(hours=1)
# What a per-request view keeps of each request besides the rollup's columns.
PER_REQUEST = (
    ", timestamp AS at, timestamp, request_key, request_id, message_id, prompt_id, user_id, user_email,"
    " duration_ms, source, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_split_known"
)
PRICE_KEYS = ("price_day", "model", "speed", "long_context", "reported_kind")
FINAL_SETTINGS = "\nSETTINGS do_not_merge_across_partitions_select_final = 1"


@dataclass(frozen=True)
class Plan:
    """Which hours the rollup answers for, and which ranges the requests do."""

    hours: tuple[datetime, datetime] | None
    raw: tuple[tuple[datetime, datetime], ...]


def plan(flt: RequestFilter, use_rollup: bool = True) -> Plan:
    if not use_rollup or not whole_hour_zone(flt.tz, flt.since, flt.until):
        return Plan(None, ((flt.since, flt.until),))
    first, last = _ceil_hour(flt.since), _floor_hour(flt.until)
    if first >= last:
        return Plan(None, ((flt.since, flt.until),))
    edges = tuple(r for r in ((flt.since, first), (last, flt.until)) if r[0] < r[1])
    return Plan((first, last), edges)


def whole_hour_zone(tz: str, since: datetime, until: datetime) -> bool:
    """True when local hours are UTC hours in the window (every zone but those with a :30 or :45 offset)."""
    info = zone(tz)
    now = datetime.now(UTC)
    moments = {since, min(until, now + timedelta(days=366)), now, since + (min(until, now) - since) / 2}
    return all((m.astimezone(info).utcoffset() or timedelta()) % HOUR == timedelta() for m in moments if m >= since)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + HOUR


# The rollup's rows of a plan's whole hours (parameters from _hours_params).
ROLLUP_HOURS = "hour >= {r0:DateTime('UTC')} AND hour < {r1:DateTime('UTC')}"


def _hours_params(hours: tuple[datetime, datetime]) -> dict[str, Any]:
    return {"r0": _naive(hours[0]), "r1": _naive(hours[1])}


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def usage_rows(flt: RequestFilter, plan_: Plan, per_request: bool = False) -> tuple[str, dict]:
    """The usage rows of the window (SQL and its parameters), with a column per resource attribute asked for."""
    columns = ", ".join(COLUMNS)
    parts: list[str] = []
    params: dict[str, Any] = {}
    if plan_.hours is not None:
        parts.append(f"SELECT {columns}, toDateTime64(hour, 3, 'UTC') AS at FROM usage_hourly\nWHERE {ROLLUP_HOURS}")
        params.update(_hours_params(plan_.hours))
    extra = PER_REQUEST if per_request else ", timestamp AS at"
    if plan_.raw:
        # one read of the requests for every range (blocks re-read hundreds of single hours: one query part per
        # range would repeat the whole rollup SQL each time, past the engine's max_query_size)
        facts = "SELECT *, toInt8(1) AS sign FROM request_copies FINAL WHERE superseded = 0"
        if plan_.raw != ((EPOCH, FAR_FUTURE),):  # the whole history needs no condition (and views bind nothing)
            ranges = [f"(timestamp >= {{e{i}a:DateTime64(3, 'UTC')}} AND timestamp < {{e{i}b:DateTime64(3, 'UTC')}})"
                      for i in range(len(plan_.raw))]  # fmt: skip
            facts += f" AND ({' OR '.join(ranges)})"
            for i, (start, end) in enumerate(plan_.raw):
                params.update({f"e{i}a": _naive(start), f"e{i}b": _naive(end)})
        select = f"SELECT * FROM (WITH facts AS ({facts})\n{usage_rows_sql(extra)})"
        parts.append(select if per_request else f"SELECT {columns}, at FROM ({select})")
    rows = "\nUNION ALL\n".join(parts)
    keys = flt.attr_keys()
    if keys:
        attrs = ", ".join(f"r.attributes[{{attr{i}:String}}] AS _attr{i}" for i in range(len(keys)))
        rows = (f"SELECT u.*, {attrs} FROM ({rows}) AS u\nLEFT JOIN (SELECT resource_id, any(attributes) AS attributes "
                "FROM request_resources GROUP BY resource_id) AS r ON r.resource_id = u.resource_id")  # fmt: skip
    return rows, params


def exact_bounds(flt: RequestFilter) -> bool:
    """Whether the rollup's first/last request times are exact for sums under ``flt``: per session they are (a
    request keeps its time and its session), but a filter on another dimension may have moved a request out of
    the rows it matches (a merge gives a request its project, say) while its time stayed in their bounds."""
    return all(name in ("session", "agent_product") for name in flt.filters)


def priced_per_request(flt: RequestFilter) -> tuple[str, dict]:
    """``WITH usage AS (...), priced AS (...)``: one row per request of the window that passes the filters,
    with its cost. For the per-request views (a session's requests, the reconcile report, the `requests` view)."""
    rows, params = usage_rows(flt, plan(flt, use_rollup=False), per_request=True)
    where = " AND ".join(flt.conditions()) or "1"
    sql = (f"WITH usage AS (\nSELECT *, toDate(at, 'UTC') AS price_day FROM ({rows})\nWHERE {where}\n),\n"
           f"priced AS (\n{priced_usage_sql(explain=True)}\n)\n")  # fmt: skip
    return sql, params


def usage_cte(flt: RequestFilter, name: str = "req") -> tuple[str, dict]:
    """``WITH req AS (...)``: the window's usage rows, unfiltered (``flt.where()`` filters them), for reports
    that need no price: a session's last request, the sessions of a filter. Sum ``requests`` (and keep groups
    where it is not 0): a request merged with another copy of it is taken out of its old row by a row of -1."""
    rows, params = usage_rows(flt, plan(flt))
    return f"WITH {name} AS (\n{rows}\n)\n", params


def priced_sums(flt: RequestFilter, keys: list[str], first_last: bool = False, use_rollup: bool = True,
                also: str = "", plan_: Plan | None = None) -> tuple[str, dict]:  # fmt: skip
    """``WITH usage AS (...), priced AS (...)``: the usage rows that pass the filters, summed by ``keys`` (SQL
    expressions of this project's dimensions over the usage rows ``u``, as columns ``_k0``, ``_k1``...) and what
    prices depend on, then priced. ``first_last`` adds ``first_at`` / ``last_at`` (see ``exact_bounds``); ``also``
    is one more condition of this project's own (with bound values); ``plan_`` reads other ranges than the
    window's plan (the requests of given hours, say)."""
    plan_ = plan_ or plan(flt, use_rollup)
    conditions = [*flt.conditions(), *([also] if also else [])]
    if plan_.hours is not None and not plan_.raw and not flt.attr_keys():
        # whole hours only: the rollup itself, not the usage rows' subquery (the engine analyses a query's every
        # expression each time: one level fewer is ~5 ms of a report's ~45 at a million requests)
        source = "usage_hourly AS u"
        conditions = [ROLLUP_HOURS, *conditions]
        params: dict[str, Any] = _hours_params(plan_.hours)
        at = "WITH toDateTime64(u.hour, 3, 'UTC') AS at\n"
    else:
        rows, params = usage_rows(flt, plan_)
        source, at = f"({rows}) AS u", ""
    named = [f"{expr} AS _k{i}" for i, expr in enumerate(keys)]
    group = [f"_k{i}" for i in range(len(keys))] + list(PRICE_KEYS)
    sums = [f"sum({m}) AS {m}" for m in MEASURES]
    if first_last:
        sums += ["min(first_at) AS first_at", "max(last_at) AS last_at"]
    select = ", ".join(named + ["toDate(at, 'UTC') AS price_day", "model", "speed", "long_context", "reported_kind"]
                       + sums)  # fmt: skip
    where = " AND ".join(conditions) or "1"
    sql = (f"WITH usage AS (\n{at}SELECT {select}\nFROM {source}\nWHERE {where}\nGROUP BY {', '.join(group)}\n"
           f"HAVING requests != 0\n),\npriced AS (\n{priced_usage_sql()}\n)\n")  # fmt: skip
    return sql, params
