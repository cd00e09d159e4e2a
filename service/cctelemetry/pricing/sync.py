"""Copy the price book into ClickHouse (tables of migrations/0006_model_prices.sql).

``sync_prices`` is idempotent: it does nothing when the tables already hold this book (same digest);
otherwise it fills the ``*_next`` copies and swaps them in with ``EXCHANGE TABLES``, so a report never
sees a half-written book. Call it at service start and after ``migrate``.
"""

from __future__ import annotations

import logging
import threading

from clickhouse_connect.driver.exceptions import DatabaseError

from ..store import Store
from .book import PriceBook, PriceBookError

log = logging.getLogger(__name__)

_TABLES = ("model_prices", "model_price_matches")
_LOCK = threading.Lock()  # one sync at a time per process (the *_next tables are shared)


def synced_digest(store: Store) -> str:
    return store.scalar("SELECT any(book_digest) FROM model_prices") or ""


def sync_prices(store: Store, book: PriceBook) -> bool:
    """Make the price tables hold ``book``; returns True when they changed."""
    digest = book.digest()
    with _LOCK:
        if synced_digest(store) == digest:
            return False
        _check_patterns(store, book)
        _swap_in(store, book, digest)
    log.info("price book synced", extra={"digest": digest, "models": len(book.models), "files": book.files})
    return True


def _swap_in(store: Store, book: PriceBook, digest: str) -> None:
    prices = [{**row, "book_digest": digest} for row in book.price_rows()]
    for table, rows in zip(_TABLES, (prices, book.match_rows())):
        store.command(f"TRUNCATE TABLE {table}_next")
        columns = list(rows[0])
        store.insert(f"{table}_next", [[r[c] for c in columns] for r in rows], columns)
        store.command(f"EXCHANGE TABLES {table} AND {table}_next")


def _check_patterns(store: Store, book: PriceBook) -> None:
    """Patterns run in ClickHouse (Hyperscan/RE2 syntax): refuse the book before a report breaks."""
    for row in book.match_rows():
        if row["kind"] != "pattern":
            continue
        try:
            store.query("SELECT multiMatchAny('', [{p:String}])", {"p": row["key"]})
        except DatabaseError as exc:
            raise PriceBookError(
                f"model {row['model_id']!r}: pattern {row['key']!r} is not valid in ClickHouse: "
                f"{str(exc).splitlines()[0][:200]}"
            ) from exc
