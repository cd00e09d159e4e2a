"""The official rate limits from Claude Code's statusline input -> ``rate_limit_snapshots`` (migration 0011).

Claude Code runs the statusline command on every update (debounced at 300 ms), so the same figures come
many times a minute. A window's figure is stored when it changes, and the same one again at most every
``min_interval_s`` (so its age stays known). The insert runs on a thread of its own: the statusline
endpoint only queues it, and answers at once (on the stack's writer user an insert waits for the async
insert buffer, up to a second).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime

from ..statusline.hook import Hook
from ..store import Store

log = logging.getLogger(__name__)

TABLE = "rate_limit_snapshots"
COLUMNS = ("observed_at", "window", "used_percentage", "resets_at", "session_id", "model", "model_display_name",
           "agent_version", "session_cost_usd", "session_input_tokens", "session_output_tokens", "fast_mode",
           "project_dir", "source")  # fmt: skip
_REMEMBERED = 4096  # (window, session) pairs whose last stored figure is kept, to skip repeats


def snapshot_rows(hook: Hook, observed_at: datetime, source: str = "statusline") -> list[dict]:
    """One row per window in the input's ``rate_limits`` (none when it has none)."""
    at = observed_at.astimezone(UTC)
    return [{
        "observed_at": at, "window": limit.window, "used_percentage": limit.used_percentage,
        "resets_at": datetime.fromtimestamp(int(limit.resets_at), UTC) if limit.resets_at else None,
        "session_id": hook.session_id, "model": hook.model_id, "model_display_name": hook.model_name,
        "agent_version": hook.version, "session_cost_usd": hook.session_cost_usd,
        "session_input_tokens": hook.total_input_tokens, "session_output_tokens": hook.total_output_tokens,
        "fast_mode": int(hook.fast_mode), "project_dir": hook.project_dir or hook.cwd, "source": source,
    } for limit in hook.limits]  # fmt: skip


class SnapshotRecorder:
    """Queues snapshots that say something new and writes them from a thread of its own (``write`` role)."""

    def __init__(self, store: Store, min_interval_s: float = 60.0):
        self.store = store
        self.min_interval_s = min_interval_s
        self._last: OrderedDict[tuple[str, str], tuple[float, object, datetime]] = OrderedDict()
        self._pending: list[dict] = []
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="cctelemetry-limits", daemon=True)
        self._thread.start()

    def record(self, rows: list[dict]) -> int:
        """Queue the rows worth keeping; returns how many."""
        kept = [r for r in rows if self._new(r)]
        if kept:
            with self._cond:
                self._pending.extend(kept)
                self._cond.notify()
        return len(kept)

    def _new(self, row: dict) -> bool:
        key = (row["window"], row["session_id"])
        figure = (row["used_percentage"], row["resets_at"])
        with self._cond:
            last = self._last.get(key)
            if last is not None and (last[0], last[1]) == figure and \
                    (row["observed_at"] - last[2]).total_seconds() < self.min_interval_s:  # fmt: skip
                return False
            self._last[key] = (figure[0], figure[1], row["observed_at"])
            self._last.move_to_end(key)
            while len(self._last) > _REMEMBERED:
                self._last.popitem(last=False)
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is written (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def stop(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed and not self._pending:
                    return
                rows, self._pending, self._busy = self._pending, [], True
            try:
                write(self.store, rows)
            except Exception as exc:  # noqa: BLE001 - a lost snapshot must not stop the next ones
                log.warning("could not store rate-limit snapshots", extra={"rows": len(rows), "error": str(exc)})
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def write(store: Store, rows: list[dict]) -> int:
    """Insert snapshot rows (a few at a time: plain JSON columns, no pandas)."""

    def value(v):
        if not isinstance(v, datetime):
            return v
        return v.strftime("%Y-%m-%d %H:%M:%S") + (f".{v.microsecond // 1000:03d}" if v.microsecond else "")

    return store.insert_plain(TABLE, {c: [value(r[c]) for r in rows] for c in COLUMNS})
