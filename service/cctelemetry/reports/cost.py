"""Cost reports: cost by any dimensions and period, the reconcile report (computed vs reported), and
the effective price list. Prices come from the price book (cctelemetry.pricing), applied in SQL at
report time by pricing/sql/priced_requests.sql on the same deduplicated requests usage.py reads.
"""

from __future__ import annotations

import logging
from datetime import date

from ..errors import BadRequest
from ..pricing import PriceBook, current_book
from ..pricing.book import CACHE_WRITE_TTLS, COST_MODES, check_choice
from ..store import Store
from ..store.sqlfiles import fragment, ident, load, render
from .query import RequestFilter
from .results import CostReport, PriceList, ReconcileReport
from .scope import Pricing
from .source import FINAL_SETTINGS, priced_per_request
from .usage import BREAKDOWN_MEASURES, USAGE_MEASURES, clean, grouped, nest_cost_by_type, unmatched_filters

PERIODS = ("day", "week", "month")
RECONCILE_LEVELS = ("request", "session", "model")
_RECONCILE_KEYS = {"session": "session_id", "model": "model"}
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

# -- cost by dimensions -----------------------------------------------------------------------------

_COST_MEASURES = (
    USAGE_MEASURES
    + BREAKDOWN_MEASURES
    + """,
    sum(billed_cache_write_5m_tokens) AS cache_write_5m_tokens,
    sum(billed_cache_write_1h_tokens) AS cache_write_1h_tokens,
    sum(web_search_requests) AS web_search_requests,
    sumIf(priced.requests, cost_source = 'reported') AS reported_cost_requests,
    sumIf(priced.requests, cost_source = 'computed') AS computed_cost_requests,
    sumIf(priced.requests, priced_model = '') AS unpriced_requests"""
)


def cost(store: Store, group_by: list[str], flt: RequestFilter, period: str | None = None,
         pricing: Pricing | None = None, book: PriceBook | None = None, limit: int = 10_000) -> CostReport:  # fmt: skip
    """Cost (by the pricing mode) with its parts per token type, grouped by ``period`` and any dimensions."""
    pricing = pricing or Pricing()
    if period:
        check_choice("period", period, PERIODS)
    group_by = list(dict.fromkeys(([period] if period else []) + list(group_by)))
    rows, totals = grouped(store, flt, group_by, _COST_MEASURES, pricing, limit)
    book = book or current_book()
    return CostReport.model_construct(
        group_by=group_by, period=period, mode=pricing.mode, cache_write_ttl=pricing.cache_write_ttl,
        since=flt.since.isoformat(), until=flt.until.isoformat(), tz=flt.tz,
        rows=[nest_cost_by_type(r) for r in rows], totals=nest_cost_by_type(totals),
        unpriced_models=totals.get("unknown_models", []), no_match=unmatched_filters(store, flt, totals),
        prices={"digest": book.digest(), "files": book.files},
    )  # fmt: skip


# -- reconcile --------------------------------------------------------------------------------------


def reconcile(store: Store, flt: RequestFilter, level: str = "request", tolerance: float = DEFAULT_TOLERANCE_USD,
              pricing: Pricing | None = None, book: PriceBook | None = None,
              limit: int = 10_000) -> ReconcileReport:  # fmt: skip
    """Where the computed and the reported cost differ by more than ``tolerance`` (USD per request),
    with the reason when it is known; ``level`` = request | session | model."""
    pricing = Pricing(mode="auto", cache_write_ttl=(pricing or Pricing()).cache_write_ttl)
    check_choice("reconcile level", level, RECONCILE_LEVELS)
    if not tolerance >= 0:
        raise BadRequest(f"tolerance must be a non-negative number of USD, got {tolerance!r}")
    book = book or current_book()
    priced, params = priced_per_request(flt)
    params.update(flt.params(), **pricing.params(), tolerance=float(tolerance), limit=limit)
    head = priced + load(__package__, "reconcile_checked")
    if level == "request":
        rows = store.rows(head + load(__package__, "reconcile_requests") + FINAL_SETTINGS, params)
    else:
        sql = render(load(__package__, "reconcile_grouped"), KEY=fragment(level, _RECONCILE_KEYS),
                     LEVEL=ident(level, RECONCILE_LEVELS))  # fmt: skip
        rows = store.rows(head + sql + FINAL_SETTINGS, params)
    summary = store.rows(head + load(__package__, "reconcile_summary") + FINAL_SETTINGS, params)[0]
    summary["by_reason"] = {k or "matching": int(v) for k, v in sorted(summary["by_reason"].items())}
    unknown = sorted({m for r in rows for m in ([r["model"]] if level == "request" and r["reason"] == "unknown_model"
                                                else r.get("unknown_models", []))})  # fmt: skip
    return ReconcileReport.model_construct(
        level=level, tolerance_usd=tolerance, cache_write_ttl=params["cache_write_ttl"], since=flt.since.isoformat(),
        until=flt.until.isoformat(), tz=flt.tz, summary=clean(summary), unknown_models=unknown, reasons=REASONS,
        rows=[_jsonable(r) for r in rows], prices={"digest": book.digest(), "files": book.files},
    )  # fmt: skip


# -- the price list ---------------------------------------------------------------------------------


def price_list(book: PriceBook, model: str | None = None, day: str | date | None = None) -> PriceList:
    """Every model's prices (USD per million tokens), overrides marked; or how one model id resolves."""
    resolved = None
    models = book.models
    if model:
        hit = book.resolve(model, day)
        resolved = {"model": model, "priced_model": hit.priced_model if hit else "",
                    "effective_from": str(hit.price.effective_from or "") if hit else "",
                    "overridden": hit.overridden if hit else False}  # fmt: skip
        found = book.get(hit.priced_model) if hit else None
        models = [found] if found is not None else []
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
    body = PriceList.model_construct(unit="USD per million tokens", files=book.files, digest=book.digest(), rows=rows)
    if model:
        body.resolved = resolved
    return body


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


__all__ = ["CACHE_WRITE_TTLS", "COST_MODES", "PERIODS", "RECONCILE_LEVELS", "cost", "price_list", "reconcile"]
