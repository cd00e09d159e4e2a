"""Where a report's numbers come from: the hourly rollup for the whole hours of its window, the requests
themselves for the rest, priced by one SQL (pricing/sql/priced_usage.sql) either way.

The **usage rows** of a window are the rollup's rows (``usage_hourly``) for its whole UTC hours and, for the
parts of an hour at either end (``since=7d`` starts mid-hour), the same columns made from the requests
(store/sql/usage_rows.sql) in those parts. A time zone whose offset is not whole hours (Asia/Kolkata) cannot
be cut by UTC hours: its reports read the requests throughout. So the rollup path and the requests path give
the same rows, and the same numbers (tests/test_rollup_equals_raw.py).

A report whose dimensions and filters read no time finer than a UTC day (by session, by model; by day, week or
month in UTC) takes the window's whole UTC days from the daily rollup (``usage_daily``, the hourly one summed by
day: migration 0015) and only the hours around them from ``usage_hourly``. Its rows are then a day's, with
``at`` the start of the day.

A grouped report first sums the usage rows by its dimensions and what a price depends on (model, UTC day,
speed, long-context flag, kind of reported cost), then prices those sums: cost is linear in tokens and all
money is Decimal, so that is exactly the sum of the requests' prices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ..pricing import priced_usage_sql
from ..store import Store
from ..store.rollup import COLUMNS, MEASURES, usage_rows_sql
from .query import DIMENSIONS, EPOCH, FAR_FUTURE, RequestFilter, zone

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# A window of whole days (the whole history, say) reads the daily rollup alone. Other windows read it for their
# whole days only when there are this many: each rollup read is one more part of the query for the engine to
# analyse (~5 ms), and a week of hours is a few thousand rows at a million requests.
DAYS_AT_LEAST = timedelta(days=28)
# What a per-request view keeps of each request besides the rollup's columns.
PER_REQUEST = (
    ", timestamp AS at, timestamp, request_key, request_id, message_id, prompt_id, user_id, user_email,"
    " duration_ms, source, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_split_known"
)
PRICE_KEYS = ("price_day", "model", "speed", "long_context", "reported_kind")
FINAL_SETTINGS = "\nSETTINGS do_not_merge_across_partitions_select_final = 1"


@dataclass(frozen=True)
class Plan:
    """Which hours the rollups answer for, and which ranges the requests do: ``hours`` is the span of whole hours,
    ``days`` the whole UTC days inside it that the daily rollup answers for (the hourly one then reads the rest)."""

    hours: tuple[datetime, datetime] | None
    raw: tuple[tuple[datetime, datetime], ...]
    days: tuple[datetime, datetime] | None = None

    def hourly(self) -> bool:
        """Whether the hourly rollup has hours to read (not all of them are whole days)."""
        return self.hours is not None and (self.days is None or self.days != self.hours)


def plan(flt: RequestFilter, use_rollup: bool = True, days: bool = False) -> Plan:
    """``days``: the window's whole UTC days may be read from the daily rollup (see ``day_grain``)."""
    if not use_rollup or not whole_hour_zone(flt.tz, flt.since, flt.until):
        return Plan(None, ((flt.since, flt.until),))
    first, last = _ceil_hour(flt.since), _floor_hour(flt.until)
    if first >= last:
        return Plan(None, ((flt.since, flt.until),))
    edges = tuple(r for r in ((flt.since, first), (last, flt.until)) if r[0] < r[1])
    day_first, day_last = _ceil_day(first), _floor_day(last)
    only_days = (day_first, day_last) == (first, last) and not edges
    # (days to come hold nothing: `since=7d` runs to 2200 but has 7 days of rows)
    long_enough = min(day_last, datetime.now(UTC)) - day_first >= DAYS_AT_LEAST
    if days and day_first < day_last and (only_days or long_enough):
        return Plan((first, last), edges, (day_first, day_last))
    return Plan((first, last), edges)


# Time expressions over the usage rows that a day's row answers as exactly as its hours' rows: the UTC day, and the
# day, week and month dimensions when the report's zone is UTC. Any other expression that reads the time `at` (the
# hour dimension, a day in another zone) needs hours.
_DAY_EXPRESSIONS = frozenset((DIMENSIONS["day"], DIMENSIONS["week"], DIMENSIONS["month"]))
_READS_AT = re.compile(r"\bat\b")
_UTC_ZONES = frozenset(("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "UCT", "Etc/UCT", "GMT",
                        "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0", "Greenwich",
                        "Etc/Greenwich"))  # fmt: skip


def day_grain(flt: RequestFilter, keys: list[str]) -> bool:
    """Whether rows summed by UTC day answer ``keys`` and the filter's conditions exactly."""
    timed = [e for e in (*keys, *flt.conditions()) if _READS_AT.search(e)]
    utc = flt.tz in _UTC_ZONES
    return all(e == "toDate(at, 'UTC')" or (utc and e in _DAY_EXPRESSIONS) for e in timed)


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


def _floor_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(moment: datetime) -> datetime:
    floor = _floor_day(moment)
    return floor if floor == moment else floor + DAY


# The rollups' rows of a plan's whole hours and days (parameters from _rollup_params): the hours that are not
# whole days from the hourly one, the days from the daily one.
ROLLUP_HOURS = "hour >= {r0:DateTime('UTC')} AND hour < {r1:DateTime('UTC')}"
NOT_DAYS = " AND (hour < {d0:DateTime('UTC')} OR hour >= {d1:DateTime('UTC')})"
ROLLUP_DAYS = "day >= {d0:DateTime('UTC')} AND day < {d1:DateTime('UTC')}"


def _hourly_condition(plan_: Plan) -> str:
    return ROLLUP_HOURS + (NOT_DAYS if plan_.days is not None else "")


def _rollup_params(plan_: Plan) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if plan_.hours is not None:
        params.update(r0=_naive(plan_.hours[0]), r1=_naive(plan_.hours[1]))
    if plan_.days is not None:
        params.update(d0=_naive(plan_.days[0]), d1=_naive(plan_.days[1]))
    return params


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _raw_ranges(raw: tuple[tuple[datetime, datetime], ...]) -> tuple[list[str], dict[str, Any]]:
    """A condition on the requests' time per range of a plan, and their bound values."""
    ranges = [f"(timestamp >= {{e{i}a:DateTime64(3, 'UTC')}} AND timestamp < {{e{i}b:DateTime64(3, 'UTC')}})"
              for i in range(len(raw))]  # fmt: skip
    bounds = {f"e{i}{end}": _naive(moment) for i, r in enumerate(raw) for end, moment in zip("ab", r, strict=True)}
    return ranges, bounds


def usage_rows(flt: RequestFilter, plan_: Plan, per_request: bool = False) -> tuple[str, dict]:
    """The usage rows of the window (SQL and its parameters), with a column per resource attribute asked for."""
    columns = ", ".join(COLUMNS)
    parts: list[str] = []
    params: dict[str, Any] = {}
    if plan_.days is not None:
        daily = ", ".join("day AS hour" if c == "hour" else c for c in COLUMNS)
        parts.append(f"SELECT {daily}, toDateTime64(day, 3, 'UTC') AS at FROM usage_daily\nWHERE {ROLLUP_DAYS}")
    if plan_.hourly():
        parts.append(f"SELECT {columns}, toDateTime64(hour, 3, 'UTC') AS at FROM usage_hourly\n"
                     f"WHERE {_hourly_condition(plan_)}")  # fmt: skip
    params.update(_rollup_params(plan_))
    extra = PER_REQUEST if per_request else ", timestamp AS at"
    if plan_.raw:
        # one read of the requests for every range (blocks re-read hundreds of single hours: one query part per
        # range would repeat the whole rollup SQL each time, past the engine's max_query_size)
        facts = "SELECT *, toInt8(1) AS sign FROM request_copies FINAL WHERE superseded = 0"
        if plan_.raw != ((EPOCH, FAR_FUTURE),):  # the whole history needs no condition (and views bind nothing)
            ranges, bounds = _raw_ranges(plan_.raw)
            facts += f" AND ({' OR '.join(ranges)})"
            params.update(bounds)
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


def report_plan(store: Store, flt: RequestFilter, keys: list[str], use_rollup: bool = True, also: str = "") -> Plan:
    """The plan ``priced_sums`` makes for these keys, without the ranges at the window's edges that hold no request
    (asked first: ~2 ms). Reading the requests of an edge costs a query ~25 ms of analysis even when it finds
    nothing, and the edge of ``since=7d`` is an hour a week ago, often a quiet one. Copies of any kind count, so a
    range is left out only when it is empty; a request stored there in between is one that came after the report."""
    plan_ = plan(flt, use_rollup, days=day_grain(flt, [*keys, also]))
    if plan_.hours is None or not plan_.raw:
        return plan_
    ranges, bounds = _raw_ranges(plan_.raw)
    sql = f"SELECT {', '.join(f'countIf{r} != 0' for r in ranges)} FROM request_copies WHERE {' OR '.join(ranges)}"
    found = store.query(sql, bounds).result_rows[0]
    return replace(plan_, raw=tuple(r for r, has in zip(plan_.raw, found, strict=True) if has))


def priced_sums(flt: RequestFilter, keys: list[str], first_last: bool = False, use_rollup: bool = True,
                also: str = "", plan_: Plan | None = None) -> tuple[str, dict]:  # fmt: skip
    """``WITH usage AS (...), priced AS (...)``: the usage rows that pass the filters, summed by ``keys`` (SQL
    expressions of this project's dimensions over the usage rows ``u``, as columns ``_k0``, ``_k1``...) and what
    prices depend on, then priced. ``first_last`` adds ``first_at`` / ``last_at`` (see ``exact_bounds``); ``also``
    is one more condition of this project's own (with bound values); ``plan_`` reads other ranges than the
    window's plan (the requests of given hours, say)."""
    plan_ = plan_ or plan(flt, use_rollup, days=day_grain(flt, [*keys, also]))
    conditions = [*flt.conditions(), *([also] if also else [])]
    params: dict[str, Any] = _rollup_params(plan_)
    if plan_.hours is not None and not plan_.raw and not flt.attr_keys() and plan_.days in (None, plan_.hours):
        # whole hours or whole days only: one rollup itself, not the usage rows' subquery (the engine analyses a
        # query's every expression each time: one level fewer is ~5 ms of a report's ~45 at a million requests)
        if plan_.days is not None:
            table, column, where = "usage_daily", "day", ROLLUP_DAYS
        else:
            table, column, where = "usage_hourly", "hour", ROLLUP_HOURS
        source = f"{table} AS u"
        conditions = [where, *conditions]
        at = f"WITH toDateTime64(u.{column}, 3, 'UTC') AS at\n"
        price_day = f"toDate(u.{column})"  # the column's own zone, UTC: no DateTime64 made for it (~5 ms at 10M)
    else:
        rows, params = usage_rows(flt, plan_)
        source, at, price_day = f"({rows}) AS u", "", "toDate(at, 'UTC')"
    named = [f"{expr} AS _k{i}" for i, expr in enumerate(keys)]
    group = [f"_k{i}" for i in range(len(keys))] + list(PRICE_KEYS)
    sums = [f"sum({m}) AS {m}" for m in MEASURES]
    if first_last:
        sums += ["min(first_at) AS first_at", "max(last_at) AS last_at"]
    select = ", ".join(named + [f"{price_day} AS price_day", "model", "speed", "long_context", "reported_kind"]
                       + sums)  # fmt: skip
    where = " AND ".join(conditions) or "1"
    sql = (f"WITH usage AS (\n{at}SELECT {select}\nFROM {source}\nWHERE {where}\nGROUP BY {', '.join(group)}\n"
           f"HAVING requests != 0\n),\npriced AS (\n{priced_usage_sql()}\n)\n")  # fmt: skip
    return sql, params
