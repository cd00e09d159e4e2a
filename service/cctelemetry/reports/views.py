"""The views people and tools query with SQL (clickhouse-client, ``cctelemetry sql``, ``POST /api/v1/sql``),
so that ad-hoc SQL gives the reports' numbers:

- ``requests``: one row per model request, duplicates removed and superseded copies left out (the reports'
  own request set, reports/sql/requests.sql), priced by the book (pricing/sql/priced_requests.sql) with
  ``reported_cost_usd``, ``computed_cost_usd``, ``cost_usd`` and its parts;
- ``daily_usage``: per UTC day, agent, model and agent name;
- ``session_usage``: per session.

The raw ``api_requests`` table holds every copy of a request (retries, transcript lines, merged rows):
summing it over-counts. The views are (re)created by ``prepare`` (service start, ``cctelemetry migrate``)
with the service's pricing settings (``CCTELEMETRY_COST_MODE``, ``CCTELEMETRY_CACHE_WRITE_TTL``) written in.
"""

from __future__ import annotations

from ..config import Settings
from ..pricing import priced_cte
from ..store import Store
from ..store.sqlfiles import inline, load
from .query import requests_sql
from .scope import Pricing

VIEWS = ("requests", "daily_usage", "session_usage")


def requests_view_sql(settings: Settings) -> str:
    pricing = Pricing.from_settings(settings).params()
    select = f"WITH req AS (\n{requests_sql(window=False)}\n){priced_cte()}SELECT * FROM priced"
    body = inline(select, agent_type_attribute=settings.agent_type_attribute, **pricing)
    return f"CREATE OR REPLACE VIEW requests AS\n{body}"


def create_views(store: Store, settings: Settings) -> None:
    store.command(requests_view_sql(settings))
    for name in VIEWS[1:]:
        store.command(load(__package__, f"view_{name}"))
