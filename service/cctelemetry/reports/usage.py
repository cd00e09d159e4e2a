"""Usage report: requests, tokens and cost grouped by any dimensions."""

from __future__ import annotations

from typing import Any

from ..store import Store
from .query import DIMENSIONS, TIME_DIMENSIONS, RequestFilter

# Money is summed as Decimal128(12): exact, and the same whatever order the rows come in.
MEASURES = [
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "reported_cost_usd",
    "cost_usd",
]

_MEASURES_SQL = """
    count() AS requests,
    sum(req.input_tokens) AS input_tokens,
    sum(req.output_tokens) AS output_tokens,
    sum(req.cache_read_tokens) AS cache_read_tokens,
    sum(req.cache_creation_tokens) AS cache_creation_tokens,
    toFloat64(sum(toDecimal128(req.reported_cost_usd, 12))) AS reported_cost_usd,
    toFloat64(sum(toDecimal128(req.reported_cost_usd, 12))) AS cost_usd"""


def usage(store: Store, group_by: list[str], flt: RequestFilter, limit: int = 10_000) -> dict[str, Any]:
    """``{"group_by": [...], "rows": [...], "totals": {...}}`` for requests matching ``flt``."""
    params = {**flt.params(), "limit": limit}
    body = f"{_MEASURES_SQL}\nFROM req\n{flt.where()}\n"
    rows: list[dict] = []
    if group_by:
        dims = "".join(f"\n    {DIMENSIONS[d]} AS `{d}`," for d in group_by)
        keys = ", ".join(f"`{d}`" for d in group_by)
        sql = f"SELECT{dims}{body}GROUP BY {keys}\nORDER BY {_order(group_by)}\nLIMIT {{limit:UInt32}}"
        rows = [_clean(r) for r in store.rows(flt.with_requests() + sql, params)]
    totals = _clean(store.rows(flt.with_requests() + "SELECT" + body, params)[0])
    return {"group_by": group_by, "since": flt.since.isoformat(), "until": flt.until.isoformat(), "tz": flt.tz,
            "rows": rows, "totals": totals}  # fmt: skip


def _order(group_by: list[str]) -> str:
    times = [f"`{d}` ASC" for d in group_by if d in TIME_DIMENSIONS]
    return ", ".join(times + ["cost_usd DESC", "requests DESC"] + [f"`{d}` ASC" for d in group_by])


def _clean(row: dict) -> dict:
    """JSON-friendly: ints stay ints, a sum over no reported cost stays null."""
    return {k: (int(v) if k.endswith("_tokens") or k == "requests" else v) for k, v in row.items()}
