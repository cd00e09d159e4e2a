"""The report filters applied to rows that are not requests: agent events (tools, errors) and activity
metric points.

A report over events takes the same ``since``/``until``/``tz`` and ``<dimension>=<value>`` filters as the
request reports (``RequestFilter``). A dimension the row carries itself (its session, user, service, a
model on an ``api_error``) is compared on the row. Any other dimension (``project``, ``attr.team``, a
``model`` on a tool call, which has none) selects the rows of the sessions whose requests match it in the
window, through the usage rows every report reads (source.py): a tool call belongs to the session's model,
project and team.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UnknownDimension
from .query import DIMENSIONS, TIME_DIMENSIONS, RequestFilter
from .source import usage_cte

USER = "if({a}['user.email'] != '', {a}['user.email'], {a}['user.id'])"

# Dimensions agent_events rows carry themselves (everything else: through their session).
EVENT_COLUMNS = {
    "session": "session_id",
    "user": USER.format(a="attributes"),
    "service": "service_name",
    "agent_product": "agent_product",
    "organization": "attributes['organization.id']",
    **{d: re.sub(r"\bat\b", "timestamp", DIMENSIONS[d]) for d in TIME_DIMENSIONS},  # as the requests' `at`
}

# Dimensions agent_metrics points carry themselves.
METRIC_COLUMNS = {
    "session": "session_id",
    "user": USER.format(a="attributes"),
    "service": "service_name",
    "agent_product": "agent_product",
    **{d: EVENT_COLUMNS[d] for d in TIME_DIMENSIONS},
}


@dataclass(frozen=True)
class SignalFilter:
    """``flt`` applied to a table of ``columns`` whose time column is ``timestamp``."""

    flt: RequestFilter
    columns: dict[str, str]

    def _via_session(self) -> list[tuple[int, str]]:
        return [(i, name) for i, name in enumerate(self.flt.filters) if name not in self.columns]

    def with_requests(self) -> str:
        """``WITH req AS (...),`` (the usage rows of the window) when a filter goes through the sessions'
        requests, else ``WITH``."""
        if self._via_session():
            return usage_cte(self.flt)[0].rstrip("\n") + ",\n"
        return "WITH "

    def conditions(self, time: bool = True) -> str:
        """The filters (and the window, unless ``time`` is False) as ``AND``-joined conditions."""
        clauses = ["timestamp >= {since:DateTime64(3, 'UTC')}"] if time else []
        clauses.append("timestamp < {until:DateTime64(3, 'UTC')}")
        clauses += [f"{self.columns[name]} = {{f{i}:String}}" for i, name in enumerate(self.flt.filters)
                    if name in self.columns]  # fmt: skip
        via = self._via_session()
        if via:
            matches = " AND ".join(f"{self.flt.expression(name)} = {{f{i}:String}}" for i, name in via)
            clauses.append(
                f"session_id IN (SELECT session_id FROM req WHERE {matches} GROUP BY session_id "
                "HAVING sum(requests) != 0)"
            )
        return " AND ".join(clauses)

    def params(self) -> dict:
        return {**self.flt.params(), **usage_cte(self.flt)[1]}

    def expression(self, name: str) -> str:
        """A group-by dimension over these rows: only the ones the rows carry."""
        if name not in self.columns:
            raise UnknownDimension(f"cannot group this report by {name}; use {', '.join(self.columns)}")
        return self.columns[name]
