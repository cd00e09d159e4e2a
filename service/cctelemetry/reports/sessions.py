"""Sessions: the list (newest first) and one session's detail (its requests in order, tool results, errors)."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..store import Store
from .query import RequestFilter
from .usage import USAGE_MEASURES, Pricing, warn_unpriced

_SESSION_MEASURES = """
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    any(agent_product) AS agent_product,
    arraySort(groupUniqArray(model)) AS models,
    arraySort(groupUniqArray(agent)) AS agents,
    max(project) AS project,
    max(if(user_email != '', user_email, user_id)) AS user,""" + USAGE_MEASURES


def list_sessions(store: Store, flt: RequestFilter, pricing: Pricing | None = None, limit: int = 100,
                  offset: int = 0) -> dict[str, Any]:  # fmt: skip
    pricing = pricing or Pricing()
    sql = (
        flt.with_priced_requests()
        + f"SELECT session_id AS session,{_SESSION_MEASURES}\nFROM priced\n{flt.where()}\n"
        + "GROUP BY session_id\nORDER BY last_seen DESC, session ASC\nLIMIT {limit:UInt32} OFFSET {offset:UInt32}"
    )
    rows = store.rows(sql, {**flt.params(), **pricing.params(), "limit": limit, "offset": offset})
    warn_unpriced(sorted({m for r in rows for m in r["unknown_models"]}))
    return {"mode": pricing.mode, "rows": [_jsonable(r) for r in rows], "limit": limit, "offset": offset}


_REQUESTS = """
SELECT timestamp, request_id, message_id, model, agent, query_source, speed, input_tokens, output_tokens,
       cache_read_tokens, cache_creation_tokens, reasoning_tokens, cache_creation_5m_tokens,
       cache_creation_1h_tokens, cache_split_known, reported_cost_usd, computed_cost_usd, cost_usd, cost_source, priced_model,
       duration_ms, sources, project, git_branch
FROM priced
WHERE session_id = {session:String}
ORDER BY timestamp, request_key
"""

_EVENTS = """
SELECT timestamp, event_name, prompt_id, sequence,
       attributes['tool_name'] AS tool_name,
       attributes['success'] AS success,
       toFloat64OrNull(attributes['duration_ms']) AS duration_ms,
       attributes['decision'] AS decision,
       attributes['error'] AS error,
       attributes['status_code'] AS status_code,
       attributes
FROM agent_events
WHERE session_id = {session:String}
ORDER BY timestamp, sequence
"""


def session_detail(store: Store, session_id: str, flt: RequestFilter, pricing: Pricing | None = None) -> dict[str, Any]:
    params = {**flt.params(), **(pricing or Pricing()).params(), "session": session_id}
    summary = store.rows(
        flt.with_priced_requests() + f"SELECT session_id AS session,{_SESSION_MEASURES}\nFROM priced\n"
        "WHERE session_id = {session:String}\nGROUP BY session_id",
        params,
    )
    events = [_jsonable(e) for e in store.rows(_EVENTS, params)]
    if not summary and not events:
        raise NotFound(f"no session {session_id!r}")
    requests = [_jsonable(r) for r in store.rows(flt.with_priced_requests() + _REQUESTS, params)]
    return {
        "session": _jsonable(summary[0]) if summary else {"session": session_id, "requests": 0},
        "requests": requests,
        "tool_results": [e for e in events if e["event_name"] == "tool_result"],
        "errors": [e for e in events if e["event_name"] in ("api_error", "api_retries_exhausted", "internal_error")
                   or e["success"] == "false"],
        "events": events,
    }  # fmt: skip


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif k.endswith("_tokens") or k == "requests":
            v = int(v)
        out[k] = v
    return out
