"""Insights: findings with dollar amounts, each with its numbers and the SQL behind it. Data, not advice.

Each finding is one SQL file (``sql/insight_<kind>.sql``) over ``scope``: the deduplicated, priced requests of
the window and filters (source.py ``priced_per_request``, as every per-request report). A finding's ``sql`` is
that file as anyone can run it (``cctelemetry sql``, ``POST /api/v1/sql``): ``scope`` read from the ``requests``
view, the parameters written in as literals. ``usd`` is the finding's headline amount (its docstring below says which).

A finding that needs no single request (``sums``: it counts with ``sum(requests)`` and groups by dimensions of the
rollups) reads ``scope`` as the priced sums of the rollups instead (source.py ``priced_sums``): the same file, the
same numbers (Decimal sums), in a fraction of the time. A row of the ``requests`` view has ``requests`` = 1.

Dollar amounts are ``cost_usd`` (the report's cost mode) for spend, and the price book's rates (computed) for the
what-ifs: cache reads instead of misses and writes, Sonnet instead of Opus, base rates instead of long context.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from ..store import Store
from ..store.sqlfiles import load
from .query import DIMENSIONS, RequestFilter
from .results import Result, Window
from .scope import Pricing
from .source import FINAL_SETTINGS, priced_per_request, priced_sums

DEFAULTS: dict[str, Any] = {
    "small_output_tokens": 1000,  # an Opus request with at most this much output is "small"
    "compare_model": "claude-sonnet-4-6",  # what small Opus requests are priced as instead
    "min_requests": 3,  # a session needs this many requests before its cache can be said to churn
    "min_churn": 0.5,  # ... and this share of its cache traffic written rather than read
    "top_share": 0.01,  # the top 1 % of sessions by cost
    "list_limit": 20,  # sessions listed in a finding's numbers
}


class Finding(Result):
    kind: str
    title: str
    usd: float | None = Field(description="The finding's dollar amount (see its kind in the docs).")
    numbers: dict[str, Any]
    sql: str = Field(description="The query behind the numbers, runnable as is with POST /api/v1/sql.")


class InsightsReport(Window):
    mode: str
    options: dict[str, Any]
    findings: list[Finding]


@dataclass(frozen=True)
class Insight:
    kind: str
    build: Callable[[list[dict], dict], tuple[str, float | None, dict]]  # rows, params -> (title, usd, numbers)
    sums: bool = False  # its file reads only SUMS_SCOPE's columns of scope, and counts with sum(requests)


# What a finding with ``sums`` may read of ``scope`` besides the priced columns: the rollups' sums by these.
SUMS_SCOPE = ("session_id", "query_source", "agent_product")


def insights(store: Store, flt: RequestFilter, pricing: Pricing, options: dict[str, Any] | None = None,
             view_mode: str = "auto") -> InsightsReport:  # fmt: skip
    """Every finding over the requests ``flt`` selects. ``view_mode``: the cost mode of the ``requests`` view
    (the service's setting), said in a finding's SQL when the report's mode differs."""
    opts = {**DEFAULTS, **{k: v for k, v in (options or {}).items() if v is not None}}
    common = {**flt.params(), **pricing.params(), **opts}
    head, params = priced_per_request(flt)
    requests = (head + ", scope AS (\nSELECT * FROM priced\n)", {**params, **common})
    head, params = priced_sums(flt, list(SUMS_SCOPE))
    named = ", ".join(f"_k{i} AS {name}" for i, name in enumerate(SUMS_SCOPE))
    sums = (head + f", scope AS (\nSELECT *, {named} FROM priced\n)", {**params, **common})
    findings = []
    for insight in INSIGHTS:
        text = load(__package__, f"insight_{insight.kind}")
        scope, params = sums if insight.sums else requests
        rows = store.rows(attach(scope, text) + FINAL_SETTINGS, params)
        title, usd, numbers = insight.build(rows, opts)
        shown = shown_sql(text, flt, params, note=_mode_note(pricing.mode, view_mode))
        findings.append(
            Finding.model_construct(
                kind=insight.kind, title=title, usd=jsonable(usd), numbers=jsonable(numbers), sql=shown
            ).to_dict()
        )
    return InsightsReport.model_construct(since=flt.since.isoformat(), until=flt.until.isoformat(), tz=flt.tz,
                                          mode=pricing.mode, options=opts, findings=findings)  # fmt: skip


# -- the SQL: run with the report helpers, shown over the requests view ------------------------------------------

_HEADER = re.compile(r"^(?:[ \t]*--[^\n]*\n)*")  # matches every text (zero comment lines at least)


def _header_end(text: str) -> int:
    m = _HEADER.match(text)
    assert m is not None  # see _HEADER
    return m.end()


_WITH = re.compile(r"^\s*WITH\s", re.I)
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}")


def attach(ctes: str, text: str) -> str:
    """``ctes`` (``WITH a AS (...), b AS (...)``) followed by a finding's file, whose own ``WITH`` (if any)
    continues the list."""
    body = text[_header_end(text) :]
    m = _WITH.match(body)
    return f"{ctes}\n, {body[m.end() :]}" if m else f"{ctes}\n{body}"


def shown_sql(text: str, flt: RequestFilter, params: dict, note: str = "") -> str:
    """The finding's query as anyone can run it: ``scope`` from the ``requests`` view, parameters as literals."""
    where = ["timestamp >= {since:DateTime64(3, 'UTC')}", "timestamp < {until:DateTime64(3, 'UTC')}"]
    for i, name in enumerate(flt.filters):
        key = flt.attribute_of(name)
        if key is not None:  # resource attributes are not columns of the view: their maps are by id
            where.append(
                "resource_id IN (SELECT resource_id FROM request_resources "
                f"WHERE attributes[{literal(key)}] = {{f{i}:String}})"
            )
        else:
            where.append(f"{DIMENSIONS[name]} = {{f{i}:String}}")
    scope = "WITH scope AS (\n    SELECT * FROM requests\n    WHERE " + "\n      AND ".join(where) + "\n)"
    header = text[: _header_end(text)] + (f"-- {note}\n" if note else "")
    header = re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), header)  # {min_churn} -> 0.5
    sql = header + attach(scope, text)
    return _PARAM.sub(lambda m: literal(params[m.group(1)]) if m.group(1) in params else m.group(0), sql)


def literal(value: Any) -> str:
    """A ClickHouse literal for a parameter value (only ever our own parameters and the report's filter values)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"toDateTime64('{value.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}', 3, 'UTC')"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _mode_note(mode: str, view_mode: str) -> str:
    if mode == view_mode:
        return ""
    return (f"the requests view prices cost_usd in mode {view_mode!r} (CCTELEMETRY_COST_MODE); "
            f"these numbers used mode {mode!r}")  # fmt: skip


# -- the findings ------------------------------------------------------------------------------------------------


def _cache(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: what the uncached input and the cache writes cost (computed)."""
    r = rows[0]
    premium, ratio = r["premium_over_reads_usd"], r["hit_ratio"]
    numbers = dict(r)
    hit = "no input" if ratio is None else f"{ratio:.1%} of input tokens read from the cache"
    return (
        (
            f"Cache: {hit}; uncached input and cache writes cost {money(r['miss_and_write_usd'])}, "
            f"{money(premium)} more than the same tokens at the cache-read rate"
        ),
        r["miss_and_write_usd"],
        numbers,
    )


def _cache_churn(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: cache writes of the sessions whose cache churned."""
    r = rows[0]
    top = [{"session": s, "requests": n, "cache_read_tokens": rd, "cache_creation_tokens": wr, "churn": ch,
            "cache_write_usd": usd, "gaps_over_5m": gaps} for s, n, rd, wr, ch, usd, gaps in r["top"]]  # fmt: skip
    numbers = {"sessions": r["sessions"], "churned_sessions": r["churned_sessions"],
               "churned_cache_write_usd": r["churned_cache_write_usd"], "churned_cost_usd": r["churned_cost_usd"],
               "cache_write_usd": r["all_cache_write_usd"], "min_requests": opts["min_requests"],
               "min_churn": opts["min_churn"], "sessions_listed": top}  # fmt: skip
    return (f"Cache churn: {r['churned_sessions']} of {r['sessions']} sessions wrote at least "
            f"{opts['min_churn']:.0%} of their cache traffic again; their cache writes cost "
            f"{money(r['churned_cache_write_usd'])}"), r["churned_cache_write_usd"], numbers  # fmt: skip


def _model_mix(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: what Opus requests with little output cost."""
    total = sum(r["model_cost_usd"] or 0 for r in rows)
    small = {k: sum(r[k] or 0 for r in rows) for k in ("small_requests", "small_cost_usd", "small_computed_usd",
                                                      "small_compare_usd", "small_not_comparable")}  # fmt: skip
    by_model = [
        {
            "model": r["model_id"],
            "requests": r["requests"],
            "cost_usd": r["model_cost_usd"],
            "share": _ratio(r["model_cost_usd"], total),
        }
        for r in rows
    ]
    opus = [r for r in rows if r["model_id"].startswith("claude-opus")]
    numbers = {
        "by_model": by_model,
        "opus_requests": sum(r["requests"] for r in opus),
        "opus_cost_usd": sum(r["model_cost_usd"] or 0 for r in opus),
        "small_output_tokens": opts["small_output_tokens"],
        "compare_model": opts["compare_model"],
        **small,
        "small_difference_usd": _sub(small["small_computed_usd"], small["small_compare_usd"]),
    }
    return (f"Model mix: {small['small_requests']} Opus requests with at most {opts['small_output_tokens']:,} output "
            f"tokens cost {money(small['small_cost_usd'])}; on {opts['compare_model']} the same tokens cost "
            f"{money(small['small_compare_usd'])}"), small["small_cost_usd"], numbers  # fmt: skip


def _long_context(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: the long-context premium (computed cost at the long-context tier minus the base rates)."""
    r = rows[0]
    premium = _sub(r["long_context_usd"], r["long_context_at_base_usd"])
    numbers = {
        **r,
        "share_of_requests": _ratio(r["long_context_requests"], r["requests"]),
        "share_of_computed_usd": _ratio(r["long_context_usd"], r["computed_usd"]),
        "premium_usd": premium,
    }
    return (
        (
            f"Long context: {r['long_context_requests']} of {r['requests']} requests priced at the long-context "
            f"tier, {money(r['long_context_usd'])}; the premium over base rates is {money(premium)}"
        ),
        premium,
        numbers,
    )


def _failures(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: what the prompts that met API errors, refusals or exhausted retries cost."""
    r = rows[0]
    numbers = {
        **r,
        "error_statuses": dict(r["error_statuses"] or {}),
        "share": _ratio(r["prompts_usd"], r["total_usd"]),
    }
    return (f"Failures: {r['prompts']} prompts met {r['api_errors']} API errors, {r['refusals']} refusals and "
            f"{r['retries_exhausted']} exhausted retries; their {r['requests']} requests cost "
            f"{money(r['prompts_usd'])}"), r["prompts_usd"], numbers  # fmt: skip


def _roles(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: what subagents and title generation cost."""
    total = sum(r["cost_usd"] or 0 for r in rows)
    roles: dict[str, dict] = {}
    for r in rows:
        role = roles.setdefault(r["role"], {"requests": 0, "cost_usd": 0.0, "query_sources": {}})
        role["requests"] += r["requests"]
        role["cost_usd"] += r["cost_usd"] or 0
        role["query_sources"][r["query_source"]] = {"requests": r["requests"], "cost_usd": r["cost_usd"]}
    for role in roles.values():
        role["share"] = _ratio(role["cost_usd"], total)
    sub, title = (roles.get(k, {"cost_usd": 0.0, "share": None}) for k in ("subagent", "title_generation"))
    usd = sub["cost_usd"] + title["cost_usd"]
    return (
        (
            f"Subagents cost {money(sub['cost_usd'])} ({_pct(sub['share'])} of spend), title generation "
            f"{money(title['cost_usd'])} ({_pct(title['share'])})"
        ),
        usd,
        {"roles": roles, "total_usd": total},
    )


def _top_sessions(rows: list[dict], opts: dict) -> tuple[str, float | None, dict]:
    """usd: what the top 1 % of sessions by cost cost."""
    r = rows[0]
    top = [{"session": s, "cost_usd": c, "requests": n} for s, c, n in r["top"]]
    numbers = {
        "top_share": opts["top_share"],
        "sessions": r["session_count"],
        "top_sessions": r["top_sessions"],
        "top_usd": r["top_usd"],
        "total_usd": r["spend_usd"],
        "top_min_usd": r["top_min_usd"],
        "share_of_spend": _ratio(r["top_usd"], r["spend_usd"]),
        "sessions_listed": top,
    }
    if not r["top_sessions"]:
        return "Top sessions: no sessions", 0.0, numbers
    return (f"Top {opts['top_share']:.0%} of sessions: {r['top_sessions']} of {r['session_count']} cost "
            f"{money(r['top_usd'])}, {_pct(numbers['share_of_spend'])} of spend"), r["top_usd"], numbers  # fmt: skip


INSIGHTS = (
    Insight("cache", _cache),
    Insight("cache_churn", _cache_churn),
    Insight("model_mix", _model_mix),
    Insight("long_context", _long_context),
    Insight("failures", _failures),
    Insight("roles", _roles, sums=True),
    Insight("top_sessions", _top_sessions, sums=True),
)


def _ratio(a, b):
    return None if a is None or not b else a / b


def _sub(a, b):
    return None if a is None or b is None else a - b


def money(value) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.6f}".rstrip("0").rstrip(".")


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        # sums of Decimal amounts read back as floats: 10 decimals keep every price-book amount exact
        return None if math.isnan(value) or math.isinf(value) else round(value, 10)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
