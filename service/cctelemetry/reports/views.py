"""The views people and tools query with SQL (clickhouse-client, ``cctelemetry sql``, ``POST /api/v1/sql``),
so that ad-hoc SQL gives the reports' numbers:

- ``requests``: one row per model request, duplicates collapsed and superseded copies left out, priced by
  the book (pricing/sql/priced_usage.sql), with ``reported_cost_usd``, ``computed_cost_usd``, ``cost_usd`` and
  its parts, and ``requests`` = 1 (so that SQL written for the rollups' sums, ``sum(requests)``, runs on it too);
- ``daily_usage``: per UTC day, agent, model and agent name, from the daily rollup (fast at any size);
- ``session_usage``: per session, from ``requests``.

The raw ``request_copies`` table holds every copy of a request (each source's, merged rows and their
superseded inputs): summing it over-counts. The views are (re)made by ``prepare`` (service start,
``cctelemetry migrate``) with the service's pricing settings (``CCTELEMETRY_COST_MODE``,
``CCTELEMETRY_CACHE_WRITE_TTL``) written in.
"""

from __future__ import annotations

from ..config import Settings
from ..store import Store
from ..store.sqlfiles import inline, load
from .query import RequestFilter
from .scope import Pricing
from .source import priced_per_request, priced_sums

VIEWS = ("requests", "daily_usage", "session_usage")


def requests_view_sql(settings: Settings) -> str:
    head, _ = priced_per_request(RequestFilter())  # the whole history: no time condition
    select = "SELECT * EXCEPT (at, price_day, reported_cost, cache_write_1h_known, cache_write_unknown) FROM priced"
    body = inline(head + select, **Pricing.from_settings(settings).params())
    return f"CREATE OR REPLACE VIEW requests AS\n{body}"


def daily_usage_view_sql(settings: Settings) -> str:
    head, window = priced_sums(RequestFilter(), ["toDate(at, 'UTC')", "agent_product", "agent"])
    select = load(__package__, "view_daily_usage_select")
    body = inline(head + select, **Pricing.from_settings(settings).params())
    for name, moment in window.items():  # the whole history's bounds, written in: a view binds nothing
        body = body.replace(f"{{{name}:DateTime('UTC')}}", f"toDateTime('{moment:%Y-%m-%d %H:%M:%S}', 'UTC')")
    return body


def create_views(store: Store, settings: Settings) -> None:
    store.command(requests_view_sql(settings))
    store.command("CREATE OR REPLACE VIEW daily_usage AS\n" + daily_usage_view_sql(settings))
    store.command(load(__package__, "view_session_usage"))
