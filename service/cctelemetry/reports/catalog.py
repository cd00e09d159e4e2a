"""Every report, asked with the raw parameters the API's query string carries, answered as its JSON body.

This is the one door to the read path: the API's routes call it for a request, and the CLI calls it
directly when it opens the store itself (no web app in between). A running service is asked the same
questions over HTTP by the thin client (``cctelemetry.client.Client``), whose methods have the same names
and parameters, so a CLI command reads the same whichever of the two answers it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..config import Settings
from ..pricing import current_book
from ..store import Store
from . import activity as activity_reports
from . import blocks as block_reports
from . import cost as cost_reports
from . import current as current_reports
from . import errors as error_reports
from . import insights as insight_reports
from . import limits as limit_reports
from . import live as live_reports
from . import metrics as metric_reports
from . import sessions as session_reports
from . import timeline as timeline_reports
from . import tools as tool_reports
from . import usage as usage_reports
from .budgets import Budgets
from .query import parse_dimensions
from .results import SqlResult
from .scope import Pricing, request_filter


class Reports:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings

    def _filter(self, since, until, tz, filters, group_by=()):
        return request_filter(self.settings, since, until, tz, filters, group_by)

    def usage(self, group_by: str | None = None, since: str | None = None, until: str | None = None,
              tz: str | None = None, mode: str | None = None, breakdown: bool = False, limit: int = 10_000,
              filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        dims = parse_dimensions(group_by)
        return usage_reports.usage(self.store, dims, self._filter(since, until, tz, filters, dims),
                                   Pricing.from_settings(self.settings, mode), breakdown, limit).to_dict()  # fmt: skip

    def cost(self, group_by: str | None = None, period: str | None = None, since: str | None = None,
             until: str | None = None, tz: str | None = None, mode: str | None = None, limit: int = 10_000,
             filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        dims = parse_dimensions(group_by)
        return cost_reports.cost(self.store, dims, self._filter(since, until, tz, filters, dims), period or None,
                                 Pricing.from_settings(self.settings, mode), current_book(self.settings.prices_file),
                                 limit).to_dict()  # fmt: skip

    def reconcile(self, group_by: str = "request", tolerance: float | None = None, since: str | None = None,
                  until: str | None = None, tz: str | None = None, limit: int = 10_000,
                  filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        tol = cost_reports.DEFAULT_TOLERANCE_USD if tolerance is None else tolerance
        return cost_reports.reconcile(self.store, self._filter(since, until, tz, filters), group_by or "request", tol,
                                      Pricing.from_settings(self.settings), current_book(self.settings.prices_file),
                                      limit).to_dict()  # fmt: skip

    def prices(self, model: str | None = None, day: str | None = None) -> dict[str, Any]:
        return cost_reports.price_list(current_book(self.settings.prices_file), model, day).to_dict()

    def sessions(self, since: str | None = None, until: str | None = None, tz: str | None = None,
                 mode: str | None = None, limit: int = 100, offset: int = 0, order: str = "last_seen",
                 filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        return session_reports.list_sessions(self.store, self._filter(since, until, tz, filters),
                                             Pricing.from_settings(self.settings, mode), limit, offset,
                                             order).to_dict()  # fmt: skip

    def session(self, session_id: str, since: str | None = None, until: str | None = None, tz: str | None = None,
                mode: str | None = None, filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        return session_reports.session_detail(self.store, session_id, self._filter(since, until, tz, filters),
                                              Pricing.from_settings(self.settings, mode)).to_dict()  # fmt: skip

    def blocks(self, active: bool = False, recent: bool = False, token_limit: str | int | None = None,
               since: str | None = None, until: str | None = None, tz: str | None = None, mode: str | None = None,
               filters: dict[str, str] | None = None, now=None) -> dict[str, Any]:  # fmt: skip
        return block_reports.blocks(self.store, self._filter(since, until, tz, filters),
                                    Pricing.from_settings(self.settings, mode), active=active, recent=recent,
                                    token_limit=token_limit, now=now).to_dict()  # fmt: skip

    def limits(self, since: str | None = None, until: str | None = None, history: int = 200,
               filters: dict[str, str] | None = None, now=None) -> dict[str, Any]:  # fmt: skip
        if since is None:
            since = ((now or datetime.now(UTC)) - limit_reports.DEFAULT_WINDOW).isoformat()
        flt = self._filter(since, until, None, filters)
        return limit_reports.limits(self.store, flt, Pricing.from_settings(self.settings),
                                    stale_seconds=self.settings.limits_stale_seconds, history=history,
                                    now=now).to_dict()  # fmt: skip

    def current_session(self, project: str | None = None, cwd: str | None = None, since: str | None = None,
                        until: str | None = None, tz: str | None = None, mode: str | None = None,
                        filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        """The session with the latest request (within a project, a directory's project, any filters): its
        detail, as ``session(id)``, with ``current`` saying which it is and how it was chosen."""
        found = current_reports.current_session(self.store, self._filter(since, until, tz, filters), project, cwd)
        return {**self.session(found["session"], since, until, tz, mode), "current": found}

    def monitor(
        self,
        session: str | None = None,
        active_minutes: int | None = None,
        tz: str | None = None,
        mode: str | None = None,
        filters: dict[str, str] | None = None,
        now=None,
    ) -> dict[str, Any]:
        return live_reports.monitor(
            self.store,
            self._filter(None, None, tz, filters),
            Pricing.from_settings(self.settings, mode),
            session=session,
            active_minutes=active_minutes or self.settings.monitor_active_minutes,
            stale_seconds=self.settings.limits_stale_seconds,
            now=now,
        ).to_dict()

    def insights(self, since: str | None = None, until: str | None = None, tz: str | None = None,
                 mode: str | None = None, compare_model: str | None = None, small_output_tokens: int | None = None,
                 filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        options = {"compare_model": compare_model, "small_output_tokens": small_output_tokens}
        return insight_reports.insights(self.store, self._filter(since, until, tz, filters),
                                        Pricing.from_settings(self.settings, mode), options,
                                        view_mode=self.settings.cost_mode).to_dict()  # fmt: skip

    def metric_families(self) -> list:
        """The usage counters for GET /metrics (prometheus_client metric families; not JSON)."""
        return metric_reports.store_families(self.store, self.settings)

    def metrics(self) -> str:
        """GET /metrics's usage counters as Prometheus text (the service adds its health metrics)."""
        return metric_reports.exposition(self.metric_families())

    def budgets(self) -> dict[str, Any]:
        return Budgets(self).body()

    def put_budgets(self, budgets: dict[str, Any] | list) -> dict[str, Any]:
        return Budgets(self).put(budgets)

    def alerts(self, budget: str | None = None, since: str | None = None, limit: int = 1000) -> dict[str, Any]:
        return Budgets(self).alerts(budget, since, limit)

    def timeline(self, session_id: str, mode: str | None = None) -> dict[str, Any]:
        return timeline_reports.timeline(self.store, session_id, self._filter(None, None, None, None),
                                         Pricing.from_settings(self.settings, mode)).to_dict()  # fmt: skip

    def tools(self, since: str | None = None, until: str | None = None, tz: str | None = None, limit: int = 1000,
              filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        return tool_reports.tools(self.store, self._filter(since, until, tz, filters), limit).to_dict()

    def errors(self, since: str | None = None, until: str | None = None, tz: str | None = None,
               mode: str | None = None, filters: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        return error_reports.errors(self.store, self._filter(since, until, tz, filters),
                                    Pricing.from_settings(self.settings, mode)).to_dict()  # fmt: skip

    def activity(
        self,
        group_by: str | None = "day",
        since: str | None = None,
        until: str | None = None,
        tz: str | None = None,
        limit: int = 10_000,
        filters: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return activity_reports.activity(self.store, self._filter(since, until, tz, filters), group_by,
                                         limit).to_dict()  # fmt: skip

    def sql(self, query: str, limit: int = 10_000) -> dict[str, Any]:
        limit = min(limit, self.settings.sql_max_rows)
        result = self.store.query_readonly(query, max_rows=limit, max_seconds=self.settings.sql_max_seconds)
        rows = [{name: jsonable(value) for name, value in zip(result.columns, row, strict=True)} for row in result.rows]
        return SqlResult.model_construct(columns=result.columns, rows=rows, truncated=result.truncated).to_dict()


def jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode(errors="replace")
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
