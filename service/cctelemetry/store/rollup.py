"""What the write path and the read path share about the hourly rollup (``usage_hourly``): how a request
becomes a row of it (``sql/usage_rows.sql``) and the rollup's columns, in the table's order.

The fact writer feeds the rollup with this mapping, and the reports use the same mapping for the requests
they read one by one (the edges of a window, the per-request views), so both give the same numbers.
"""

from __future__ import annotations

from .sqlfiles import load, render, trusted

# usage_hourly's columns, as usage_rows.sql makes them: the grain, then the measures.
GRAIN = ("hour", "agent_product", "session_id", "user", "model", "agent", "query_source", "speed", "effort", "skill",
         "plugin", "mcp_server", "subagent", "entrypoint", "terminal", "service_name", "project", "git_branch",
         "organization_id", "sources", "resource_id", "long_context", "reported_kind")  # fmt: skip
MEASURES = ("requests", "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
            "cache_creation_tokens", "cache_write_1h_known", "cache_write_unknown", "web_search_requests",
            "reported_cost")  # fmt: skip
# A row's first and last request (min and max when rows are summed): exact per session, since a request keeps
# its time once counted and never leaves its session.
BOUNDS = ("first_at", "last_at")
COLUMNS = GRAIN + MEASURES + BOUNDS


def usage_rows_sql(extra: str = "") -> str:
    """Rows of ``usage_hourly`` from a CTE ``facts`` (request_copies rows and a ``sign``, +1 or -1). ``extra`` is
    a list of this project's own columns (``, timestamp, request_key``) kept for per-request views."""
    return render(load(__package__, "usage_rows"), EXTRA=trusted(extra))
