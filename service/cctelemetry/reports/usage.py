"""Usage report: requests, tokens and cost grouped by any dimensions.

Every grouped report (this one, cost.py) runs ``grouped()``: the usage rows of the window (source.py: the
hourly rollup, and the requests at the window's edges), filtered, summed by the dimensions and what prices
depend on, priced by the price book (pricing/sql/priced_usage.sql), then grouped by the dimensions.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..store import Store
from . import cache as result_cache
from .query import TIME_DIMENSIONS, RequestFilter
from .results import NoMatch, UsageReport
from .scope import Pricing
from .source import FINAL_SETTINGS, plan, priced_sums, report_plan, usage_rows

log = logging.getLogger(__name__)

# The tables a grouped report reads (source.py, pricing/sql/priced_usage.sql): the service reuses a result
# while they are unchanged (cache.py).
READS = ("usage_hourly", "usage_daily", "request_copies", "request_resources", "model_rates", "model_resolutions")

# Money is Decimal128(12) throughout: exact, and the same whatever order the rows come in.
MONEY = "toFloat64(sum(toDecimal128({0}, 12)))"

USAGE_MEASURES = f"""
    sum(requests) AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    {MONEY.format("reported_cost_usd")} AS reported_cost_usd,
    {MONEY.format("computed_cost_usd")} AS computed_cost_usd,
    {MONEY.format("cost_usd")} AS cost_usd,
    arraySort(groupUniqArrayIf(model, priced_model = '')) AS unknown_models"""

BREAKDOWN_MEASURES = f""",
    {MONEY.format("cost_input_usd")} AS cost_input_usd,
    {MONEY.format("cost_output_usd")} AS cost_output_usd,
    {MONEY.format("cost_cache_read_usd")} AS cost_cache_read_usd,
    {MONEY.format("cost_cache_write_5m_usd")} AS cost_cache_write_5m_usd,
    {MONEY.format("cost_cache_write_1h_usd")} AS cost_cache_write_1h_usd,
    {MONEY.format("cost_web_search_usd")} AS cost_web_search_usd"""

COST_TYPES = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "web_search")


def grouped(
    store: Store,
    flt: RequestFilter,
    group_by: list[str],
    measures: str,
    pricing: Pricing,
    limit: int = 10_000,
    use_rollup: bool = True,
    first_last: bool = False,
) -> tuple[list[dict], dict]:
    """(rows, totals) of ``measures`` over the priced requests in ``flt``, grouped by ``group_by``.

    One pass: GROUPING SETS ((dims), ()) gives the rows and the totals row (listed first) together. With
    ``first_last``, ``measures`` may use ``first_at`` and ``last_at`` (source.py).
    """
    flt = replace(flt, group_by=list(group_by))
    exprs = [flt.expression(d) for d in group_by]
    head, params = priced_sums(flt, exprs, first_last, plan_=report_plan(store, flt, exprs, use_rollup))
    params.update(flt.params(), **pricing.params(), limit=limit + 1)
    sql = head + "SELECT"
    if group_by:
        keys = ", ".join(f"`{d}`" for d in group_by)
        sql += (
            "".join(f"\n    _k{i} AS `{d}`," for i, d in enumerate(group_by))
            + f"\n    grouping({keys}) != 0 AS _is_total,"
        )
    sql += f"{measures}\nFROM priced\n"
    if group_by:
        sql += (f"GROUP BY GROUPING SETS (({keys}), ())\nORDER BY _is_total DESC, {_order(group_by)}\n"
                "LIMIT {limit:UInt32}")  # fmt: skip
    sql += FINAL_SETTINGS
    found = _result_rows(store, sql, params)
    totals = {k: v for k, v in found[0].items() if k not in group_by}
    warn_unpriced(totals.get("unknown_models") or [])
    return found[1:], totals


def _result_rows(store: Store, sql: str, params: dict) -> list[dict]:
    """The cleaned rows of ``sql``; in the service, kept while the tables read are unchanged (cache.py),
    and handed out as fresh dicts: callers reshape them."""

    def run() -> list[dict]:
        return clean_rows(store.rows(sql, params), drop="_is_total")

    cache = result_cache.for_store(store)
    if cache is None:
        return run()
    return [dict(r) for r in cache.get(store, READS, (sql, result_cache.params_key(params)), run)]


def usage(store: Store, group_by: list[str], flt: RequestFilter, pricing: Pricing | None = None,
          breakdown: bool = False, limit: int = 10_000, use_rollup: bool = True) -> UsageReport:  # fmt: skip
    """Requests, tokens and cost grouped by ``group_by`` (rows) and over everything (totals). ``use_rollup``
    False reads the requests one by one instead of the rollup (the same numbers, slower: for tests)."""
    pricing = pricing or Pricing()
    measures = USAGE_MEASURES + (BREAKDOWN_MEASURES if breakdown else "")
    rows, totals = grouped(store, flt, group_by, measures, pricing, limit, use_rollup)
    if breakdown:
        rows, totals = [nest_cost_by_type(r) for r in rows], nest_cost_by_type(totals)
    return UsageReport.model_construct(
        group_by=group_by, mode=pricing.mode, cache_write_ttl=pricing.cache_write_ttl, since=flt.since.isoformat(),
        until=flt.until.isoformat(), tz=flt.tz, rows=rows, totals=totals,
        unpriced_models=totals.get("unknown_models", []), no_match=unmatched_filters(store, flt, totals),
    )  # fmt: skip


# Where a value that matched nothing is looked for: the string dimensions people confuse.
_LOOK_IN = ("agent", "agent_type", "query_source", "model", "user", "project", "service", "session", "git_branch",
            "organization", "agent_product", "source")  # fmt: skip


def unmatched_filters(store: Store, flt: RequestFilter, totals: dict) -> list[dict]:
    """For an empty report with filters: each filter that alone matches nothing in the window, and the
    dimensions in which its value does occur (``-w agent=coordinator`` when it is an agent_type)."""
    if not flt.filters or totals.get("requests"):
        return []
    probe = replace(flt, group_by=[*flt.group_by, "agent_type"])  # agent_type is a resource attribute
    columns = []
    for i, name in enumerate(flt.filters):
        value = f"{{f{i}:String}}"
        columns.append(f"sumIf(requests, {probe.expression(name)} = {value}) AS matched{i}")
        columns += [f"sumIf(requests, {probe.expression(d)} = {value}) AS in{i}_{d}" for d in _LOOK_IN]
    rows, params = usage_rows(probe, plan(probe))
    row = store.rows(f"SELECT {', '.join(columns)} FROM ({rows}){FINAL_SETTINGS}", {**params, **probe.params()})[0]
    return [NoMatch(filter=name, value=value, found_in=[d for d in _LOOK_IN if d != name and row[f"in{i}_{d}"]])
            .model_dump() for i, (name, value) in enumerate(flt.filters.items()) if not row[f"matched{i}"]]  # fmt: skip


def nest_cost_by_type(row: dict) -> dict:
    """cost_input_usd, cost_output_usd, ... -> cost_by_type: {input, output, ...}."""
    parts = {t: row.pop(f"cost_{t}_usd") for t in COST_TYPES}
    return {**row, "cost_by_type": parts}


_warned: set[str] = set()


def warn_unpriced(models: list[str]) -> None:
    """Log each model the price book does not know, once per process (its cost is null, never $0)."""
    for model in models:
        if model not in _warned:
            _warned.add(model)
            log.warning("model not in the price book: its computed cost is null", extra={"model": model})


def _order(group_by: list[str]) -> str:
    times = [f"`{d}` ASC" for d in group_by if d in TIME_DIMENSIONS]
    return ", ".join(times + ["cost_usd DESC", "requests DESC"] + [f"`{d}` ASC" for d in group_by])


def clean(row: dict) -> dict:
    """JSON-friendly: token counts and request counts as ints; a sum over nothing stays null."""
    return {k: (int(v) if (k.endswith("_tokens") or k.endswith("requests")) and v is not None else v)
            for k, v in row.items()}  # fmt: skip


def clean_rows(rows: list[dict], drop: str = "") -> list[dict]:
    """``clean`` for rows of one shape, in place and without the column ``drop``. A report by session
    has a row per session: naming the count columns once, not per row, saves milliseconds there."""
    # A column has one type: the counts the engine already gives as ints (its sums of Int64) are left alone.
    first = rows[0] if rows else {}
    counts = [k for k in first if k.endswith(("_tokens", "requests")) and type(first[k]) is not int]
    for row in rows:
        row.pop(drop, None)
        for k in counts:
            if row[k] is not None:
                row[k] = int(row[k])
    return rows
