"""The price book's copy in ClickHouse (tables of migrations/0006_model_prices.sql), and when it is made.

The book is read from files (the shipped ``prices.json`` + ``CCTELEMETRY_PRICES_FILE``) and synced into
the store at service start, by ``cctelemetry migrate``, when the files change (the service checks their
modification times every few seconds, ``watch_prices``) and on ``POST /api/v1/prices/reload``. Never from
inside a report: a report reads whatever book the store holds.

``sync_prices`` is idempotent: it does nothing when the tables already hold this book (same digest);
otherwise it fills the ``*_next`` copies and swaps them in with ``EXCHANGE TABLES``, so a report never
sees a half-written book.
"""

from __future__ import annotations

import logging
import os
import threading

from ..errors import Forbidden, QueryError, StoreError
from ..store import Store
from ..store.sqlfiles import ident, load, render, trusted
from .book import PriceBook, PriceBookError, load_book

log = logging.getLogger(__name__)

_TABLES = ("model_prices", "model_price_matches")
_LOCK = threading.Lock()  # one sync at a time per process (the *_next tables are shared)
_BOOKS: dict[tuple[str, float], PriceBook] = {}


def current_book(prices_file: str = "") -> PriceBook:
    """The shipped book + ``prices_file``, read again when the file changes (by its modification time)."""
    mtime = os.stat(prices_file).st_mtime if prices_file and os.path.exists(prices_file) else 0.0
    key = (prices_file, mtime)
    if key not in _BOOKS:
        book = load_book(prices_file)
        _BOOKS.clear()
        _BOOKS[key] = book
    return _BOOKS[key]


def synced_digest(store: Store) -> str:
    return store.scalar("SELECT any(book_digest) FROM model_prices", role="write") or ""


def sync_prices(store: Store, book: PriceBook) -> bool:
    """Make the price tables hold ``book``; returns True when they changed."""
    digest = book.digest()
    with _LOCK:
        if synced_digest(store) == digest:
            if not store.scalar("SELECT count() FROM model_rates", role="write"):
                _derive(store)  # the tables a migration added, for a book synced before it
            return False
        _check_patterns(store, book)
        _swap_in(store, book, digest)
        _derive(store)
    log.info("price book synced", extra={"digest": digest, "models": len(book.models), "files": book.files})
    return True


def _derive(store: Store) -> None:
    """model_rates and model_resolutions for the book now in model_prices, swapped in whole."""
    for table, sql in (("model_rates", _sql("rates", TARGET=ident("model_rates_next"))),
                       ("model_resolutions", _resolutions("model_resolutions_next", "SELECT DISTINCT model FROM "
                                                          "request_copies"))):  # fmt: skip
        store.command(f"TRUNCATE TABLE {table}_next")
        store.command(sql)
        store.command(f"EXCHANGE TABLES {table} AND {table}_next")


def resolve_new_models(store: Store, models_sql: str) -> None:
    """Resolve the model ids of ``models_sql`` (this project's own query with a column ``model``) that have no
    resolution yet (the fact writer, for the ids it just wrote). Under the sync's lock: a sync swapping the
    table meanwhile would drop the new rows."""
    with _LOCK:
        store.command(_resolutions("model_resolutions", models_sql))


def _resolutions(target: str, models_sql: str) -> str:
    return _sql("resolutions", TARGET=ident(target), MODELS=trusted(models_sql))


def _sql(name: str, **tokens) -> str:
    return render(load(__package__, name), **tokens)


def sync_current(store: Store, prices_file: str = "") -> bool:
    """Sync the current book (files re-read if they changed). A read-only store (a reader user on a server)
    keeps the copy the last ``cctelemetry migrate`` synced, and says so once."""
    book = current_book(prices_file)
    try:
        return sync_prices(store, book)
    except Forbidden:
        log.warning("price book changed but the store is read-only: run `cctelemetry migrate`",
                    extra={"digest": book.digest()})  # fmt: skip
        return False


def _swap_in(store: Store, book: PriceBook, digest: str) -> None:
    prices = [{**row, "book_digest": digest} for row in book.price_rows()]
    for table, rows in zip(_TABLES, (prices, book.match_rows()), strict=True):
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
            store.query("SELECT multiMatchAny('', [{p:String}])", {"p": row["key"]}, role="write")
        except (QueryError, StoreError) as exc:
            raise PriceBookError(
                f"model {row['model_id']!r}: pattern {row['key']!r} is not valid in ClickHouse: {exc.message[:200]}"
            ) from exc


class PriceWatcher:
    """Syncs the book into the store when its files change, from a thread of the running service."""

    def __init__(self, store: Store, prices_file: str, interval_s: float = 2.0):
        self.store, self.prices_file, self.interval_s = store, prices_file, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cctelemetry-prices", daemon=True)

    def start(self) -> PriceWatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                sync_current(self.store, self.prices_file)
            except Exception as exc:  # noqa: BLE001 - a bad file is logged; the last good book stays
                log.error("price book not synced", extra={"error": str(exc)})

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
