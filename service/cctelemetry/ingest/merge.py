"""One request, several sources: merge the copies of a request that telemetry and a transcript both
delivered into one fact row, at write time, so reports need no GROUP BY over every request.

Called by the OTLP writer after each flush and by the transcript importer after each batch, with the
request keys just written; ``merge_all`` repairs everything (e.g. after a crash between the two steps).
"""

from __future__ import annotations

from importlib import resources

from ..store import Store

_BATCH = 10_000


def _statements() -> list[str]:
    text = resources.files("cctelemetry.ingest").joinpath("sql", "merge_sources.sql").read_text()
    return [s.strip() for s in text.split(";\n") if any(l.strip() and not l.strip().startswith("--")
                                                        for l in s.splitlines())]  # fmt: skip


def keys_in_batch(batch: dict[str, list[list]]) -> list[str]:
    """The request ids of the api_request events among a batch's otel_logs rows."""
    from .mapping import LOG_COLUMNS

    body, attrs = LOG_COLUMNS.index("Body"), LOG_COLUMNS.index("LogAttributes")
    return [row[attrs].get("request_id", "") for row in batch.get("otel_logs", ())
            if row[body].endswith(".api_request")]  # fmt: skip


# Agents whose request key the materialized views compute from content (migrations/0009): the writer cannot
# read it off the event, so it looks up what it just wrote.
CONTENT_KEYED = {"codex.sse_event": "codex", "gemini_cli.api_response": "gemini_cli"}


def agents_in_batch(batch: dict[str, list[list]]) -> set[str]:
    """The content-keyed agents (``CONTENT_KEYED``) whose request events are among a batch's otel_logs rows."""
    from .mapping import LOG_COLUMNS

    attrs = LOG_COLUMNS.index("LogAttributes")
    return {CONTENT_KEYED[name] for row in batch.get("otel_logs", ())
            if (name := row[attrs].get("event.name", "")) in CONTENT_KEYED}  # fmt: skip


def merge_written_since(store: Store, agents: set[str], since: str) -> None:
    """Merge the requests of ``agents`` that telemetry wrote since ``since`` (UTC, 'YYYY-MM-DD hh:mm:ss.fff')
    and that another source delivered too."""
    for agent_product in sorted(agents):
        keys = store.query(
            "SELECT DISTINCT request_key FROM api_requests WHERE agent_product = {a:String} AND source = 'otel' "
            "AND inserted_at >= {since:DateTime64(3, 'UTC')}",
            {"a": agent_product, "since": since},
        ).result_rows
        if keys:
            merge_sources(store, [k for (k,) in keys], agent_product)


def merge_sources(store: Store, keys: list[str], agent_product: str = "claude_code") -> None:
    """Merge, among ``keys``, the requests present in more than one source."""
    keys = sorted({k for k in keys if k})
    for i in range(0, len(keys), _BATCH):
        params = {"agent_product": agent_product, "keys": keys[i : i + _BATCH]}
        for statement in _statements():
            store.command(statement, params)


def merge_all(store: Store) -> None:
    """Merge every request present in more than one source and not merged yet."""
    rows = store.query(
        "SELECT agent_product, groupArray(request_key) FROM (SELECT agent_product, request_key FROM api_requests "
        "FINAL WHERE superseded = 0 GROUP BY agent_product, request_key HAVING uniqExact(source) > 1 "
        "AND NOT has(groupArray(source), 'merged')) GROUP BY agent_product"
    ).result_rows
    for agent_product, keys in rows:
        merge_sources(store, list(keys), agent_product)
