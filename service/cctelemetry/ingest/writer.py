"""The write path's single door to the store: coalesces batches from concurrent requests into one insert
per table, and tells each request when (and whether) its rows are written.

A request is acknowledged only after its rows are in ClickHouse: the raw tables, and through their
materialized views the fact writer's inbox. The fact writer (facts.py) then takes the new copies in before
the acknowledgement, so a report asked right after sees them. When the queue already holds ``max_rows`` rows
the caller gets ``WriteQueueFull`` (HTTP 429), when the store fails ``StoreUnavailable`` (HTTP 503); OTLP
clients retry both, and nothing is half-acknowledged: a failed flush fails every request in it. Should the
fact writer fail after the insert, the copies wait in the inbox for its next step (the rows are kept, so the
request is acknowledged).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from ..errors import StoreUnavailable, WriteQueueFull
from ..store import Store
from . import facts
from .mapping import TABLE_COLUMNS, Batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Flushed:
    """What one flush did, for the listeners: rows per table, how long the inserts took, and the error when
    it failed (then nothing of it was acknowledged)."""

    rows: dict[str, int]
    seconds: float
    error: str = ""


class BatchWriter:
    def __init__(self, store: Store, *, max_rows: int = 200_000, flush_ms: int = 200):
        self.store = store
        self.max_rows = max_rows
        self.flush_s = flush_ms / 1000
        self._pending: list[tuple[Batch, Future]] = []
        self._pending_rows = 0
        self._cond = threading.Condition()
        self._closed = False
        # Called on the writer's thread after every flush: they must only signal, never wait.
        self.listeners: list[Callable[[Flushed], None]] = []
        self._thread = threading.Thread(target=self._run, name="cctelemetry-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: Batch) -> Future:
        """Queue a batch; the future resolves to the number of rows written, or raises."""
        future: Future = Future()
        rows = sum(len(r) for r in batch.values())
        if rows == 0:
            future.set_result(0)
            return future
        with self._cond:
            if self._closed:
                raise StoreUnavailable("the writer is shutting down")
            if self._pending_rows + rows > self.max_rows:
                raise WriteQueueFull(f"write queue full ({self._pending_rows} rows pending); retry later")
            self._pending.append((batch, future))
            self._pending_rows += rows
            self._cond.notify()
        return future

    def write(self, batch: Batch, timeout: float = 30.0) -> int:
        """Submit and wait until written."""
        try:
            return self.submit(batch).result(timeout=timeout)
        except TimeoutError as exc:
            raise StoreUnavailable(f"the store did not take the write within {timeout:.0f} s") from exc

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed and not self._pending:
                    return
            time.sleep(self.flush_s)  # let concurrent requests join this flush
            with self._cond:
                pending, self._pending, self._pending_rows = self._pending, [], 0
            self._flush(pending)

    def _flush(self, pending: list[tuple[Batch, Future]]) -> None:
        merged: dict[str, list] = defaultdict(list)
        for batch, _ in pending:
            for table, rows in batch.items():
                merged[table].extend(rows)
        started = time.monotonic()
        with facts.LOCK:  # the inbox bookmark must not pass rows this insert is still writing
            try:
                for table, rows in merged.items():
                    self.store.insert(table, rows, TABLE_COLUMNS[table])
            except Exception as exc:  # noqa: BLE001 - every waiting request must learn of it
                log.error("write failed", extra={"error": str(exc), "requests": len(pending)})
                error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(f"write failed: {exc}")
                for _, future in pending:
                    future.set_exception(error)
                self._tell(Flushed(_counts(merged), time.monotonic() - started, str(exc) or type(exc).__name__))
                return
            self._take_in(merged)
        seconds = time.monotonic() - started
        for batch, future in pending:
            future.set_result(sum(len(r) for r in batch.values()))
        self._tell(Flushed(_counts(merged), seconds))

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet flushed."""
        return self._pending_rows

    def _tell(self, flushed: Flushed) -> None:
        for listener in list(self.listeners):
            try:
                listener(flushed)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the writer
                log.exception("a flush listener failed")

    def _take_in(self, merged: dict[str, list]) -> None:
        """The fact writer takes the new copies in. They are already stored (in the inbox): a failure is
        logged and its next step, or the service's periodic one, takes them in."""
        if "otel_logs" not in merged:
            return
        try:
            facts.apply(self.store)
        except Exception as exc:  # noqa: BLE001
            log.error("taking in new requests failed", extra={"error": str(exc)})

    def close(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)


def _counts(merged: dict[str, list]) -> dict[str, int]:
    return {table: len(rows) for table, rows in merged.items()}
