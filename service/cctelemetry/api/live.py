"""The running service's live figures: the monitor snapshot (reports/live.py) kept fresh for statuslines and
monitors, and the recorder of official rate limits (ingest/rate_limits.py).

A statusline asks on every update (debounced at 300 ms) and must answer in milliseconds, while the figures
it shows take reports of tens to hundreds of milliseconds. So they are computed on a thread of their own and
served as last computed: a request finds them at most ``CCTELEMETRY_STATUSLINE_REFRESH_SECONDS`` old (an
older one is served once more while a refresh starts), recomputed only when the tables they read changed
(or every 30 s, for the clock-bound parts: an active block's time left). Nothing is computed while nobody
asks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from ..errors import BadRequest
from ..ingest.rate_limits import SnapshotRecorder
from ..reports.cache import fingerprint
from ..reports.usage import READS
from .state import ServiceState

log = logging.getLogger(__name__)

TABLES = tuple(dict.fromkeys((*READS, "rate_limit_snapshots")))
UNCHANGED_MAX_AGE = 30.0  # seconds: recomputed at least this often while asked, even if no table changed
MAX_KEYS = 64


class FreshCache:
    """Values per key, computed by one worker thread, served as last computed (see the module's doc)."""

    def __init__(self, compute: Callable[[tuple], Any], version: Callable[[], Any], max_age: float):
        self.compute, self.version, self.max_age = compute, version, max_age
        self._entries: OrderedDict[tuple, list] = OrderedDict()  # key -> [value, checked_at, computed_at, version]
        self._running: dict[tuple, Future] = {}
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cctelemetry-live")

    def get(self, key: tuple, wait: float) -> Any:
        """The value for ``key``; the first time, waits up to ``wait`` seconds for it (None if not ready)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                if time.monotonic() - entry[1] > self.max_age:
                    self._refresh(key)
                return entry[0]
            future = self._refresh(key)
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            return None
        except Exception:  # noqa: BLE001 - logged by the worker; the caller answers without the figures
            return None

    def _refresh(self, key: tuple) -> Future:
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = self._worker.submit(self._update, key)
        return running

    def _update(self, key: tuple) -> Any:
        try:
            version = self.version()
            with self._lock:
                entry = self._entries.get(key)
            now = time.monotonic()
            if entry is not None and entry[3] == version and now - entry[2] < UNCHANGED_MAX_AGE:
                entry[1] = now
                return entry[0]
            value = self.compute(key)
            with self._lock:
                self._entries[key] = [value, now, now, version]
                self._entries.move_to_end(key)
                while len(self._entries) > MAX_KEYS:
                    self._entries.popitem(last=False)
            return value
        except BadRequest:  # the caller's parameters: its answer (a 400), not a failure to log
            raise
        except Exception:
            log.exception("live figures could not be computed", extra={"key": repr(key)})
            raise
        finally:
            with self._lock:
                self._running.pop(key, None)

    def stop(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)


class Live:
    """One per running service: ``recorder`` (rate-limit snapshots) and ``snapshot(...)`` (monitor figures)."""

    def __init__(self, state: ServiceState):
        settings = state.settings
        self.recorder = SnapshotRecorder(state.store, settings.limits_snapshot_seconds)
        self.snapshots = FreshCache(
            lambda key: state.reports.monitor(**_params(key)),
            lambda: fingerprint(state.store, TABLES),
            settings.statusline_refresh_seconds,
        )

    def snapshot(self, wait: float, **params) -> dict | None:
        """``Reports.monitor(**params)`` as last computed (``filters`` as a tuple of pairs, to be a key)."""
        return self.snapshots.get(tuple(sorted((k, v) for k, v in params.items() if v is not None)), wait)

    def stop(self) -> None:
        self.snapshots.stop()
        self.recorder.stop()


def _params(key: tuple) -> dict:
    params = dict(key)
    params["filters"] = dict(params.get("filters") or ())
    return params


_LOCK = threading.Lock()


def live_for(state: ServiceState) -> Live:
    """The service's ``Live``, made on first use, kept on the state and stopped with the service (it is one of
    its watchers)."""
    with _LOCK:
        live = state.__dict__.get("_live")
        if live is None:
            live = state.__dict__["_live"] = Live(state)
            state.watchers.append(live)
        return live
