"""Report results, reused until the data they were computed from changes.

Dashboards, the statusline and monitors ask the same reports again and again. Over 100k requests a grouped
report costs about 100 ms, and most of that is ClickHouse planning the pricing SQL, not reading data. So the
running service keeps each result with a fingerprint of the tables it read, and reuses it only while the
fingerprint is the same. The fingerprint is read before every use, so a result is never older than the
data: every insert, merge, TTL deletion or mutation makes new parts (a new name in ``system.parts``), and
the price book's sync swaps tables (a new UUID in ``system.tables``). This holds on a ClickHouse server too,
where the collector writes without the service knowing.

Only the long-running service enables it (``enable(store)``, ``CCTELEMETRY_REPORT_CACHE``); a one-shot CLI
process would never see a repeat.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

from ..store import Store

# The names of every table part and each table's identity: changes whenever the data can have changed.
_FINGERPRINT = """
SELECT cityHash64(
    toString((SELECT groupArraySorted(1000)((name, toString(uuid))) FROM system.tables
              WHERE database = currentDatabase() AND name IN {tables:Array(String)})),
    toString((SELECT groupArraySorted(1000000)((table, name)) FROM system.parts
              WHERE database = currentDatabase() AND table IN {tables:Array(String)} AND active)))
"""

_CACHES: weakref.WeakKeyDictionary[Store, ResultCache] = weakref.WeakKeyDictionary()


class ResultCache:
    """An LRU of row lists, each valid for one fingerprint of the tables it read, bounded in entries and in
    rows kept (a report by session over a year can be 10,000 rows: a few of those, not hundreds)."""

    def __init__(self, max_entries: int = 256, max_rows: int = 100_000):
        self.max_entries = max_entries
        self.max_rows = max_rows
        self.hits = self.misses = 0
        self._entries: OrderedDict[tuple, tuple[int, list]] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, store: Store, tables: tuple[str, ...], key: tuple, compute: Callable[[], list]) -> list:
        """The rows for ``key``: the kept ones while ``tables`` are unchanged, else ``compute()``'s."""
        version = fingerprint(store, tables)
        full_key = (tables, key)
        with self._lock:
            kept = self._entries.get(full_key)
            if kept is not None and kept[0] == version:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return kept[1]
            self.misses += 1
        result = compute()
        if len(result) > self.max_rows // 4:
            return result  # too big to keep
        with self._lock:
            old = self._entries.pop(full_key, None)
            self._rows -= len(old[1]) if old else 0
            self._entries[full_key] = (version, result)
            self._rows += len(result)
            while len(self._entries) > self.max_entries or self._rows > self.max_rows:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._rows -= len(dropped)
        return result


def fingerprint(store: Store, tables: tuple[str, ...]) -> int:
    return int(store.scalar(_FINGERPRINT, {"tables": list(tables)}))


def enable(store: Store, max_entries: int = 256) -> ResultCache:
    """Keep report results for ``store`` from now on (the service does, at start)."""
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES[store] = ResultCache(max_entries)
    return cache


def for_store(store: Store) -> ResultCache | None:
    return _CACHES.get(store)


def params_key(params: dict) -> tuple:
    """A hashable, order-free form of query parameters (values as their repr: datetimes, lists, ...)."""
    return tuple(sorted((k, repr(v)) for k, v in params.items()))
