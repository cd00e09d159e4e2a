"""Giving memory back when the embedded service is idle.

An idle service used to hold 560-640 MB resident. Measured (docs/ingest.md): about 390 MB of it are pages of
the engine's shared library (chdb's ``_chdb.abi3.so`` is over 500 MB) that its start-up touched once (every
function, format and table engine registers itself) and rarely needs again, and most of the rest is memory
the engine's allocator (jemalloc) and Python's keep after work is done. So once the writer has been idle for
``idle_trim_seconds`` after writing, and once at start:

- ``SYSTEM JEMALLOC PURGE``: the engine's allocator returns its freed pages
  (https://clickhouse.com/docs/sql-reference/statements/system#jemalloc-purge);
- ``malloc_trim(0)``: so does glibc's, which Python's large objects use (malloc_trim(3));
- ``madvise(MADV_PAGEOUT)`` over the engine library's mappings: the kernel drops the pages of its code that
  are resident; they are clean file pages, read back from the file when used again (madvise(2), Linux 5.4+).

Each step is best effort: on a system without one of them, it is skipped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time

from ..store import Store

log = logging.getLogger(__name__)

MADV_PAGEOUT = 21


class IdleTrimmer:
    """A watcher: trims once at start (``start``, before the service answers, so that what it holds from then
    on grows only with use) and once per idle period that follows writes."""

    def __init__(self, store: Store, idle_s: float = 5.0):
        self.store, self.idle_s = store, idle_s
        self._last_write = time.monotonic()
        self._trimmed = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cctelemetry-idle-trim", daemon=True)

    def start(self) -> IdleTrimmer:
        if self.idle_s > 0:
            try:
                trim(self.store)
            except Exception as exc:  # noqa: BLE001 - best effort; the service goes on
                log.warning("giving memory back failed", extra={"error": str(exc)})
            self._thread.start()
        return self

    def on_flush(self, flushed) -> None:
        """The writer's listener (only signals)."""
        self._last_write = time.monotonic()
        self._trimmed = False

    def _run(self) -> None:
        while not self._stop.wait(min(1.0, self.idle_s)):
            if not self._trimmed and time.monotonic() - self._last_write >= self.idle_s:
                self._trimmed = True
                try:
                    trim(self.store)
                except Exception as exc:  # noqa: BLE001 - best effort; the service goes on
                    log.warning("giving memory back failed", extra={"error": str(exc)})

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)


def trim(store: Store) -> None:
    store.command("SYSTEM JEMALLOC PURGE", role="control")
    libc = _libc()
    if libc is None:
        return
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
    for start, end in _engine_mappings():
        libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), MADV_PAGEOUT)


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return libc


def _engine_mappings() -> list[tuple[int, int]]:
    """The address ranges where chdb's library is mapped from its file (Linux /proc/self/maps)."""
    ranges = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split()
                if len(parts) >= 6 and "chdb" in parts[5] and parts[5].endswith(".so"):
                    low, high = (int(x, 16) for x in parts[0].split("-"))
                    ranges.append((low, high))
    except OSError:
        pass
    return ranges
