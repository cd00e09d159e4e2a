"""The write path's single door to the store: coalesces batches from concurrent requests into one insert
per table, and tells each request when (and whether) its rows are written.

Group commit: a flush starts as soon as the previous one ended and takes everything that arrived meanwhile
(``flush_ms`` adds a wait before it, 0 by default), so the busier the service, the bigger and cheaper per
row its inserts. Bodies already acknowledged (journaled) linger up to 200 ms for company first (``_linger``).

Two ways in:

- ``submit(batch)``: rows mapped by Python (metrics, traces, JSON bodies, log bodies the policy changes). The
  future resolves once they are in ClickHouse (the raw tables, and through their materialized views the fact
  writer's inbox).
- ``submit_logs(raw)``: a protobuf log body, flattened by ClickHouse at the flush (raw_logs.py). Embedded,
  the body is first appended to the journal (journal.py) and acknowledged at once; the flush stores it, and a
  restart stores what a killed process left. On a server (no journal) it is acknowledged once stored.

When the queue already holds ``max_rows`` rows the caller gets ``WriteQueueFull`` (HTTP 429), when the store
fails ``StoreUnavailable`` (HTTP 503); OTLP clients retry both, and nothing is half-acknowledged: a failed flush
fails every request in it that waits, and keeps journaled bodies for the next try.

The fact writer (facts.py) takes the new copies in after the flush, on its own thread, so acknowledging never
waits for it. Reports still see every acknowledged row: before a report reads (``Store.before_read``), the
writer stores what is pending and the fact writer catches up (``settle``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreUnavailable, WriteQueueFull
from ..store import Store
from . import facts
from .decode import decode_request
from .journal import Journal
from .mapping import TABLE_COLUMNS, Batch
from .outcome import DEFAULT_POLICY, Mapped, map_request
from .policy import IngestPolicy, count_items
from .raw_logs import RawBody, RawLogs, plain

log = logging.getLogger(__name__)

JOURNAL_FOLDER = "ingest-journal"
RETRY_S = 1.0  # after a failed flush of journaled bodies
SETTLE_TIMEOUT_S = 30.0
# Journaled bodies wait this long, or until this many rows are pending, before a flush (see _linger).
LINGER_S, LINGER_ROWS = 0.2, 5_000
# A backlog is stored in flushes of about this many rows: bigger ones cost the engine more memory than they save.
MAX_FLUSH_ROWS = 20_000


@dataclass(frozen=True)
class Flushed:
    """What one flush did, for the listeners: rows per table, how long the inserts took, and the error when
    it failed (then nothing of it was acknowledged)."""

    rows: dict[str, int]
    seconds: float
    error: str = ""


@dataclass
class _Entry:
    rows: int
    batch: Batch | None = None
    raw: RawBody | None = None
    future: Future | None = None  # None: acknowledged already (journaled)
    segment: int | None = None


class BatchWriter:
    def __init__(
        self,
        store: Store,
        *,
        max_rows: int = 200_000,
        flush_ms: int = 0,
        journal: bool | None = None,
        policy: IngestPolicy = DEFAULT_POLICY,
    ):
        self.store = store
        self.policy = policy  # for what a previous run journaled
        self.max_rows = max_rows
        self.flush_s = flush_ms / 1000
        self._pending: list[_Entry] = []
        self._pending_rows = 0
        self._accepted = 0  # entries taken in, ever
        self._done = 0  # entries stored (or failed and told so), ever
        self._cond = threading.Condition()
        self._closed = False
        self._oldest = 0.0  # when the oldest pending entry arrived
        self._settling = 0  # reports waiting for the pending entries
        self._raw = RawLogs(store)
        self.max_flush_rows = MAX_FLUSH_ROWS
        # Journal only where the data folder is ours (embedded); on a server a body is acknowledged once stored.
        use_journal = store.embedded if journal is None else journal
        self.journal = Journal(Path(store.target.path) / JOURNAL_FOLDER / store.database) if use_journal else None
        # Called on the writer's thread after every flush: they must only signal, never wait.
        self.listeners: list[Callable[[Flushed], None]] = []
        self.follower = facts.Follower(store).start()
        self._thread = threading.Thread(target=self._run, name="cctelemetry-writer", daemon=True)
        if self.journal is not None:
            self._replay()
        self._thread.start()
        store.before_read = self.settle

    # -- taking in -------------------------------------------------------------------------------

    def submit(self, batch: Batch) -> Future:
        """Queue a batch; the future resolves to the number of rows written, or raises."""
        future: Future = Future()
        rows = sum(len(r) for r in batch.values())
        if rows == 0:
            future.set_result(0)
            return future
        self._enqueue(_Entry(rows, batch=batch, future=future))
        return future

    def submit_logs(self, raw: RawBody) -> Future:
        """Queue a protobuf log body (checked with ``raw_logs.plain``); the future resolves to its ``Mapped``
        once it is journaled (embedded) or stored (server)."""
        rows = raw.rows
        future: Future = Future()
        if rows == 0:
            future.set_result(Mapped({}))
            return future
        if self.journal is None:
            self._enqueue(_Entry(rows, raw=raw, future=future))
            return future
        self._enqueue(_Entry(rows, raw=raw), journal=raw.data)
        future.set_result(Mapped({}))
        return future

    def _enqueue(self, entry: _Entry, journal: bytes | None = None) -> None:
        with self._cond:
            if self._closed:
                raise StoreUnavailable("the writer is shutting down")
            if self._pending_rows + entry.rows > self.max_rows:
                raise WriteQueueFull(f"write queue full ({self._pending_rows} rows pending); retry later")
            if journal is not None and self.journal is not None:
                entry.segment = self.journal.append(journal)  # under the lock: a segment is one flush's bodies
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(entry)
            self._pending_rows += entry.rows
            self._accepted += 1
            self._cond.notify_all()

    def write(self, batch: Batch, timeout: float = 30.0) -> int:
        """Submit and wait until written."""
        try:
            return self.submit(batch).result(timeout=timeout)
        except TimeoutError as exc:
            raise StoreUnavailable(f"the store did not take the write within {timeout:.0f} s") from exc

    def _replay(self) -> None:
        """Store what a previous process journaled and did not store (before taking anything new in)."""
        if self.journal is None:
            return
        for number, bodies in self.journal.leftovers():
            entries = []
            for data in bodies:
                message = decode_request("logs", data, "application/x-protobuf")
                rows = count_items("logs", message)
                if plain(message, self.policy):
                    entries.append(_Entry(rows, raw=RawBody(data, self.policy, rows), segment=number))
                else:  # the policy changed since (a tighter limit): Python maps it under today's
                    entries.append(_Entry(rows, batch=map_request("logs", message, self.policy).batch, segment=number))
            log.info(
                "storing journaled OTLP bodies of a previous run", extra={"segment": number, "bodies": len(bodies)}
            )
            if entries:
                with self._cond:  # counted as taken in, as the flush counts them stored
                    self._accepted += len(entries)
                    self._pending_rows += sum(e.rows for e in entries)
                if not self._flush(entries, retry=False):  # the segment stays for the next start
                    raise StoreUnavailable(
                        f"could not store the OTLP bodies journaled by a previous run (segment {number})"
                    )
            self.journal.drop(number)

    # -- flushing ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed and not self._pending:
                    return
                if not self.flush_s:
                    self._linger()
            if self.flush_s:
                time.sleep(self.flush_s)  # let concurrent requests join this flush
            with self._cond:
                pending, self._pending = _take(self._pending, self.max_flush_rows)
                if self.journal is not None:
                    self.journal.rotate()  # what arrives from now on goes to the next flush's segment
            if not self._flush(pending):
                time.sleep(RETRY_S)

    def _linger(self) -> None:
        """(Holding the lock.) Bodies acknowledged from the journal wait for company, up to ``LINGER_S`` or
        ``LINGER_ROWS`` rows: a flush costs about as much for a few rows as for thousands, and a writer flushing
        every few bodies would keep a core busy at a modest rate. Nobody waits meanwhile: a request waiting for
        its rows, a report (``settle``) or closing flush at once."""
        deadline = self._oldest + LINGER_S
        while (not self._closed and not self._settling and self._pending_rows < LINGER_ROWS
               and all(e.future is None for e in self._pending)):  # fmt: skip
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _flush(self, pending: list[_Entry], retry: bool = True) -> bool:
        """Store ``pending``; False when it failed (journaled bodies are then queued again, first)."""
        merged: dict[str, list] = defaultdict(list)
        for entry in pending:
            for table, rows in (entry.batch or {}).items():
                merged[table].extend(rows)
        raws = [entry for entry in pending if entry.raw is not None]
        started = time.monotonic()
        flattened = 0
        try:
            python, mapped = self._stage(raws)
            for i in python:
                for table, rows in mapped[i].batch.items():
                    merged[table].extend(rows)
            with facts.INBOX_LOCK:  # the inbox bookmark must not pass rows this insert is still writing
                if len(python) < len(raws):
                    self._raw.flatten(python)
                    flattened = sum(e.rows for i, e in enumerate(raws) if i not in python)
                for table, rows in merged.items():
                    self.store.insert(table, rows, TABLE_COLUMNS[table], role="ingest")
                facts.note_written(self.store)
            if raws:
                self._raw.clear()
        except Exception as exc:  # noqa: BLE001 - every waiting request must learn of it
            log.error("write failed", extra={"error": str(exc), "requests": len(pending)})
            if raws:
                try:
                    self._raw.clear()  # the next flush stages these bodies again
                except Exception:  # noqa: BLE001 - the store is failing; the next flush clears it
                    self._raw.forget()
            error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(f"write failed: {exc}")
            again = [e for e in pending if e.future is None] if retry else []
            with self._cond:
                for entry in pending:
                    if entry.future is not None:
                        entry.future.set_exception(error)
                self._pending = again + self._pending
                self._pending_rows -= sum(e.rows for e in pending if e.future is not None)
                self._done += len(pending) - len(again)
                self._cond.notify_all()
            self._tell(Flushed(_counts(merged), time.monotonic() - started, str(exc) or type(exc).__name__))
            return False
        seconds = time.monotonic() - started
        with self._cond:
            for entry in pending:
                if entry.future is not None:
                    entry.future.set_result(mapped_result(entry, mapped, raws))
            self._pending_rows -= sum(e.rows for e in pending)
            self._done += len(pending)
            self._cond.notify_all()
        if self.journal is not None:
            # a segment is dropped once none of its bodies waits (a flush may take part of a big backlog)
            with self._cond:
                waiting = {e.segment for e in self._pending}
            for segment in {e.segment for e in pending if e.segment is not None} - waiting:
                self.journal.drop(segment)
        counts = _counts(merged)
        if flattened:
            counts["otel_logs"] = counts.get("otel_logs", 0) + flattened
        self._tell(Flushed(counts, seconds))
        self.follower.poke()
        return True

    def _stage(self, raws: list[_Entry]) -> tuple[set[int], dict[int, Mapped]]:
        """Stage the raw bodies; those ClickHouse does not flatten exactly are mapped by Python here."""
        bodies = [e.raw for e in raws if e.raw is not None]  # every entry given here has one
        if not bodies:
            return set(), {}
        try:
            python = self._raw.stage([b.data for b in bodies], bodies[0].policy)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a body upb accepts and ClickHouse's reader does not
            log.warning(
                "ClickHouse could not read the bodies of this flush; Python maps them", extra={"error": str(exc)}
            )
            python = set(range(len(raws)))
        return python, {i: map_request("logs", bodies[i].message(), bodies[i].policy) for i in python}

    @property
    def pending_rows(self) -> int:
        """Rows queued (or being stored) and not yet stored."""
        return self._pending_rows

    def _tell(self, flushed: Flushed) -> None:
        for listener in list(self.listeners):
            try:
                listener(flushed)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the writer
                log.exception("a flush listener failed")

    # -- reading after writing -------------------------------------------------------------------------

    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> None:
        """Before a report reads: everything acknowledged so far is stored, and the fact writer has taken it
        in. Immediate when nothing is pending; never waits on the writer's or the fact writer's own thread."""
        if threading.current_thread() in (self._thread, self.follower.thread):
            return
        with self._cond:
            target = self._accepted
            deadline = time.monotonic() + timeout
            self._settling += 1
            self._cond.notify_all()  # a lingering writer flushes now
            try:
                while self._done < target and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            finally:
                self._settling -= 1
        facts.settle(self.store)

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if getattr(self.store, "before_read", None) == self.settle:
            self.store.before_read = None
        self.follower.stop()
        if self.journal is not None:
            self.journal.close()


def mapped_result(entry: _Entry, mapped: dict[int, Mapped], raws: list[_Entry]):
    """What a waiting request learns: rows written (a batch), or its ``Mapped`` (a raw body)."""
    if entry.raw is None:
        return entry.rows
    for index in mapped:  # only the bodies Python mapped have something to say (few)
        if raws[index] is entry:
            return mapped[index]
    return Mapped({})


def _take(pending: list[_Entry], max_rows: int) -> tuple[list[_Entry], list[_Entry]]:
    """(the first entries of ``pending`` up to ``max_rows`` rows, at least one; the rest)."""
    rows = 0
    for n, entry in enumerate(pending):
        rows += entry.rows
        if rows > max_rows and n:
            return pending[:n], pending[n:]
    return pending, []


def _counts(merged: dict[str, list]) -> dict[str, int]:
    return {table: len(rows) for table, rows in merged.items()}
