"""5-hour blocks, per person, with ccusage's semantics (ccusage 20.0.24, ``rust/crates/ccusage/src/blocks.rs``:
``identify_session_blocks``, ``calculate_burn_rate``, ``project_block_usage``; https://github.com/ryoppippi/ccusage).

A block starts at its first request floored to the hour and ends 5 hours later. A request more than 5 hours
after the block's start, or more than 5 hours after the previous request, starts a new block; in the second
case a gap block (no usage) covers the time from the previous request + 5 h to the new request. A block is
active while its last request is less than 5 hours old and its end has not passed. Burn rate: tokens per
minute and cost per hour between the block's first and last request; the active block's projection
extends that rate to the block's end.

ClickHouse sums the usage rows (the hourly rollup; reports/source.py) into per-person hourly buckets
(sql/block_buckets.sql); this module walks the buckets in time order (exact_walk), which is sequential
by nature (where the next block starts depends on where this one started), and adds gaps, activity, burn
rate and projection. A year of one person's use is at most ~17,500 buckets, whatever the request count.

ccusage has no notion of people; here blocks never mix them: every block belongs to one ``user`` (the
``user`` dimension), and the report takes the usual filters (``user=...``, ``attr.team=...``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from ..errors import BadRequest
from ..store import Store
from ..store.sqlfiles import load
from .query import EPOCH, FAR_FUTURE, RequestFilter
from .results import BlockReport
from .scope import Pricing
from .source import FINAL_SETTINGS, Plan, priced_sums, report_plan

BLOCK_HOURS = 5
RECENT_DAYS = 3  # ccusage's --recent
WARNING_SHARE = 0.8  # ccusage's BLOCKS_WARNING_THRESHOLD: "warning" above 80 % of the token limit
# Blocks before ``since`` are not shown, but where the first shown block starts depends on the blocks before
# it: the walk starts this long before ``since`` and must find a 5-hour pause there (checked, else it
# starts from the first request ever).
LOOKBACK = timedelta(hours=24)
# Hours read again request by request at most, in at most so many rounds (beyond, the whole window is).
MAX_EXACT_HOURS = 200
MAX_SPLIT_ROUNDS = 8
MEASURES = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
MONEY = ("reported_cost_usd", "computed_cost_usd", "cost_usd")
# Times are whole milliseconds since the epoch (UTC) and money whole 10^-12 dollars (Decimal128(12) scaled)
# between the engine and the walk: plain ints convert and add several times faster than datetimes and
# Decimals, and a year of a team's use is tens of thousands of buckets.
HOUR_MS = 3_600_000
PICO = 10**12


@dataclass
class Block:
    user: str
    start: int  # ms
    first_at: int
    last_at: int
    after_pause: bool  # started after more than 5 hours without a request: independent of earlier blocks
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))
    money: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(MONEY))  # 10^-12 USD
    models: dict[str, int] = field(default_factory=dict)  # model -> first used (ms)
    unknown_models: set[str] = field(default_factory=set)

    def add(self, bucket: dict) -> None:
        # called for every bucket of a report (45k over 10M requests): plain loops, no conversions
        if bucket["last_at"] > self.last_at:
            self.last_at = bucket["last_at"]
        counts, money, known = self.counts, self.money, self.models
        for k in MEASURES:
            counts[k] += bucket[k]
        for k in MONEY:
            value = bucket[k]
            if value is not None:
                before = money[k]
                money[k] = value if before is None else before + value
        models, firsts = bucket["models"]
        for model, first in zip(models, firsts, strict=True):
            seen = known.get(model)
            if seen is None or first < seen:
                known[model] = first
        if bucket["unknown_models"]:
            self.unknown_models.update(bucket["unknown_models"])


@dataclass
class Gap:
    user: str
    start: int  # ms
    end: int


def walk(buckets: list[dict], hours: int = BLOCK_HOURS, scan_from: datetime = EPOCH,
         closing_mixed: set[int] | None = None) -> list[Block | Gap]:  # fmt: skip
    """One person's buckets, in time order -> their blocks and gaps, in the order ccusage makes them.
    ``scan_from``: no request of theirs before it was read (EPOCH: none exists). ``closing_mixed`` collects
    the hours of mixed buckets that close a block (see exact_walk)."""
    length = hours * HOUR_MS
    scan_ms = to_ms(scan_from)
    out: list[Block | Gap] = []
    current: Block | None = None
    for bucket in buckets:
        first = bucket["first_at"]
        if current is None or first - current.start > length or first - current.last_at > length:
            previous = current.last_at if current is not None else scan_ms
            if current is not None:
                out.append(current)
                if first - current.last_at > length:
                    out.append(Gap(current.user, current.last_at + length, first))
            current = Block(
                bucket["user"], first - first % HOUR_MS, first, first, scan_ms <= 0 or first - previous > length
            )
        elif closing_mixed is not None and bucket["hour"] - current.start == length and _mixed(bucket):
            closing_mixed.add(bucket["hour"])
        current.add(bucket)
    if current is not None:
        out.append(current)
    return out


def anchored(walked: list[Block | Gap], since: datetime) -> bool:
    """Whether the blocks from ``since`` on are those a walk from the first request ever makes: one of them,
    or a block before them, started after a 5-hour pause (from there on, earlier requests change nothing)."""
    since_ms = to_ms(since)
    for b in walked:
        if isinstance(b, Gap):
            continue
        if b.after_pause:
            return True
        if b.start >= since_ms:
            return False
    return True


def parse_token_limit(value: str | int | None) -> int | str | None:
    """``--token-limit``: a number of tokens, or ``max`` (the largest completed block shown)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or str(value).strip().isdigit():
        n = int(value)
        if n <= 0:
            raise BadRequest("token_limit must be a positive number of tokens or 'max'")
        return n
    if str(value).strip().lower() == "max":
        return "max"
    raise BadRequest(f"token_limit must be a number of tokens or 'max', not {value!r}")


def blocks(store: Store, flt: RequestFilter, pricing: Pricing | None = None, *, active: bool = False,
           recent: bool = False, token_limit: str | int | None = None, now: datetime | None = None,
           hours: int = BLOCK_HOURS) -> BlockReport:  # fmt: skip
    """The blocks that start in ``flt``'s window (all of them by default), per person, oldest first.
    ``recent``: those of the last 3 days; ``active``: only the active ones (ccusage's flags)."""
    pricing = pricing or Pricing()
    limit = parse_token_limit(token_limit)
    now = now or datetime.now(UTC)
    since = max(flt.since, now - timedelta(days=RECENT_DAYS)) if recent else flt.since
    if active:
        since = max(since, now - timedelta(hours=hours))  # an active block started less than 5 hours ago
    since_ms, until_ms = to_ms(since), to_ms(flt.until)
    kept = [b for b in walk_all(store, flt, pricing, since, hours) if since_ms <= b.start < until_ms]
    now_ms = to_ms(now)
    rows = [_row(b, now, now_ms, hours) for b in kept]
    if active:
        kept, rows = [b for b, r in zip(kept, rows, strict=True) if r["is_active"]], [r for r in rows if r["is_active"]]
    _apply_token_limit(rows, limit)
    return BlockReport.model_construct(
        since=since.isoformat(), until=flt.until.isoformat(), tz=flt.tz, mode=pricing.mode,
        cache_write_ttl=pricing.cache_write_ttl, session_hours=hours, now=iso(now),
        token_limit=limit, blocks=rows, totals=_totals(kept),
    )  # fmt: skip


def exact_walk(store: Store, flt: RequestFilter, pricing: Pricing, hours: int, scan_from: datetime
               ) -> dict[str, list[Block | Gap]]:  # fmt: skip
    """Every person's blocks and gaps over ``flt``'s window, from the hourly buckets (sql/block_buckets.sql).

    A bucket from the rollup cannot tell requests exactly on the hour from later ones in the same rollup
    row. That matters only where the hour closes a block (its start + 5 h): there the requests on the hour
    belong to the closing block and the later ones start the next. Which hours close blocks is known only
    by walking, so: walk, read the hours that matter again request by request, walk again (a split hour
    moves the blocks after it), until no such hour is left."""
    buckets = _buckets(store, flt, pricing, None)
    exact: set[int] = set()
    for _ in range(MAX_SPLIT_ROUNDS):
        closing: set[int] = set()
        walked = {user: walk(mine, hours, scan_from, closing) for user, mine in _by_user(buckets).items()}
        closing -= exact
        if not closing:
            return walked
        exact |= closing
        if len(exact) > MAX_EXACT_HOURS:
            break
        hours_again = tuple((from_ms(h), from_ms(h + HOUR_MS)) for h in sorted(closing))
        again = _buckets(store, flt, pricing, Plan(None, hours_again))
        buckets = sorted([b for b in buckets if b["hour"] not in closing] + again,
                         key=lambda b: (b["user"], b["first_at"]))  # fmt: skip
    whole = _buckets(store, flt, pricing, Plan(None, ((flt.since, flt.until),)))
    return {user: walk(mine, hours, scan_from) for user, mine in _by_user(whole).items()}


def _mixed(bucket: dict) -> bool:
    """From rollup rows whose first request is exactly on the hour and others later (see exact_walk)."""
    return not bucket["on_the_hour"] and bucket["first_at"] == bucket["hour"]


def _buckets(store: Store, flt: RequestFilter, pricing: Pricing, plan_: Plan | None) -> list[dict]:
    # u.: the usage rows' own columns (first_at and last_at are also the names of their sums)
    keys = [flt.expression("user"), "toStartOfHour(at, 'UTC')",
            "toUInt8(u.first_at = u.last_at AND u.first_at = toStartOfHour(at, 'UTC'))"]  # fmt: skip
    head, params = priced_sums(flt, keys, first_last=True, plan_=plan_ or report_plan(store, flt, keys))
    return store.rows(head + load(__package__, "block_buckets") + FINAL_SETTINGS,
                      {**params, **flt.params(), **pricing.params()})  # fmt: skip


def walk_all(store: Store, flt: RequestFilter, pricing: Pricing, since: datetime,
             hours: int = BLOCK_HOURS) -> list[Block | Gap]:  # fmt: skip
    """Every person's blocks and gaps around ``since`` .. ``flt.until``, ordered by start as ccusage sorts
    them (stable: a block comes before a gap that starts at the same time)."""
    scan_from = EPOCH if since <= EPOCH + LOOKBACK else since - LOOKBACK
    scan_until = FAR_FUTURE if flt.until >= FAR_FUTURE - timedelta(hours=hours) else flt.until + timedelta(hours=hours)
    walked = exact_walk(store, replace(flt, since=scan_from, until=scan_until), pricing, hours, scan_from)
    if not all(anchored(w, since) for w in walked.values()):
        walked = exact_walk(store, replace(flt, since=EPOCH, until=scan_until), pricing, hours, EPOCH)
    out = [b for w in walked.values() for b in w]
    out.sort(key=lambda b: (b.start, b.user))
    return out


def _by_user(buckets: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for b in buckets:
        out.setdefault(b["user"], []).append(b)
    return out


# What a gap row has besides its user and times (a report over a year has thousands of gaps).
_GAP_ROW: dict[str, Any] = {"actual_end": None, "first_request_at": None, "is_active": False, "is_gap": True,
            **dict.fromkeys(MEASURES, 0), "total_tokens": 0, **dict.fromkeys(MONEY, 0.0), "models": [],
            "unknown_models": [], "burn_rate": None, "projection": None, "minutes_remaining": None,
            "percent_of_token_limit": None, "token_limit_status": None}  # fmt: skip


def _row(b: Block | Gap, now: datetime, now_ms: int, hours: int) -> dict:
    # per block of a report (6,000 over a year of a team's use): ints, and each hour's text made once
    if isinstance(b, Gap):
        start = _iso_hour(b.start)
        return {"id": f"gap-{start}", "user": b.user, "start": start, "end": iso_ms(b.end), **_GAP_ROW,
                "models": [], "unknown_models": []}  # fmt: skip
    length = hours * HOUR_MS
    end_ms = b.start + length
    is_active = now_ms - b.last_at < length and now_ms < end_ms
    c = b.counts
    total = c["input_tokens"] + c["output_tokens"] + c["cache_read_tokens"] + c["cache_creation_tokens"]
    money = {k: (v / PICO if v is not None else None) for k, v in b.money.items()}  # int / int: correctly rounded
    burn = burn_rate_ms(b.first_at, b.last_at, total, c["input_tokens"] + c["output_tokens"], money["cost_usd"])
    end = from_ms(end_ms) if is_active else None
    projection = project(burn, total, money["cost_usd"], end, now) if end is not None else None
    start = _iso_hour(b.start)
    return {
        "id": start,
        "user": b.user,
        "start": start,
        "end": _iso_hour(end_ms),
        "actual_end": iso_ms(b.last_at),
        "first_request_at": iso_ms(b.first_at),
        "is_active": is_active,
        "is_gap": False,
        **c,
        "total_tokens": total,
        **money,
        "models": [m for m, _ in sorted(b.models.items(), key=lambda kv: (kv[1], kv[0]))],
        "unknown_models": sorted(b.unknown_models),
        "burn_rate": burn,
        "projection": projection,
        "minutes_remaining": int((end - now).total_seconds() // 60) if end is not None else None,
        "percent_of_token_limit": None,
        "token_limit_status": None,
    }


def burn_rate(first: datetime, last: datetime, tokens: int, non_cache_tokens: int, cost: float | None) -> dict | None:
    """ccusage's ``calculate_burn_rate``: over the minutes between the first and the last request; none for a
    block of one instant. ``non_cache_tokens_per_minute`` (input + output) is what ccusage colours by."""
    return burn_rate_ms(to_ms(first), to_ms(last), tokens, non_cache_tokens, cost)


def burn_rate_ms(first: int, last: int, tokens: int, non_cache_tokens: int, cost: float | None) -> dict | None:
    """``burn_rate`` over times in milliseconds: minutes = milliseconds / 60,000, as ccusage divides."""
    minutes = (last - first) / 60_000
    if minutes <= 0:
        return None
    return {"tokens_per_minute": tokens / minutes, "non_cache_tokens_per_minute": non_cache_tokens / minutes,
            "cost_usd_per_hour": cost / minutes * 60 if cost is not None else None}  # fmt: skip


def project(burn: dict | None, tokens: int, cost: float | None, end: datetime, now: datetime) -> dict | None:
    """ccusage's ``project_block_usage``: the current rate kept up until the block ends (minutes rounded)."""
    if burn is None:
        return None
    remaining = round(max((end - now).total_seconds(), 0) / 60)
    cost_at_end = cost + burn["cost_usd_per_hour"] / 60 * remaining if cost is not None else None
    return {"total_tokens": round(tokens + burn["tokens_per_minute"] * remaining), "cost_usd": cost_at_end,
            "remaining_minutes": remaining}  # fmt: skip


def _apply_token_limit(rows: list[dict], limit: int | str | None) -> None:
    """``max``: per person, the most tokens of a completed block shown (ccusage: of the blocks listed, so
    with ``active`` there is none and no limit). Each block gets its share of the limit; the active one a
    status of its projection (ok, warning above 80 %, exceeds)."""
    if limit is None:
        return
    for user in {r["user"] for r in rows}:
        mine = [r for r in rows if r["user"] == user]
        if limit == "max":
            done = [r["total_tokens"] for r in mine if not r["is_gap"] and not r["is_active"]]
            value = max(done, default=0) or None
        else:
            value = limit
        for r in mine:
            if r["is_gap"] or value is None:
                continue
            r["percent_of_token_limit"] = r["total_tokens"] / value * 100
            if r["projection"]:
                projected = r["projection"]["total_tokens"]
                status = "exceeds" if projected > value else "warning" if projected > value * WARNING_SHARE else "ok"
                r["token_limit_status"] = {"limit": value, "projected_usage": projected,
                                           "percent_used": projected / value * 100, "status": status}  # fmt: skip


def _totals(kept: list[Block | Gap]) -> dict:
    used = [b for b in kept if isinstance(b, Block)]
    totals: dict = {"blocks": len(used), "gaps": len(kept) - len(used)}
    for k in MEASURES:
        totals[k] = sum(b.counts[k] for b in used)
    totals["total_tokens"] = sum(totals[k] for k in MEASURES if k != "requests")
    for k in MONEY:
        values = [v for b in used if (v := b.money[k]) is not None]
        totals[k] = sum(values) / PICO if values else None
    totals["unknown_models"] = sorted({m for b in used for m in b.unknown_models})
    return totals


def utc(t: datetime) -> datetime:
    """The driver gives UTC columns as naive datetimes."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def to_ms(t: datetime) -> int:
    """Milliseconds since the epoch (UTC), exact (no float)."""
    return (t - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def iso_ms(ms: int) -> str:
    """``iso`` of a time in milliseconds: its hour's text (made once per hour) and the rest written in."""
    rest = ms % HOUR_MS
    return f"{_iso_hour(ms - rest)[:14]}{rest // 60_000:02d}:{rest // 1000 % 60:02d}.{rest % 1000:03d}Z"


@lru_cache(maxsize=100_000)
def _iso_hour(ms: int) -> str:
    """Block starts and ends are whole hours, shared by every person."""
    return iso(from_ms(ms))


def iso(t: datetime) -> str:
    """``2026-11-22T10:00:00.000Z``: UTC with milliseconds, as ccusage prints block times. (isoformat, not
    strftime: a report over a year prints ~25k of these, and strftime takes 4x as long.)"""
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC)
    return t.isoformat(timespec="milliseconds")[:-6] + "Z"
