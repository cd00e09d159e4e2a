"""One request, several sources: merge the copies of a request that telemetry and a transcript both
delivered into one fact row, at write time, so reports need no GROUP BY over every request.

Called by the OTLP writer after each flush and by the transcript importer after each batch, with the
request keys just written; ``merge_all`` repairs everything (e.g. after a crash between the two steps).
"""

from __future__ import annotations

from ..store import Store
from ..store.sqlfiles import load, load_statements

_BATCH = 10_000


def keys_in_batch(batch: dict[str, list[list]]) -> list[str]:
    """The request ids of the api_request events among a batch's otel_logs rows."""
    from .mapping import LOG_COLUMNS

    body, attrs = LOG_COLUMNS.index("Body"), LOG_COLUMNS.index("LogAttributes")
    return [row[attrs].get("request_id", "") for row in batch.get("otel_logs", ())
            if row[body].endswith(".api_request")]  # fmt: skip


def merge_sources(store: Store, keys: list[str], agent_product: str = "claude_code") -> None:
    """Merge, among ``keys``, the requests present in more than one source."""
    keys = sorted({k for k in keys if k})
    for i in range(0, len(keys), _BATCH):
        params = {"agent_product": agent_product, "keys": keys[i : i + _BATCH]}
        for statement in load_statements(__package__, "merge_sources"):
            store.command(statement, params)


def merge_all(store: Store) -> None:
    """Merge every request present in more than one source and not merged yet."""
    rows = store.query(load(__package__, "unmerged"), role="write").result_rows
    for agent_product, keys in rows:
        merge_sources(store, list(keys), agent_product)
