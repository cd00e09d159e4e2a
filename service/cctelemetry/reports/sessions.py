"""Sessions: the list (newest first) and one session's detail (its requests in order, tool results, errors)."""

from __future__ import annotations

from ..errors import NotFound
from ..pricing.book import check_choice
from ..store import Store
from ..store.sqlfiles import load
from .query import RequestFilter
from .results import SessionDetail, SessionList
from .scope import Pricing
from .usage import USAGE_MEASURES, warn_unpriced

_ORDERS = {"last_seen": "last_seen DESC", "cost": "cost_usd DESC NULLS LAST, last_seen DESC"}

_SESSION_MEASURES = """
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    any(agent_product) AS agent_product,
    arraySort(groupUniqArray(model)) AS models,
    arraySort(groupUniqArray(agent)) AS agents,
    max(project) AS project,
    max(if(user_email != '', user_email, user_id)) AS user,""" + USAGE_MEASURES


def list_sessions(store: Store, flt: RequestFilter, pricing: Pricing | None = None, limit: int = 100,
                  offset: int = 0, order: str = "last_seen") -> SessionList:  # fmt: skip
    """One row per session, newest first (or most expensive first, ``order="cost"``)."""
    pricing = pricing or Pricing()
    sql = (
        flt.with_priced_requests()
        + f"SELECT session_id AS session,{_SESSION_MEASURES}\nFROM priced\n{flt.where()}\n"
        + f"GROUP BY session_id\nORDER BY {_ORDERS[check_choice('order', order, tuple(_ORDERS))]}, session ASC\n"
        + "LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
    )
    rows = store.rows(sql, {**flt.params(), **pricing.params(), "limit": limit, "offset": offset})
    warn_unpriced(sorted({m for r in rows for m in r["unknown_models"]}))
    return SessionList.model_construct(mode=pricing.mode, rows=[_jsonable(r) for r in rows], limit=limit, offset=offset)



def session_detail(store: Store, session_id: str, flt: RequestFilter, pricing: Pricing | None = None) -> SessionDetail:
    params = {**flt.params(), **(pricing or Pricing()).params(), "session": session_id}
    summary = store.rows(
        flt.with_priced_requests() + f"SELECT session_id AS session,{_SESSION_MEASURES}\nFROM priced\n"
        "WHERE session_id = {session:String}\nGROUP BY session_id",
        params,
    )
    events = [_jsonable(e) for e in store.rows(load(__package__, "session_events"), params)]
    if not summary and not events:
        raise NotFound(f"no session {session_id!r}")
    requests = [_jsonable(r) for r in store.rows(flt.with_priced_requests() + load(__package__, "session_requests"), params)]
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
