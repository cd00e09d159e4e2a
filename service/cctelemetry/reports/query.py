"""The read path's building blocks: the closed set of dimensions, filters and time windows.

Every report reads one relation, the **usage rows** (reports/source.py): rows with the hourly rollup's
columns (store/rollup.py) and a time ``at``, either sums over requests (from the rollup) or single requests.
Only expressions from ``DIMENSIONS`` ever reach SQL text; every value is a bound ``{name:Type}``. A resource
attribute is a dimension too, ``attr.<key>`` (e.g. ``attr.team`` from ``OTEL_RESOURCE_ATTRIBUTES="team=platform"``):
its key is bound like a value, never written into SQL; ``agent_type`` and ``host`` are named attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import BadRequest, UnknownDimension

# name -> SQL expression over the usage rows
DIMENSIONS: dict[str, str] = {
    "session": "session_id",
    "model": "model",
    "agent": "agent",
    "user": "user",
    "service": "service_name",
    "project": "project",
    "day": "toString(toDate(at, {tz:String}))",
    "hour": "formatDateTime(toStartOfHour(at, {tz:String}), '%Y-%m-%dT%H:00:00', {tz:String})",
    "week": "toString(toMonday(at, {tz:String}))",
    "month": "formatDateTime(toStartOfMonth(at, {tz:String}), '%Y-%m', {tz:String})",
    "agent_type": "",  # the resource attribute named by CCTELEMETRY_AGENT_TYPE_ATTRIBUTE (an attribute: below)
    "host": "",  # the resource attribute host.name (the machine, set by setup-telemetry.sh)
    "agent_product": "agent_product",
    "query_source": "query_source",
    "git_branch": "git_branch",
    "organization": "organization_id",
    "source": "sources",
    "skill": "skill",
    "plugin": "plugin",
    "mcp_server": "mcp_server",
    "subagent": "subagent",
    "effort": "effort",
    "speed": "speed",
    "entrypoint": "entrypoint",
    "terminal": "terminal",
}
TIME_DIMENSIONS = ("hour", "day", "week", "month")
HOST_ATTRIBUTE = "host.name"
_ATTR_KEY = re.compile(r"^attr\.([A-Za-z0-9_.:/-]{1,128})$")
MAX_ATTRS = 8

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


def is_dimension(name: str) -> bool:
    return name in DIMENSIONS or bool(_ATTR_KEY.match(name))


def valid_dimensions() -> str:
    return ", ".join(DIMENSIONS) + ", attr.<resource attribute> (e.g. attr.team)"


def parse_dimensions(value: str | list[str] | None) -> list[str]:
    names = value.split(",") if isinstance(value, str) else list(value or [])
    dims = [n.strip() for n in names if n and n.strip()]
    unknown = [d for d in dims if not is_dimension(d)]
    if unknown:
        raise UnknownDimension(f"unknown dimension(s) {', '.join(unknown)}; use {valid_dimensions()}")
    return list(dict.fromkeys(dims))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file name
        raise BadRequest(f"unknown time zone {tz!r}; use an IANA name such as UTC or Europe/Paris") from exc


def parse_time(value: str | None, tz: str, default: datetime) -> datetime:
    """ISO date or datetime (in ``tz`` when it has no offset), or relative: 30m, 24h, 7d, 2w (ago)."""
    if not value:
        return default
    value = value.strip()
    m = _RELATIVE.match(value)
    if m:
        return datetime.now(UTC) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"cannot read time {value!r}: use 2026-11-27, 2026-11-27T10:00, or 7d / 24h ago") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise BadRequest(f"time {value!r} is out of range") from exc


@dataclass
class RequestFilter:
    """Which requests a report covers: a time window, a time zone and equality filters on dimensions; and the
    dimensions it groups by (they decide which resource attributes the usage rows carry)."""

    since: datetime = EPOCH
    until: datetime = FAR_FUTURE
    tz: str = "UTC"
    filters: dict[str, str] = field(default_factory=dict)
    agent_type_attribute: str = "agent.type"
    group_by: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, since=None, until=None, tz="UTC", filters=None, agent_type_attribute="agent.type",
              group_by=()):  # fmt: skip
        zone(tz)
        unknown = [k for k in (filters or {}) if not is_dimension(k)]
        if unknown:
            raise UnknownDimension(f"cannot filter on {', '.join(unknown)}; use {valid_dimensions()}")
        since_at, until_at = parse_time(since, tz, EPOCH), parse_time(until, tz, FAR_FUTURE)
        since_at, until_at = max(since_at, EPOCH), min(until_at, FAR_FUTURE)
        if until_at <= since_at:
            raise BadRequest(f"until ({until_at.isoformat()}) must be after since ({since_at.isoformat()})")
        flt = cls(since=since_at, until=until_at, tz=tz, filters=dict(filters or {}),
                  agent_type_attribute=agent_type_attribute, group_by=list(group_by))  # fmt: skip
        if len(flt.attr_keys()) > MAX_ATTRS:
            raise BadRequest(f"at most {MAX_ATTRS} resource attributes in one report")
        return flt

    def attribute_of(self, name: str) -> str | None:
        """The resource attribute key behind a dimension, or None for a column."""
        m = _ATTR_KEY.match(name)
        if m:
            return m.group(1)
        return {"agent_type": self.agent_type_attribute, "host": HOST_ATTRIBUTE}.get(name)

    def attr_keys(self) -> list[str]:
        """The resource attribute keys the report groups or filters on, each once, in order."""
        names = list(self.group_by) + list(self.filters)
        return list(dict.fromkeys(key for key in map(self.attribute_of, names) if key))

    def expression(self, name: str) -> str:
        """The SQL expression of a dimension over the usage rows: from the closed set, or an attribute column."""
        key = self.attribute_of(name)
        if key is not None:
            return f"_attr{self.attr_keys().index(key)}"
        return DIMENSIONS[name]

    def params(self) -> dict:
        params = {"since": _naive(self.since), "until": _naive(self.until), "tz": self.tz}
        for i, value in enumerate(self.filters.values()):
            params[f"f{i}"] = value
        for i, key in enumerate(self.attr_keys()):
            params[f"attr{i}"] = key
        return params

    def conditions(self) -> list[str]:
        return [f"{self.expression(name)} = {{f{i}:String}}" for i, name in enumerate(self.filters)]

    def where(self) -> str:
        clauses = self.conditions()
        return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
