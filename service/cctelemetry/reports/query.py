"""The read path's building blocks: the closed set of dimensions, filters, time windows, and the
deduplicated request set every report starts from (``sql/requests.sql``).

Only expressions from ``DIMENSIONS`` ever reach SQL text; every value is a bound ``{name:Type}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import BadRequest, UnknownDimension
from ..pricing import priced_cte

# name -> SQL expression over the deduplicated request set (reports/sql/requests.sql)
DIMENSIONS: dict[str, str] = {
    "session": "session_id",
    "model": "model",
    "agent": "agent",
    "user": "if(user_email != '', user_email, user_id)",
    "service": "service_name",
    "project": "project",
    "day": "toString(toDate(timestamp, {tz:String}))",
    "hour": "formatDateTime(toStartOfHour(timestamp, {tz:String}), '%Y-%m-%dT%H:00:00', {tz:String})",
    "week": "toString(toMonday(timestamp, {tz:String}))",
    "month": "formatDateTime(toStartOfMonth(timestamp, {tz:String}), '%Y-%m', {tz:String})",
    "agent_type": "agent_type",  # the resource attribute named by CCTELEMETRY_AGENT_TYPE_ATTRIBUTE
    "agent_product": "agent_product",
    "query_source": "query_source",
    "git_branch": "git_branch",
    "organization": "organization_id",
    "source": "sources",
}
TIME_DIMENSIONS = ("hour", "day", "week", "month")

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FAR_FUTURE = datetime(2200, 1, 1, tzinfo=timezone.utc)


def requests_sql() -> str:
    return sql_file("requests.sql")


def sql_file(name: str) -> str:
    return resources.files("cctelemetry.reports").joinpath("sql", name).read_text()


def parse_dimensions(value: str | list[str] | None) -> list[str]:
    names = value.split(",") if isinstance(value, str) else list(value or [])
    dims = [n.strip() for n in names if n and n.strip()]
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise UnknownDimension(f"unknown dimension(s) {', '.join(unknown)}; use {', '.join(DIMENSIONS)}")
    return list(dict.fromkeys(dims))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown time zone {tz!r}; use an IANA name such as UTC or Europe/Paris") from exc


def parse_time(value: str | None, tz: str, default: datetime) -> datetime:
    """ISO date or datetime (in ``tz`` when it has no offset), or relative: 30m, 24h, 7d, 2w (ago)."""
    if not value:
        return default
    value = value.strip()
    m = _RELATIVE.match(value)
    if m:
        return datetime.now(timezone.utc) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"cannot read time {value!r}: use 2026-11-27, 2026-11-27T10:00, or 7d / 24h ago") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    return parsed.astimezone(timezone.utc)


@dataclass
class RequestFilter:
    """Which requests a report covers: a time window, a time zone and equality filters on dimensions."""

    since: datetime = EPOCH
    until: datetime = FAR_FUTURE
    tz: str = "UTC"
    filters: dict[str, str] = field(default_factory=dict)
    agent_type_attribute: str = "agent.type"

    @classmethod
    def build(cls, since=None, until=None, tz="UTC", filters=None, agent_type_attribute="agent.type"):
        zone(tz)
        unknown = [k for k in (filters or {}) if k not in DIMENSIONS]
        if unknown:
            raise UnknownDimension(f"cannot filter on {', '.join(unknown)}; use {', '.join(DIMENSIONS)}")
        return cls(
            since=parse_time(since, tz, EPOCH),
            until=parse_time(until, tz, FAR_FUTURE),
            tz=tz,
            filters=dict(filters or {}),
            agent_type_attribute=agent_type_attribute,
        )

    def params(self) -> dict:
        params = {
            "since": self.since.replace(tzinfo=None),
            "until": self.until.replace(tzinfo=None),
            "tz": self.tz,
            "agent_type_attribute": self.agent_type_attribute,
        }
        for i, value in enumerate(self.filters.values()):
            params[f"f{i}"] = value
        return params

    def where(self) -> str:
        clauses = [f"{DIMENSIONS[name]} = {{f{i}:String}}" for i, name in enumerate(self.filters)]
        return ("WHERE " + " AND ".join(clauses)) if clauses else ""

    def with_requests(self) -> str:
        """``WITH req AS (...)``: the deduplicated requests in the window, for a report to select from."""
        return f"WITH req AS (\n{requests_sql()}\n)\n"

    def with_priced_requests(self) -> str:
        """``WITH req AS (...), priced AS (...)``: the same requests with their cost (pricing/sql)."""
        return self.with_requests() + priced_cte()
