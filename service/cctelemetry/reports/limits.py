"""Official rate limits: the latest figure of each window, their history, and what 1 % of a window costs.

Claude Code gives a statusline command the account's official usage of its 5-hour and 7-day windows
(``rate_limits``: ``used_percentage`` and ``resets_at``; https://code.claude.com/docs/en/statusline), and
nothing else does: no OpenTelemetry signal carries them. ``POST /api/v1/statusline`` records them
(ingest/rate_limits.py, table ``rate_limit_snapshots``); this report reads them back and relates them to
what the same person's requests cost.

- ``windows``: per window, the latest snapshot (``source: official``), its age and whether it is ``stale``
  (older than ``CCTELEMETRY_LIMITS_STALE_SECONDS``) or ``expired`` (its reset time has passed);
- ``calibration`` (``source: estimated``): cost and tokens per 1 % of each window, fitted from the windows
  observed: in each one, the rise of the official percentage between its first and last snapshot against
  the cost of the person's requests in between; pooled over windows (total cost / total rise), with the
  model mix, and per model where one model made at least 90 % of a window's cost;
- per window an ``estimate`` of the percentage now (the latest official figure plus what was spent since,
  by the calibration) and a ``forecast`` of when it reaches 100 % at the window's burn rate so far (its
  cost since the window began, per hour), or, without a calibration, at the rate the official figure rose.

Limits count everything on the account (claude.ai, other machines); the calibration only sees what reached
this service, so its cost per 1 % is an upper bound when other use shares the window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..errors import BadRequest
from ..store import Store
from ..store.sqlfiles import load, render, trusted
from .blocks import iso, utc
from .query import RequestFilter
from .results import LimitsReport
from .scope import Pricing
from .source import FINAL_SETTINGS, priced_per_request, usage_cte

WINDOW_LENGTHS = {"five_hour": timedelta(hours=5), "seven_day": timedelta(days=7)}
MIN_RISE = 1.0  # percentage points: a window whose figure rose less says too little about cost
DOMINANT_SHARE = 0.9  # a window counts for one model's own figure when that model made >= 90 % of its cost
CALIBRATION_STALE = timedelta(days=7)
DEFAULT_WINDOW = timedelta(days=30)  # snapshots and windows read, by default


@dataclass
class Interval:
    id: int
    user: str
    key: str
    starts: datetime
    ends: datetime
    row: dict | None = None  # the observed window, for the intervals that are one


def limits(store: Store, flt: RequestFilter, pricing: Pricing | None = None, *, stale_seconds: float = 600,
           history: int = 200, now: datetime | None = None) -> LimitsReport:  # fmt: skip
    pricing = pricing or Pricing()
    now = now or datetime.now(UTC)
    unknown = [k for k in flt.filters if k != "user"]
    if unknown:
        raise BadRequest(f"limits can be filtered by user only, not {', '.join(unknown)}")
    params = {**flt.params(), **pricing.params()}
    user_expr = trusted(flt.expression("user"))
    head, window_params = usage_cte(flt)
    params.update(window_params)
    rows = store.rows(head + render(load(__package__, "limits_instances"), USER=user_expr), params)
    for row in rows:
        resets = row.pop("window_resets_at")
        row.update(
            first_at=utc(row["first_at"]),
            last_at=utc(row["last_at"]),
            resets_at=utc(resets) if resets else None,
            user=row["user"] or "",
        )
    user = flt.filters.get("user")
    if user is None:  # the person of the newest snapshot
        user = rows[-1]["user"] if rows else ""
    mine = [r for r in rows if r["user"] == user]
    latest = {r["window"]: r for r in mine}  # ordered by last_at: the newest per window wins
    intervals = _intervals(mine, latest, now)
    spent = _spend(store, replace(flt, filters={}), pricing, intervals, user) if intervals else {}
    calibration = {w: _calibrate(w, intervals, spent, now) for w in sorted({r["window"] for r in mine})}
    windows: dict[str, dict | None] = {
        w: _window(latest[w], calibration.get(w), intervals, spent, now, stale_seconds) for w in latest
    }
    for w in WINDOW_LENGTHS:
        windows.setdefault(w, None)
    return LimitsReport.model_construct(
        since=flt.since.isoformat(), until=flt.until.isoformat(), tz=flt.tz, now=iso(now), user=user,
        stale_after_seconds=stale_seconds, windows=windows, history=_history(store, flt, params, user, history),
        calibration=calibration,
    )  # fmt: skip


def _intervals(mine: list[dict], latest: dict[str, dict], now: datetime) -> list[Interval]:
    """The observed windows (per kind, never overlapping), and per kind in force: since it began and since
    its latest snapshot, for the estimate and the forecast."""
    out: list[Interval] = []
    for r in mine:
        if r["snapshots"] >= 2 and r["last_at"] > r["first_at"]:
            out.append(Interval(len(out), r["user"], r["window"], r["first_at"], r["last_at"], r))
    for window, r in latest.items():
        length = WINDOW_LENGTHS.get(window)
        if r["resets_at"] is None or r["resets_at"] <= now or length is None:
            continue
        out.append(Interval(len(out), r["user"], f"{window}:begun", r["resets_at"] - length, now))
        out.append(Interval(len(out), r["user"], f"{window}:observed", r["last_at"], now))
    return out


def _spend(store: Store, flt: RequestFilter, pricing: Pricing, intervals: list[Interval], user: str) -> dict[int, dict]:
    """Per interval: requests, tokens, cost and cost per model of ``user``'s requests in (starts, ends]."""
    flt = replace(
        flt, since=min(i.starts for i in intervals), until=max(i.ends for i in intervals) + timedelta(seconds=1)
    )
    params = {**flt.params(), **pricing.params(), "users": [user], "keys": sorted({i.key for i in intervals}),
              "ids": [i.id for i in intervals], "interval_users": [i.user for i in intervals],
              "interval_keys": [i.key for i in intervals], "starts": [_naive(i.starts) for i in intervals],
              "ends": [_naive(i.ends) for i in intervals]}  # fmt: skip
    head, rows_params = priced_per_request(flt)
    sql = head + render(load(__package__, "limits_spend"), USER=trusted(flt.expression("user"))) + FINAL_SETTINGS
    return {r["id"]: r for r in store.rows(sql, {**params, **rows_params})}


def _calibrate(window: str, intervals: list[Interval], spent: dict[int, dict],
               now: datetime) -> dict | None:  # fmt: skip
    used: list[tuple[dict, float, dict]] = []
    for i in intervals:
        row = i.row
        if i.key != window or row is None:  # an observed window's own interval has its row
            continue
        rise = row["last_percentage"] - row["first_percentage"]
        got = spent.get(i.id)
        if rise < MIN_RISE or not got or got["cost_usd"] is None or got["unpriced_requests"]:
            continue
        used.append((row, rise, got))
    if not used:
        return None
    rise = sum(u[1] for u in used)
    cost = sum((u[2]["cost_usd"] for u in used), Decimal(0))
    tokens = sum(int(u[2]["tokens"]) for u in used)
    by_model_cost: dict[str, Decimal] = {}
    for _, _, got in used:
        for model, c in zip(*got["cost_by_model"], strict=True):
            by_model_cost[model] = by_model_cost.get(model, Decimal(0)) + c
    newest = max(u[0]["last_at"] for u in used)
    return {
        "source": "estimated",
        "cost_usd_per_percent": float(cost) / rise,
        "tokens_per_percent": tokens / rise,
        "windows": len(used),
        "percent_observed": rise,
        "cost_usd": float(cost),
        "tokens": tokens,
        "model_mix": {m: float(c / cost) if cost else None for m, c in sorted(by_model_cost.items())},
        "by_model": _by_model(used),
        "fitted_from": iso(min(u[0]["first_at"] for u in used)),
        "fitted_until": iso(newest),
        "age_seconds": (now - newest).total_seconds(),
        "stale": now - newest > CALIBRATION_STALE,
    }


def _by_model(used: list[tuple]) -> dict[str, dict]:
    pooled: dict[str, list] = {}
    for _, rise, got in used:
        total = got["cost_usd"]
        for model, c in zip(*got["cost_by_model"], strict=True):
            if total and c / total >= Decimal(str(DOMINANT_SHARE)):
                entry = pooled.setdefault(model, [Decimal(0), 0, 0.0, 0])
                entry[0] += total
                entry[1] += int(got["tokens"])
                entry[2] += rise
                entry[3] += 1
    return {m: {"cost_usd_per_percent": float(c) / r, "tokens_per_percent": t / r, "windows": n}
            for m, (c, t, r, n) in sorted(pooled.items())}  # fmt: skip


def _window(r: dict, calibration: dict | None, intervals: list[Interval], spent: dict[int, dict], now: datetime,
            stale_seconds: float) -> dict:  # fmt: skip
    age = (now - r["last_at"]).total_seconds()
    expired = r["resets_at"] is not None and r["resets_at"] <= now
    out = {
        "used_percentage": r["last_percentage"], "resets_at": iso(r["resets_at"]) if r["resets_at"] else None,
        "resets_at_epoch": int(r["resets_at"].timestamp()) if r["resets_at"] else None,
        "observed_at": iso(r["last_at"]), "age_seconds": age, "source": "official",
        "stale": expired or age > stale_seconds, "expired": expired, "session": r["session"], "model": r["model"],
        "estimate": None, "forecast": None,
    }  # fmt: skip
    if expired or r["resets_at"] is None or r["window"] not in WINDOW_LENGTHS:
        return out

    def spend(key: str) -> dict | None:
        i = next((i for i in intervals if i.key == f"{r['window']}:{key}"), None)
        return spent.get(i.id, {"cost_usd": Decimal(0), "tokens": 0}) if i else None

    begun, since_seen = spend("begun"), spend("observed")
    started = r["resets_at"] - WINDOW_LENGTHS[r["window"]]
    hours = max((now - started).total_seconds() / 3600, 1e-9)
    if calibration and begun and since_seen and begun["cost_usd"] is not None and since_seen["cost_usd"] is not None:
        cpp = calibration["cost_usd_per_percent"]
        estimated = min(r["last_percentage"] + float(since_seen["cost_usd"]) / cpp, 100.0) if cpp else None
        out["estimate"] = {"used_percentage": estimated, "source": "estimated", "method": "calibration",
                           "cost_usd_since_observed": float(since_seen["cost_usd"])}  # fmt: skip
        cost_per_hour = float(begun["cost_usd"]) / hours
        out["forecast"] = _forecast(estimated, cost_per_hour / cpp if cpp else 0, now, r["resets_at"], "calibration",
                                    cost_per_hour)  # fmt: skip
    elif r["snapshots"] >= 2 and r["last_at"] > r["first_at"]:
        rise_per_hour = (r["last_percentage"] - r["first_percentage"]) / (
            (r["last_at"] - r["first_at"]).total_seconds() / 3600
        )
        guess = min(r["last_percentage"] + rise_per_hour * age / 3600, 100.0)
        out["forecast"] = _forecast(guess, rise_per_hour, now, r["resets_at"], "official_trend", None)
    return out


def _forecast(percent: float | None, per_hour: float, now: datetime, resets_at: datetime, method: str,
              cost_per_hour: float | None) -> dict:  # fmt: skip
    out = {"source": "estimated", "method": method, "percent_per_hour": per_hour, "cost_usd_per_hour": cost_per_hour,
           "reaches_100_at": None, "hours_to_100": None, "before_reset": False}  # fmt: skip
    if percent is None or per_hour <= 0:
        return out
    hours = max(100.0 - percent, 0.0) / per_hour
    at = now + timedelta(hours=hours)
    out.update(reaches_100_at=iso(at), hours_to_100=hours, before_reset=at < resets_at)
    return out


def _history(store: Store, flt: RequestFilter, params: dict, user: str, limit: int) -> list[dict]:
    if limit <= 0:
        return []
    sql = usage_cte(flt)[0] + render(load(__package__, "limits_history"), USER=trusted(flt.expression("user")),
                                       USER_FILTER=trusted("\n  AND u.user = {history_user:String}"))  # fmt: skip
    rows = store.rows(sql, {**params, "history_user": user, "limit": limit})
    for row in rows:
        row["observed_at"] = iso(utc(row["observed_at"]))
        row["resets_at"] = iso(utc(row["resets_at"])) if row["resets_at"] else None
        row["source"] = "official"
    return rows


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)
