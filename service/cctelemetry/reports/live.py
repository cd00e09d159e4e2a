"""What is happening now, in one answer (``cctelemetry monitor``, ``GET /api/v1/monitor``, and the figures
the statusline shows): the sessions active in the last minutes with their cost, tokens, burn rate and cache
hit ratio; each person's active 5-hour block; the official limits with their estimate and forecast; and
today's totals per person. Or all of that for one session (its person's block, limits and day).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..store import Store
from ..store.sqlfiles import load, render, trusted
from .blocks import blocks, burn_rate, iso, utc
from .limits import limits
from .query import EPOCH, FAR_FUTURE, RequestFilter
from .results import MonitorReport
from .scope import Pricing
from .source import FINAL_SETTINGS, priced_sums
from .usage import USAGE_MEASURES, clean, usage

SESSION_LOOKBACK = timedelta(days=7)  # an active session's totals cover at most its last week
MAX_SESSIONS = 50


def monitor(
    store: Store,
    flt: RequestFilter,
    pricing: Pricing | None = None,
    *,
    session: str | None = None,
    active_minutes: int = 30,
    stale_seconds: float = 600,
    now: datetime | None = None,
) -> MonitorReport:
    """``flt``'s filters narrow everything (``user=...``); its window is not used: this is about now."""
    pricing = pricing or Pricing()
    now = now or datetime.now(UTC)
    sessions = live_sessions(store, flt, pricing, session, active_minutes, now)
    scope = dict(flt.filters)
    if session is not None and sessions:
        scope["user"] = sessions[0]["user"]
    people = replace(flt, since=EPOCH, until=FAR_FUTURE, filters=scope)
    active = blocks(store, people, pricing, active=True, now=now)["blocks"]
    midnight = now.astimezone(ZoneInfo(flt.tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    today = usage(store, ["user"], replace(people, since=midnight.astimezone(UTC)), pricing)
    limit_scope = {"user": scope["user"]} if "user" in scope else {}
    official = limits(store, replace(flt, since=now - timedelta(days=30), until=FAR_FUTURE, filters=limit_scope),
                      pricing, stale_seconds=stale_seconds, history=0, now=now)  # fmt: skip
    return MonitorReport.model_construct(
        now=iso(now), tz=flt.tz, mode=pricing.mode, active_minutes=active_minutes, session=session,
        sessions=sessions, blocks=active,
        limits={"user": official["user"], "windows": official["windows"], "calibration": official["calibration"]},
        today={"since": iso(midnight), "rows": today["rows"], "totals": today["totals"]},
    )  # fmt: skip


def live_sessions(store: Store, flt: RequestFilter, pricing: Pricing, session: str | None, active_minutes: int,
                  now: datetime) -> list[dict]:  # fmt: skip
    """The sessions with a request in the last ``active_minutes`` (or the one asked for), newest first."""
    if session is not None:
        flt, active_since = (
            replace(flt, since=EPOCH, until=FAR_FUTURE, filters={**flt.filters, "session": session}),
            EPOCH,
        )
    else:
        flt, active_since = (
            replace(flt, since=now - SESSION_LOOKBACK, until=FAR_FUTURE),
            now - timedelta(minutes=active_minutes),
        )
    keys = [flt.expression(d) for d in ("session", "user", "project", "agent")]
    head, params = priced_sums(flt, keys, first_last=True)
    sql = head + render(load(__package__, "live_sessions"), MEASURES=trusted(USAGE_MEASURES)) + FINAL_SETTINGS
    rows = store.rows(sql, {**params, **flt.params(), **pricing.params(),
                            "active_since": active_since.replace(tzinfo=None), "limit": MAX_SESSIONS})  # fmt: skip
    return [_session(clean(r)) for r in rows]


def _session(row: dict) -> dict:
    first, last = utc(row["first_seen"]), utc(row["last_seen"])
    tokens = sum(row[k] for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"))
    read_side = row["input_tokens"] + row["cache_read_tokens"] + row["cache_creation_tokens"]
    return {**row, "first_seen": iso(first), "last_seen": iso(last), "total_tokens": tokens,
            "burn_rate": burn_rate(first, last, tokens, row["input_tokens"] + row["output_tokens"], row["cost_usd"]),
            "cache_hit_ratio": row["cache_read_tokens"] / read_side if read_side else None}  # fmt: skip


def statusline_figures(snapshot: dict, session_id: str) -> dict:
    """From a monitor snapshot: what the statusline of ``session_id`` shows (its cost, its person's day and
    active block, the recorded limits). A session the snapshot does not know (no request of it has arrived
    yet) is nobody's: then the person is the only one active today, if there is one."""
    row = next((s for s in snapshot["sessions"] if s["session"] == session_id), None)
    people = {r["user"] for r in snapshot["today"]["rows"]} | {b["user"] for b in snapshot["blocks"]}
    user = row["user"] if row else (next(iter(people)) if len(people) == 1 else None)
    today = next((r for r in snapshot["today"]["rows"] if r["user"] == user), None)
    block = next((b for b in snapshot["blocks"] if b["user"] == user), None)
    return {
        "session": session_id, "user": user,
        "session_cost_usd": row["cost_usd"] if row else None,
        "today_cost_usd": (today["cost_usd"] or 0.0) if today else (0.0 if user is not None else None),
        "block": block, "limits": snapshot["limits"]["windows"] if snapshot["limits"]["user"] == (user or "") else {},
        "computed_at": snapshot["now"],
    }  # fmt: skip
