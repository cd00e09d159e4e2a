"""The import: find the files, read the new bytes in batches, write the new requests, save the state.

The steps after reading (``sql/candidates.sql``, ``plan.sql``, ``insert.sql``) run once per import, over
every request line of the run, so copies of one response in different batches still collapse.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from queue import Full, Queue

from ...store import Store
from .. import facts
from . import statcache
from .agents import AGENTS, Agent, get_agent
from .batches import DEFAULT_BATCH_BYTES, ImportRun, release_memory
from .files import TranscriptFile, list_files, load_state, plan_read, save_state
from .summary import MAX_ERRORS, FileProgress, ImportSummary, ProgressFn

log = logging.getLogger(__name__)

# Line kinds from sql/lines.sql that are skipped (the others: 'request', 'other').
SKIP_KINDS = ("blank", "invalid_json", "unknown_shape", "synthetic")

# Requests planned and handed to the fact writer per step (its working tables hold about 0.5 KB per request).
FACT_STEP_ROWS = 150_000

_RUN_LOCK = threading.Lock()  # one import at a time per process (watch loop, API, CLI share a store)


# -- the import ------------------------------------------------------------------------------------


def import_transcripts(
    store: Store,
    paths: list[Path] | None = None,
    progress: ProgressFn | None = None,
    *,
    agent: str | Agent | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> ImportSummary:
    """Import the session files under ``paths`` (folders searched recursively, or files; default: the
    agent's default folders, or every agent's) into the fact writer's inbox: Claude Code transcripts, Codex
    rollouts, Gemini chats (``agent``: claude, codex or gemini; omitted, each file's agent is detected from
    its path). Safe to run again: only new bytes are read, and a request already stored is never added
    twice. Bad lines and vanished files are counted in the summary."""
    if not isinstance(agent, Agent):
        agent = get_agent(agent)
    with _RUN_LOCK:
        return _import(store, paths, progress, batch_bytes, agent)


def _import(store: Store, paths, progress, batch_bytes, agent: Agent | None = None) -> ImportSummary:
    t0 = time.perf_counter()
    files, missing = list_files(paths, agent)
    summary = ImportSummary.start(len(files), missing)
    state = load_state(store) if files else {}
    for f in files:
        known = state.get(f.path)
        if f.status == "read" and known is not None and (f.size, f.mtime_ns) == (known["size"], known["mtime_ns"]):
            f.status = "unchanged"

    todo = [f for f in files if f.status == "read"]
    cache = statcache.location(store.target.path, store.database) if store.embedded else None
    if cache is not None and todo:
        statcache.remove(cache)
    ticker = _Ticker(progress, len(files), sum(f.size - _resume_at(f, state.get(f.path)) for f in todo))
    for f in files:
        if f.status != "read":
            ticker.done(f)
    import_files(store, files, todo, summary, state=state, batch_bytes=batch_bytes, ticker=ticker,
                 on_read=lambda read: save_state(store, read))  # fmt: skip
    if cache is not None and files:  # (with no files found, the table's state was not loaded)
        _refresh_statcache(cache, state, todo)
    summarize(files, summary)
    summary.seconds = time.perf_counter() - t0
    log.info("transcript import", extra={"summary": summary.to_dict()})
    return summary


def import_files(store: Store, files: list[TranscriptFile], todo: list[TranscriptFile], summary: ImportSummary, *,
                 state: dict | None = None, batch_bytes: int = DEFAULT_BATCH_BYTES, ticker: _Ticker | None = None,
                 on_read: Callable[[list[TranscriptFile]], None] | None = None,
                 resource_attributes: dict[str, str] | None = None) -> None:  # fmt: skip
    """Steps 1-5 for the files of ``todo`` (each agent's in a run of its own), the numbers into ``summary``.
    ``state``: what earlier imports read of each file (None: read every file from its start); ``on_read``: called
    with each agent's files once their requests are written; ``resource_attributes``: the imported rows' (a hub
    sets ``host.name``, the machine the files came from)."""
    ticker = ticker or _Ticker(None, len(files), 0)
    for name, group in _by_agent(todo).items():
        with ImportRun(store, AGENTS[name]) as run:
            _read(run, group, state or {}, batch_bytes, ticker)
            read = [f for f in group if f.status == "read"]
            if read:
                where = [run.agent.where(f.origin or f.path) for f in read]
                store.insert_plain(run.tables["FILES"], {"file_idx": [f.idx for f in read],
                                                         "project_dir": [p for p, _ in where],
                                                         "file_session": [s for _, s in where]})  # fmt: skip
                _count_kinds(store, run, files, summary)
                _write_requests(store, run, summary, resource_attributes or {})
                if on_read is not None:
                    on_read(read)


def _by_agent(files: list[TranscriptFile]) -> dict[str, list[TranscriptFile]]:
    """The files of each agent, agents in AGENTS' order: each agent's files go through a run of their own."""
    groups: dict[str, list[TranscriptFile]] = {name: [] for name in AGENTS}
    for f in files:
        groups[f.agent].append(f)
    return {name: group for name, group in groups.items() if group}


def _refresh_statcache(cache, state: dict[str, dict], todo: list[TranscriptFile]) -> None:
    """The stat cache as transcript_files now is: its state before the run plus the files read. Written
    only when something changed (a watch loop imports every few seconds) or when there is none yet."""
    if not todo and cache.exists():
        return
    sizes = {path: (row["size"], row["mtime_ns"]) for path, row in state.items()}
    sizes.update((f.path, (f.size, f.mtime_ns)) for f in todo if f.status == "read")
    statcache.write(cache, sizes)


def _resume_at(f: TranscriptFile, state: dict | None) -> int:
    """Where a grown file will likely be read from (for the progress total only)."""
    return state["imported_to"] if state is not None and f.size > state["size"] else 0


def _read(run: ImportRun, todo: list[TranscriptFile], state: dict, batch_bytes: int, ticker: _Ticker) -> None:
    """Plan the files and write batch files in a thread of its own (file I/O, in Python) while this
    thread has ClickHouse read the batches already laid out: the two overlap."""
    queue: Queue = Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return
            except Full:
                continue

    def produce() -> None:
        try:
            batch: list[TranscriptFile] = []
            size = 0
            for f in todo:
                if stop.is_set():
                    return
                try:
                    plan_read(f, state.get(f.path), run.agent.incremental)
                except FileNotFoundError:
                    f.status = "vanished"
                except OSError as exc:
                    f.status, f.error = "unreadable", str(exc)
                if f.status != "read" or f.nbytes == 0:
                    put(("done", [f]))
                    continue
                if batch and size + f.nbytes > batch_bytes:
                    put(("batch", (*run.lay_out_batch(batch), batch)))
                    batch, size = [], 0
                batch.append(f)
                size += f.nbytes
            if batch:
                put(("batch", (*run.lay_out_batch(batch), batch)))
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            put(("error", exc))
        finally:
            put(None)

    producer = threading.Thread(target=produce, name="transcript-planner", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not None:
            kind, payload = item
            if kind == "error":
                raise payload
            if kind == "batch":
                batch_file, live, batch = payload
                run.load_batch(batch_file, live)
                payload = batch
            for f in payload:
                ticker.done(f)
    finally:
        stop.set()
        producer.join(30)


def summarize(files: list[TranscriptFile], summary: ImportSummary) -> None:
    for f in files:
        if f.status == "read":
            summary.files_read += 1 if f.nbytes > 0 or f.reread else 0
            summary.files_reread += int(f.reread)
            summary.bytes_read += f.nbytes
            summary.lines += f.lines
            if f.pending:
                pending = summary.skipped_lines.get("incomplete_last_line", 0)
                summary.skipped_lines["incomplete_last_line"] = pending + 1
        elif f.status == "unchanged":
            summary.files_unchanged += 1
        else:
            summary.skipped_files[f.status] = summary.skipped_files.get(f.status, 0) + 1
            if len(summary.errors) < MAX_ERRORS:
                summary.errors.append(f"{f.origin or f.path}: {f.status}" + (f" ({f.error})" if f.error else ""))


class _Ticker:
    def __init__(self, fn: ProgressFn | None, files_total: int, bytes_total: int):
        self.fn, self.files_total, self.bytes_total = fn, files_total, bytes_total
        self.files_done = self.bytes_done = 0

    def done(self, f: TranscriptFile) -> None:
        self.files_done += 1
        n = f.nbytes if f.status == "read" else 0
        self.bytes_done += n
        if self.fn is not None:
            self.fn(FileProgress(Path(f.path), f.status, n, self.files_done, self.files_total, self.bytes_done,
                                 self.bytes_total))  # fmt: skip


def _count_kinds(store: Store, run: ImportRun, files: list[TranscriptFile], summary: ImportSummary) -> None:
    by_idx = {f.idx: f for f in files}
    rows = store.query(f"SELECT file_idx, kind, count() FROM {run.names['LINES']} GROUP BY file_idx, kind").result_rows
    for idx, kind, n in rows:
        n = int(n)
        if kind == "request":
            summary.request_lines += n
            if idx in by_idx:
                by_idx[idx].request_lines += n
        elif kind in SKIP_KINDS:
            summary.skipped_lines[kind] = summary.skipped_lines.get(kind, 0) + n


def _write_requests(store: Store, run: ImportRun, summary: ImportSummary, resource_attributes: dict[str, str]) -> None:
    """Steps 3-5: one row per request, planned against the store, written to the inbox and taken in by the fact
    writer, which merges a request telemetry delivered too. Step 5 goes in parts of whole sessions (the fact
    writer's key starts with the session), so that its working tables hold one part at a time."""
    params = {"agent_product": run.agent.product, "service_name": run.agent.service_name}
    store.command(run.agent_sql("candidates"))
    store.command(f"TRUNCATE TABLE {run.names['LINES']}")  # every later step reads the candidates: free the lines
    release_memory(store)
    stored = store.query("SELECT 1 FROM request_copies WHERE agent_product = {agent_product:String} LIMIT 1",
                         params, role="write").result_rows  # fmt: skip
    store.command(run.sql("plan" if stored else "plan_first"), params)
    store.command(f"TRUNCATE TABLE {run.names['CAND']}")
    release_memory(store)
    row = store.query(
        f"""SELECT count(), countIf(known = 0 AND replay_of = ''), countIf(write = 1),
                   countIf(write = 1 AND stored_tokens >= 0)
            FROM {run.names["PLAN"]}"""
    ).result_rows[0]
    requests, new, written, updated = map(int, row)
    summary.requests += requests
    summary.new_requests += new
    summary.rows_written += written
    summary.updated_requests += updated
    summary.known_requests += requests - new
    parts = max(1, -(-written // FACT_STEP_ROWS))
    for part in range(parts if written else 0):
        with facts.LOCK:
            store.command(run.sql("insert"), {**params, "attribute_keys": list(resource_attributes),
                                              "attribute_values": list(resource_attributes.values()),
                                              "parts": parts, "part": part})  # fmt: skip
            facts.apply(store)
        release_memory(store)


# -- watching --------------------------------------------------------------------------------------


def watch_transcripts(
    store: Store,
    paths: list[Path] | None,
    interval_s: float,
    stop_event: threading.Event,
    progress: ProgressFn | None = None,
    on_import: Callable[[ImportSummary], None] | None = None,
    agent: str | Agent | None = None,
) -> ImportSummary:
    """Re-run the incremental import every ``interval_s`` seconds until ``stop_event`` is set. Each run's
    summary goes to ``on_import``; returns the running total. A failing run is logged and retried."""
    total = ImportSummary()
    while not stop_event.is_set():
        try:
            summary = import_transcripts(store, paths, progress, agent=agent)
        except Exception as exc:  # noqa: BLE001 - a watcher keeps watching
            log.warning("transcript import failed: %s", exc)
        else:
            total.add(summary)
            if on_import is not None:
                on_import(summary)
        stop_event.wait(interval_s)
    return total
