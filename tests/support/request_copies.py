"""Write copies of requests as the sources do: into the fact writer's inbox, then let it take them in."""

from __future__ import annotations

from cctelemetry.ingest import facts


def insert_copies(store, rows: list[list], columns: list[str], take_in: bool = True) -> None:
    store.insert("api_request_inbox", rows, columns)
    if take_in:
        facts.apply(store)


def live_requests(store, where: str = "1", params: dict | None = None) -> list[dict]:
    """The live row of every request (what the `requests` view counts), unpriced."""
    return store.rows(f"SELECT * FROM request_copies FINAL WHERE superseded = 0 AND ({where})", params or {})
