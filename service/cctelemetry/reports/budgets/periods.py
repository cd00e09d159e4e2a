"""A budget's current period: the calendar day, week (from Monday) or month in its time zone, or the active 5-hour
block of the requests it covers.

Blocks follow ccusage's rule (https://github.com/ryoppippi/ccusage, ``identifySessionBlocks``): a block starts at
its first request floored to the hour and lasts 5 hours; a request 5 hours or more after the block's start, or
after a 5-hour gap, starts the next one. A gap of 5 hours always reaches past the block's end too, so the start
alone decides, and hours with requests (the usage report by hour) are enough to find the active block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BLOCK = timedelta(hours=5)
# How far back the block search looks before it gives up on finding where a run of blocks began.
MAX_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC
    end: datetime  # UTC, exclusive

    def elapsed_fraction(self, now: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        return min(max((now - self.start).total_seconds() / total, 0.0), 1.0) if total > 0 else 1.0


def calendar_window(period: str, now: datetime, tz: str) -> Window:
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    if period == "day":
        first, after = today, today + timedelta(days=1)
    elif period == "week":
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif period == "month":
        first = today.replace(day=1)
        after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    else:
        raise ValueError(f"not a calendar period: {period}")
    return Window(_midnight(first, zone), _midnight(after, zone))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def active_block(reports, filters: dict[str, str], now: datetime) -> Window | None:
    """The 5-hour block that ``now`` falls in for the requests ``filters`` select, or None when none is active."""
    now_hour = now.replace(minute=0, second=0, microsecond=0)
    lookback = timedelta(hours=24)
    while True:
        since = now_hour - lookback
        body = reports.usage(group_by="hour", since=iso(since), until=iso(now + timedelta(seconds=1)), tz="UTC",
                             filters=dict(filters), limit=100_000)  # fmt: skip
        hours = sorted(datetime.fromisoformat(r["hour"]).replace(tzinfo=UTC) for r in body["rows"])
        # The first hour found starts a block only if nothing came in the 5 hours before it; else look further back.
        if hours and hours[0] - since < BLOCK and lookback < MAX_LOOKBACK:
            lookback *= 2
            continue
        break
    start = last_block_start(hours)
    if start is None or now >= start + BLOCK:
        return None
    return Window(start, start + BLOCK)


def last_block_start(hours: list[datetime]) -> datetime | None:
    """The start of the last block of requests made in ``hours`` (each an hour with requests, in order)."""
    start = None
    for hour in hours:
        if start is None or hour >= start + BLOCK:
            start = hour
    return start


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
