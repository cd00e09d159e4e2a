"""The fact writer: the one place that turns copies of requests into facts.

Every copy of a model request lands in ``api_request_inbox`` first (the materialized views on otel_logs, the
transcript importer). ``apply`` takes what arrived since its bookmark and, in ClickHouse, per request:

1. keeps the copy with the most tokens per source (a retried export or a re-logged line is the same copy);
2. makes one request of copies from two sources (telemetry + a transcript: a 'merged' row, its inputs kept
   as superseded copies), at the time the request was first counted;
3. writes into ``request_copies`` only what differs from what is stored (so taking a copy in twice changes
   nothing), and into the hourly rollup ``usage_hourly`` the change it made: the old live row out (-1), the
   new one in (+1).

So a request never counts twice, not even between two writes, and the rollup always sums to the requests.
Steps run one at a time per process (``LOCK``). A writer holds ``INBOX_LOCK`` across its inbox insert, and a
step holds it while it reads its bookmark and copies the new rows out, so the bookmark (the inbox's
``inserted_at``) never passes a row that is not yet visible; the rest of a step runs beside the next insert.
The OTLP writer does not wait for the fact writer: ``Follower`` takes its flushes in on a thread of its own,
and ``settle`` (before a report reads) catches up with everything written so far. On a ClickHouse server
the collector writes the inbox without us: the service then runs ``apply`` every second and looks
``lookback_s`` behind its bookmark, which is safe because a step is idempotent.

A step that did not finish (a crash, or a store that went away between its writes) leaves ``facts_dirty`` set:
the next step (or ``recover``, at start) rebuilds the rollup from ``request_copies`` and takes the inbox in again.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..pricing.sync import resolve_new_models
from ..store import Store
from ..store.rollup import BOUNDS, GRAIN, MEASURES, usage_rows_sql
from ..store.sqlfiles import Fragment, Ident, ident, load, load_statements, render, trusted

log = logging.getLogger(__name__)

LOCK = threading.RLock()
INBOX_LOCK = threading.RLock()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WORK_TABLES = {"BATCH": "_facts_batch", "STORED": "_facts_stored", "NEW": "_facts_new"}
_WATERMARK, _DIRTY, _ROLLUP = "inbox_watermark", "facts_dirty", "rollup_built"


@dataclass
class Step:
    """What one step took in and wrote."""

    copies: int = 0
    rows_written: int = 0
    seconds: float = 0.0


def _tokens() -> dict:
    tokens: dict[str, Ident | Fragment] = {name: ident(table) for name, table in WORK_TABLES.items()}
    tokens["CONTENT_HASH"] = trusted(load(__package__, "facts_content_hash"))
    tokens["USAGE_ROWS"] = trusted(usage_rows_sql())
    # the rollup's grain and its measures summed (first_at, last_at: min and max), in the table's column order
    tokens["GRAIN"] = trusted(", ".join(GRAIN))
    tokens["SUMS"] = trusted(", ".join([f"sum({m}) AS {m}" for m in MEASURES] + [
        f"{'min' if b == 'first_at' else 'max'}({b}) AS {b}" for b in BOUNDS]))  # fmt: skip
    return tokens


def _sql(name: str) -> str:
    return render(load(__package__, name), **_tokens())


def apply(store: Store, lookback_s: float = 0.0) -> Step:
    """Take in the inbox's copies newer than the bookmark (minus ``lookback_s``); returns what it did."""
    with LOCK:
        started = time.perf_counter()
        if _state(store, _DIRTY):
            # A step of this or an earlier run stopped between its writes (the store went away, the process was
            # killed): request_copies may hold rows the rollup has not. Make the rollup again before going on, so
            # a long-running service heals without waiting for its next start (recover()).
            log.warning("the last fact step did not finish: rebuilding the rollup")
            rebuild_rollup(store)
            _set_state(store, _DIRTY, "")
        with INBOX_LOCK:  # no insert into the inbox until the new copies are read
            written = _progress(store).written
            bookmark = _state(store, _WATERMARK)
            low = datetime.fromisoformat(bookmark) if bookmark else EPOCH
            high = store.scalar("SELECT max(inserted_at) FROM api_request_inbox", role="write")
            if high is None or (high.replace(tzinfo=UTC) if high.tzinfo is None else high) <= low:
                _progress(store).applied = written
                return Step()
            high = high if high.tzinfo else high.replace(tzinfo=UTC)
            since = max(low - timedelta(seconds=lookback_s), EPOCH)
            _set_state(store, _DIRTY, high.isoformat())
            copies = _take_batch(store, since, high)
        step = _step(store, copies)
        for table in WORK_TABLES.values():  # hold no memory (Memory tables) until the next step
            store.command(f"TRUNCATE TABLE `{table}`")
        _set_state(store, _WATERMARK, high.isoformat())
        _set_state(store, _DIRTY, "")
        _progress(store).applied = written
        step.seconds = time.perf_counter() - started
        return step


def _take_batch(store: Store, since: datetime, until: datetime) -> int:
    """Copy the inbox's rows in (since, until] into the batch table; how many copies."""
    for statement in load_statements(__package__, "facts_tables", **{k: ident(v) for k, v in WORK_TABLES.items()}):
        store.command(statement)
    for table in WORK_TABLES.values():
        store.command(f"TRUNCATE TABLE `{table}`")
    bounds = {"lo": _naive(since), "hi": _naive(until)}
    store.command(_sql("facts_batch"), bounds)
    return int(store.scalar(f"SELECT count() FROM `{WORK_TABLES['BATCH']}`", role="write") or 0)


def _step(store: Store, copies: int) -> Step:
    if not copies:
        return Step()
    if int(store.scalar(_sql("facts_stored_any"), role="write") or 0):
        store.command(_sql("facts_stored"))
    version = {"version": time.time_ns() // 1000}
    store.command(_sql("facts_fresh"), version)
    if int(store.scalar(_sql("facts_contested"), role="write") or 0):
        store.command(_sql("facts_resolve"), version)
    written = int(store.scalar(f"SELECT count() FROM `{WORK_TABLES['NEW']}`", role="write") or 0)
    if written:
        resolve_new_models(store, f"SELECT DISTINCT model FROM `{WORK_TABLES['NEW']}`")
        store.command(_sql("facts_write"))
        store.command(_sql("facts_rollup"))
        store.command(_sql("facts_resources"))
    return Step(copies=copies, rows_written=written)


@dataclass
class _Progress:
    written: int = 0  # inserts into the inbox by this process's writer
    applied: int = 0  # of those, how many the last step took in


_PROGRESS: weakref.WeakKeyDictionary[Store, _Progress] = weakref.WeakKeyDictionary()


def _progress(store: Store) -> _Progress:
    progress = _PROGRESS.get(store)
    if progress is None:
        progress = _PROGRESS.setdefault(store, _Progress())
    return progress


def note_written(store: Store) -> None:
    """The writer inserted into the inbox (under INBOX_LOCK): a step is due."""
    _progress(store).written += 1


def settle(store: Store) -> None:
    """Take in what this process wrote and no step took in yet (nothing to do, and no query, otherwise). Reports
    that settle at the same time share one step: whoever waited for the lock finds its writes taken in already."""
    progress = _progress(store)
    target = progress.written
    if progress.applied >= target:
        return
    with LOCK:
        if progress.applied < target:
            apply(store)


def recover(store: Store) -> bool:
    """After an unfinished step, or when the rollup was never built (a new migration): rebuild the rollup from
    request_copies, then take in the inbox. Returns True when it rebuilt."""
    with LOCK:
        if _state(store, _DIRTY) == "" and _state(store, _ROLLUP) == "1":
            apply(store)
            return False
        rebuild_rollup(store)
        _set_state(store, _DIRTY, "")
        _set_state(store, _ROLLUP, "1")
    apply(store)
    return True


def rebuild_rollup(store: Store) -> None:
    with LOCK:
        resolve_new_models(store, "SELECT DISTINCT model FROM request_copies")
        # the daily rollup is fed from the hourly one's inserts (migration 0015): both start again from nothing
        store.command("TRUNCATE TABLE usage_daily")
        store.command("TRUNCATE TABLE usage_hourly")
        for statement in load_statements(__package__, "rollup_rebuild", USAGE_ROWS=trusted(usage_rows_sql())):
            store.command(statement)
        log.info("rollup rebuilt", extra={"rows": store.scalar("SELECT count() FROM usage_hourly", role="write")})


def _state(store: Store, key: str) -> str:
    value = store.scalar("SELECT argMax(value, updated_at) FROM ingest_state WHERE key = {k:String}", {"k": key},
                         role="write")  # fmt: skip
    return value or ""


def _set_state(store: Store, key: str, value: str) -> None:
    store.insert_plain("ingest_state", {"key": [key], "value": [value]})


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class FactRunner:
    """On a ClickHouse server the collector fills the inbox: take it in every ``interval_s`` seconds."""

    def __init__(self, store: Store, interval_s: float = 1.0, lookback_s: float = 30.0):
        self.store, self.interval_s, self.lookback_s = store, interval_s, lookback_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cctelemetry-facts", daemon=True)

    def start(self) -> FactRunner:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                apply(self.store, self.lookback_s)
            except Exception as exc:  # noqa: BLE001 - logged; the next round tries again
                log.error("taking in the inbox failed", extra={"error": str(exc)})

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class Follower:
    """Takes the writer's flushes in on its own thread: woken by each flush, at most one step per ``gap_s``
    (under load one step takes many flushes in, which is cheaper than one step each; a report does not wait
    for it: it settles first)."""

    def __init__(self, store: Store, gap_s: float = 1.0):
        self.store, self.gap_s = store, gap_s
        self._wake, self._stop = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="cctelemetry-facts-follower", daemon=True)

    def start(self) -> Follower:
        self.thread.start()
        return self

    def poke(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                settle(self.store)
            except Exception as exc:  # noqa: BLE001 - logged; the next flush or report tries again
                log.error("taking in new requests failed", extra={"error": str(exc)})
            self._stop.wait(self.gap_s)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.thread.join(10)
