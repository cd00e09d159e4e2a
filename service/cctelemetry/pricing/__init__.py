"""Prices and cost: the price book (``book``), its copy in ClickHouse (``sync``) and the SQL that
prices usage at report time (``sql/priced_usage.sql``)."""

from __future__ import annotations

from ..store.sqlfiles import load, render, trusted
from .book import (
    CACHE_WRITE_TTLS,
    COST_MODES,
    PriceBook,
    PriceBookError,
    check_choice,
    load_book,
    normalize_model,
)
from .sync import PriceWatcher, current_book, sync_current, sync_prices


def priced_usage_sql(explain: bool = False) -> str:
    """The SELECT that prices the preceding CTE ``usage`` (see the file's header for its columns); ``explain``
    adds the rates applied and how cache writes were taken (priced_usage_explain.sql), for per-request views."""
    extra = load(__package__, "priced_usage_explain") if explain else ""
    return render(load(__package__, "priced_usage"), EXPLAIN=trusted(extra))


def pricing_params(cache_write_ttl: str = "5m", cost_mode: str = "auto") -> dict[str, str]:
    """The bound parameters the SQL needs, checked."""
    return {
        "cache_write_ttl": check_choice("cache write TTL", cache_write_ttl, CACHE_WRITE_TTLS),
        "cost_mode": check_choice("cost mode", cost_mode, COST_MODES),
    }


__all__ = [
    "PriceBook",
    "PriceBookError",
    "load_book",
    "normalize_model",
    "priced_usage_sql",
    "pricing_params",
    "sync_prices",
    "sync_current",
    "current_book",
    "PriceWatcher",
]
