"""Cost reports: cost by any dimensions and period, the reconcile report (computed vs reported), and
the effective price list. Prices come from the price book (cctelemetry.pricing), applied in SQL at
report time by pricing/sql/priced_requests.sql on the same deduplicated requests usage.py reads.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import Any

from clickhouse_connect.driver.exceptions import DatabaseError

from ..errors import BadRequest
from ..pricing import PriceBook, load_book, sync_prices
from ..pricing.book import CACHE_WRITE_TTLS, COST_MODES, check_choice
from ..store import Store
from .query import RequestFilter
from .usage import BREAKDOWN_MEASURES, MONEY, USAGE_MEASURES, Pricing, clean, grouped, nest_cost_by_type

PERIODS = ("day", "week", "month")
RECONCILE_LEVELS = ("request", "session", "model")
DEFAULT_TOLERANCE_USD = 1e-6  # Claude Code's cost_usd_micros resolution

log = logging.getLogger(__name__)

REASONS = {
    "unknown_model": "the model is not in the price book: no computed cost (Claude Code prices unknown models "
    "at its default Opus rates); add it to the prices file",
    "no_reported_cost": "the source reports no cost (transcript rows, Codex, Gemini): only the computed cost exists",
    "long_context_undercount": "the request's input side is above the long-context threshold: the whole request is "
    "priced at the long-context tier, which the client does not apply (its cost_usd is an undercount)",
    "cache_write_1h_recovered": "the cache writes' 5m/1h split is not in the telemetry; the reported cost is met "
    "exactly with recovered_cache_write_1h_tokens of them written for 1 hour",
    "fast_mode_not_priced": "a fast-mode request, but the price book has no fast rates for this model",
    "price_overridden": "the price comes from your prices file, not the one the client used",
    "unexplained": "no known cause: check the price book against the provider's prices for that day",
}

_BOOKS: dict[tuple[str, float], PriceBook] = {}


def current_book(prices_file: str = "") -> PriceBook:
    """The shipped book + ``prices_file``, reloaded when the file changes. The copy the SQL joins is
    synced when the service starts and by ``cctelemetry migrate`` (api/state.py)."""
    mtime = os.stat(prices_file).st_mtime if prices_file and os.path.exists(prices_file) else 0.0
    key = (prices_file, mtime)
    if key not in _BOOKS:
        _BOOKS.clear()
        _BOOKS[key] = load_book(prices_file)
    return _BOOKS[key]


def ready_book(store: Store, prices_file: str = "") -> PriceBook:
    """The current book, synced into the store if it changed since (a no-op when it did not). A read-only
    store (the stack's reader) keeps the copy the last ``cctelemetry migrate`` synced."""
    book = current_book(prices_file)
    try:
        sync_prices(store, book)
    except DatabaseError as exc:
        if "READONLY" not in str(exc) and "ACCESS_DENIED" not in str(exc):
            raise
        log.warning("price book changed but the store is read-only: run `cctelemetry migrate`",
                    extra={"digest": book.digest()})
    return book


# -- cost by dimensions -----------------------------------------------------------------------------

_COST_MEASURES = USAGE_MEASURES + BREAKDOWN_MEASURES + """,
    sum(billed_cache_write_5m_tokens) AS cache_write_5m_tokens,
    sum(billed_cache_write_1h_tokens) AS cache_write_1h_tokens,
    sum(web_search_requests) AS web_search_requests,
    countIf(cost_source = 'reported') AS reported_cost_requests,
    countIf(cost_source = 'computed') AS computed_cost_requests,
    countIf(priced_model = '') AS unpriced_requests"""


def cost(store: Store, group_by: list[str], flt: RequestFilter, period: str | None = None,
         pricing: Pricing | None = None, book: PriceBook | None = None, limit: int = 10_000) -> dict[str, Any]:  # fmt: skip
    """Cost (by the pricing mode) with its parts per token type, grouped by ``period`` and any dimensions."""
    pricing = pricing or Pricing()
    if period:
        check_choice("period", period, PERIODS)
    group_by = list(dict.fromkeys(([period] if period else []) + list(group_by)))
    rows, totals = grouped(store, flt, group_by, _COST_MEASURES, pricing, limit)
    book = book or current_book()
    return {"group_by": group_by, "period": period, "mode": pricing.mode,
            "cache_write_ttl": pricing.cache_write_ttl, "since": flt.since.isoformat(),
            "until": flt.until.isoformat(), "tz": flt.tz, "rows": [nest_cost_by_type(r) for r in rows],
            "totals": nest_cost_by_type(totals), "unpriced_models": totals.get("unknown_models", []),
            "prices": {"digest": book.digest(), "files": book.files}}  # fmt: skip


# -- reconcile --------------------------------------------------------------------------------------

_CHECKED = """
, checked AS (
    SELECT
        *,
        computed_cost_usd - reported_cost_usd AS difference_usd,
        -- the 1h share that makes the computed cost equal the reported one (the cost is linear in it)
        if(cache_write_ttl_assumed = 1 AND price_tier = 'base'
               AND rate_cache_write_1h_per_mtok > rate_cache_write_5m_per_mtok,
           billed_cache_write_1h_tokens + (reported_cost_usd - computed_cost_usd) * 1000000
               / (rate_cache_write_1h_per_mtok - rate_cache_write_5m_per_mtok),
           NULL) AS _h,
        multiIf(
            priced_model = '', 'unknown_model',
            reported_cost_usd IS NULL, 'no_reported_cost',
            abs(difference_usd) <= {tolerance:Float64}, '',
            price_tier = 'long_context' AND reported_cost_usd < computed_cost_usd, 'long_context_undercount',
            _h IS NOT NULL AND _h > -0.05 AND _h < cache_creation_tokens + 0.05 AND abs(_h - round(_h)) < 0.05,
                'cache_write_1h_recovered',
            speed = 'fast' AND price_tier != 'fast', 'fast_mode_not_priced',
            price_overridden = 1, 'price_overridden',
            'unexplained') AS reason,
        if(reason = 'cache_write_1h_recovered', toUInt64(greatest(round(_h), 0)), NULL)
            AS recovered_cache_write_1h_tokens
    FROM priced
    {where}
)
"""

_REQUESTS = """
SELECT timestamp, session_id AS session, request_key, agent_product, model, priced_model, price_tier,
       input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_split_known,
       web_search_requests, reported_cost_usd, computed_cost_usd, difference_usd, reason,
       recovered_cache_write_1h_tokens
FROM checked
WHERE reason != ''
ORDER BY timestamp, request_key
LIMIT {limit:UInt32}
"""

_GROUPED = """
SELECT {key} AS `{name}`,
       count() AS requests,
       countIf(reason != '') AS differing_requests,
       {computed} AS computed_cost_usd,
       {reported} AS reported_cost_usd,
       computed_cost_usd - reported_cost_usd AS difference_usd,
       arraySort(groupUniqArrayIf(reason, reason != '')) AS reasons,
       sum(recovered_cache_write_1h_tokens) AS recovered_cache_write_1h_tokens,
       arraySort(groupUniqArrayIf(model, priced_model = '')) AS unknown_models
FROM checked
GROUP BY `{name}`
HAVING differing_requests > 0
ORDER BY abs(ifNull(difference_usd, 0)) DESC, `{name}` ASC
LIMIT {{limit:UInt32}}
"""

_SUMMARY = f"""
SELECT count() AS requests,
       countIf(reason = '') AS matching_requests,
       {MONEY.format("computed_cost_usd")} AS computed_cost_usd,
       {MONEY.format("reported_cost_usd")} AS reported_cost_usd,
       computed_cost_usd - reported_cost_usd AS difference_usd,
       CAST(sumMap(map(reason, toUInt64(1))), 'Map(String, UInt64)') AS by_reason
FROM checked
"""


def reconcile(store: Store, flt: RequestFilter, level: str = "request", tolerance: float = DEFAULT_TOLERANCE_USD,
              pricing: Pricing | None = None, book: PriceBook | None = None,
              limit: int = 10_000) -> dict[str, Any]:  # fmt: skip
    """Where the computed and the reported cost differ by more than ``tolerance`` (USD per request),
    with the reason when it is known; ``level`` = request | session | model."""
    pricing = Pricing(mode="auto", cache_write_ttl=(pricing or Pricing()).cache_write_ttl)
    check_choice("reconcile level", level, RECONCILE_LEVELS)
    if not tolerance >= 0:
        raise BadRequest(f"tolerance must be a non-negative number of USD, got {tolerance!r}")
    book = book or current_book()
    params = {**flt.params(), **pricing.params(), "tolerance": float(tolerance), "limit": limit}
    head = flt.with_priced_requests() + _CHECKED.replace("{where}", flt.where())
    if level == "request":
        rows = store.rows(head + _REQUESTS, params)
    else:
        key = "session_id" if level == "session" else "model"
        sql = _GROUPED.format(key=key, name=level, computed=MONEY.format("computed_cost_usd"),
                              reported=MONEY.format("reported_cost_usd"))  # fmt: skip
        rows = store.rows(head + sql, params)
    summary = store.rows(head + _SUMMARY, params)[0]
    summary["by_reason"] = {k or "matching": int(v) for k, v in sorted(summary["by_reason"].items())}
    unknown = sorted({m for r in rows for m in ([r["model"]] if level == "request" and r["reason"] == "unknown_model"
                                                else r.get("unknown_models", []))})  # fmt: skip
    return {"level": level, "tolerance_usd": tolerance, "cache_write_ttl": params["cache_write_ttl"],
            "since": flt.since.isoformat(), "until": flt.until.isoformat(), "tz": flt.tz,
            "summary": clean(summary), "unknown_models": unknown, "reasons": REASONS,
            "rows": [_jsonable(r) for r in rows], "prices": {"digest": book.digest(), "files": book.files}}  # fmt: skip


# -- the price list ---------------------------------------------------------------------------------


def price_list(book: PriceBook, model: str | None = None, day: str | date | None = None) -> dict[str, Any]:
    """Every model's prices (USD per million tokens), overrides marked; or how one model id resolves."""
    resolved = None
    models = book.models
    if model:
        hit = book.resolve(model, day)
        resolved = {"model": model, "priced_model": hit.priced_model if hit else "",
                    "effective_from": str(hit.price.effective_from or "") if hit else "",
                    "overridden": hit.overridden if hit else False}  # fmt: skip
        models = [book.get(hit.priced_model)] if hit else []
    rows = []
    for m in models:
        for p in sorted(m.prices, key=lambda p: p.effective_from or date.min):
            lc, fast = p.long_context, p.fast
            rows.append({
                "model": m.id, "provider": m.provider, "aliases": m.aliases, "patterns": m.patterns,
                "effective_from": str(p.effective_from) if p.effective_from else "",
                "input": p.input, "output": p.output, "cache_read": p.cache_read,
                "cache_write_5m": p.cache_write_5m, "cache_write_1h": p.cache_write_1h,
                "long_context_threshold": lc.threshold_tokens if lc else None,
                "long_context": lc.model_dump(exclude={"threshold_tokens"}) if lc else None,
                "fast": fast.model_dump() if fast else None,
                "web_search_per_request": p.web_search_per_request,
                "origin": m.origin, "overridden": p.overridden, "source": p.source,
                "notes": " ".join(x for x in (m.notes, p.notes) if x),
            })  # fmt: skip
    body = {"unit": "USD per million tokens", "files": book.files, "digest": book.digest(), "rows": rows}
    if model:
        body["resolved"] = resolved
    return body


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


__all__ = ["CACHE_WRITE_TTLS", "COST_MODES", "PERIODS", "RECONCILE_LEVELS", "cost", "current_book", "price_list",
           "reconcile"]  # fmt: skip
