"""Errors: API errors by status, model and attempt, and the requests that failed after every retry, with
what the prompts they ended had cost (Claude Code's ``api_error`` and ``api_retries_exhausted`` events)."""

from __future__ import annotations

from typing import Any

from ..store import Store
from ..store.sqlfiles import load, render, trusted
from .query import RequestFilter
from .results import ErrorsReport
from .scope import Pricing
from .signals import EVENT_COLUMNS, SignalFilter
from .source import FINAL_SETTINGS, priced_per_request

# An error event carries its model and query source: compared on the event, not through its session.
ERROR_COLUMNS = {**EVENT_COLUMNS, "model": "attributes['model']", "query_source": "attributes['query_source']"}
_SETS = {"status": ("status_code",), "model": ("model",), "attempt": ("attempt",)}


def errors(store: Store, flt: RequestFilter, pricing: Pricing | None = None) -> ErrorsReport:
    events = SignalFilter(flt, ERROR_COLUMNS)
    cte = render(load(__package__, "error_events"), CONDITIONS=trusted(events.conditions()))
    params = {**events.params(), **(pricing or Pricing()).params()}
    found = store.rows(events.with_requests() + cte + "\n" + load(__package__, "errors"), params)
    sets: dict[str, list[dict]] = {"row": [], "status": [], "model": [], "attempt": [], "total": []}
    for row in found:
        kind = row.pop("_set")
        keep = _SETS.get(kind, ("status_code", "model", "attempt") if kind == "row" else ())
        sets[kind].append({**{k: row[k] for k in keep}, "errors": int(row["errors"]),
                           "sessions": int(row["sessions"]), "duration_ms": row["duration_ms"]})  # fmt: skip
    totals = sets["total"][0] if sets["total"] else {"errors": 0, "sessions": 0, "duration_ms": None}
    return ErrorsReport.model_construct(
        since=flt.since.isoformat(), until=flt.until.isoformat(), tz=flt.tz, rows=sets["row"],
        by_status=sets["status"], by_model=sets["model"], by_attempt=sets["attempt"], totals=totals,
        retries_exhausted=_retries_exhausted(store, flt, events, cte, params),
    )  # fmt: skip


def _retries_exhausted(store: Store, flt: RequestFilter, events: SignalFilter, cte: str, params: dict) -> dict:
    found = store.rows(events.with_requests() + cte + "\n" + load(__package__, "retries_exhausted"), params)
    rows = [
        {
            "status_code": r["status_code"],
            "model": r["model"],
            "count": int(r["count"]),
            "attempts": int(r["attempts"]),
            "retry_duration_ms": r["retry_duration_ms"],
        }
        for r in found[1:]
    ]
    total: dict[str, Any] = found[0] if found else {"count": 0, "attempts": 0, "retry_duration_ms": None}
    cost: dict[str, Any] = {"requests": 0, "cost_usd": None, "computed_cost_usd": None, "unknown_models": []}
    if int(total["count"]):
        head, request_params = priced_per_request(flt)
        cost = store.rows(
            head.rstrip() + ",\n" + cte + "\n" + load(__package__, "failed_prompts_cost") + FINAL_SETTINGS,
            {**params, **request_params},
        )[0]
        cost["requests"] = int(cost["requests"])
    return {"count": int(total["count"]), "attempts": int(total["attempts"]),
            "retry_duration_ms": total["retry_duration_ms"], "rows": rows,
            "prompts_cost_usd": cost["cost_usd"], "prompts_computed_cost_usd": cost["computed_cost_usd"],
            "prompts_requests": cost["requests"], "unknown_models": cost["unknown_models"]}  # fmt: skip
