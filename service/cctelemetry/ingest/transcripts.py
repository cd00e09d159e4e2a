"""Claude Code transcripts (``~/.claude/projects/**/*.jsonl``) -> ``api_requests``, as backfill.

ClickHouse reads the JSONL itself: Python only finds the files, decides which bytes of each are new, and
lays out a batch folder of symlinks (whole files) or copies (the new tail of a grown file). The SQL in
``ingest/sql/transcripts_*.sql`` does the rest:

1. ``transcripts_raw``: every line of a batch, tagged with a cheap code (mentions ``"usage"``? looks like
   one JSON object?); only the lines that can carry a request keep their text.
2. ``transcripts_lines``: those lines parsed (one ``JSONExtract``), each given a kind: ``request``,
   ``other``, ``blank``, ``invalid_json``, ``unknown_shape``, ``synthetic``. Bad input is counted, never
   raised.
3. ``transcripts_candidates``: the copies of one response (split content blocks, streaming snapshots,
   resumes, sidechain replays) collapse to one row per request, as ccusage does (largest token total).
   ``request_key`` = the request id (what OpenTelemetry's ``request_id`` is), else ``'msg:' || message.id``
   plus the usage's input side (some gateways reuse one message id for every response).
4. ``transcripts_plan`` / ``transcripts_insert``: against ``api_requests``, only what is new (or a fuller
   copy) is written, as ``source='transcript'``, ``source_priority=1``; requests that telemetry delivered
   too are then merged into one row (``ingest/merge.py``).

Incremental: ``transcript_files`` (migration 0007) remembers, per path, size, mtime and the byte offset of
the end of the last complete line imported. A re-run reads only new bytes; a file that shrank, changed
without growing, or whose first bytes changed is read again from 0 (step 4 makes that safe). A last line
without its newline waits for the next run unless it already is a whole JSON object.

On a ClickHouse server (not the embedded engine) the server cannot see local files: the batch is uploaded
into a working table instead, and the same SQL runs from there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from queue import Full, Queue
from typing import Callable, Iterable

from ..store import Store

log = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES = 256 * 2**20  # per batch: the candidate lines of this much input are held in memory
HEAD_BYTES = 4096  # head_hash covers this much of a file's start
ACTIVE_SECONDS = 60  # a file changed this recently may still be growing: copy its bytes, do not link it
MAX_ERRORS = 50

# Line kinds from transcripts_lines.sql that are skipped (the others: 'request', 'other').
SKIP_KINDS = ("blank", "invalid_json", "unknown_shape", "synthetic")

_RUN_LOCK = threading.Lock()  # one import at a time per process (watch loop, API, CLI share a store)


# -- results ---------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What one import did. ``skipped_lines`` / ``skipped_files`` count by reason."""

    files: int = 0  # transcript files found
    files_read: int = 0  # files with new bytes, read now
    files_unchanged: int = 0  # nothing new since the last import
    files_reread: int = 0  # read again from the start (shrank, rewritten, or changed without growing)
    lines: int = 0  # complete lines read
    request_lines: int = 0  # assistant lines with usage (before de-duplication)
    requests: int = 0  # distinct requests among them
    new_requests: int = 0  # not in the store before, from any source
    known_requests: int = 0  # already there (an earlier import, or received as OpenTelemetry)
    updated_requests: int = 0  # known from transcripts, but this copy has more tokens (a streamed partial before)
    rows_written: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    skipped_lines: dict[str, int] = field(default_factory=dict)
    skipped_files: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the first few, "path: what happened"

    @property
    def duplicate_lines(self) -> int:
        """Request lines that were copies of another (split content blocks, re-logged responses)."""
        return self.request_lines - self.requests

    def to_dict(self) -> dict:
        body = asdict(self)
        body["duplicate_lines"] = self.duplicate_lines
        body["seconds"] = round(self.seconds, 3)
        return body

    def add(self, other: "ImportSummary") -> None:
        """Accumulate another run into this one (the watch loop's running total)."""
        for name in ("files_read", "files_reread", "lines", "request_lines", "requests", "new_requests",
                     "known_requests", "updated_requests", "rows_written", "bytes_read", "seconds"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.files = other.files
        self.files_unchanged = other.files_unchanged
        for mine, theirs in ((self.skipped_lines, other.skipped_lines), (self.skipped_files, other.skipped_files)):
            for reason, n in theirs.items():
                mine[reason] = mine.get(reason, 0) + n
        self.errors = (self.errors + other.errors)[-MAX_ERRORS:]


@dataclass(frozen=True)
class FileProgress:
    """Passed to the progress callback once per file: ``status`` is read, unchanged, vanished or unreadable."""

    path: Path
    status: str
    bytes: int
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


ProgressFn = Callable[[FileProgress], None]


# -- finding the files -----------------------------------------------------------------------------


def default_roots() -> list[Path]:
    """Where Claude Code keeps transcripts, as ccusage looks for them: each ``$CLAUDE_CONFIG_DIR`` (comma-
    separated) + ``/projects``, then ``$XDG_CONFIG_HOME/claude/projects`` (``~/.config/claude``) and
    ``~/.claude/projects``."""
    roots: list[Path] = []
    for part in os.environ.get("CLAUDE_CONFIG_DIR", "").split(","):
        if part.strip():
            roots.append(Path(part.strip()).expanduser() / "projects")
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    roots.append(Path(xdg) / "claude" / "projects")
    roots.append(Path.home() / ".claude" / "projects")
    return roots


def find_transcripts(paths: Iterable[Path | str]) -> tuple[list[str], list[str]]:
    """Every ``*.jsonl`` under the given folders (recursively: sessions and ``<session>/subagents/``),
    plus files named directly. Returns (absolute file paths, sorted and each once; paths that do not exist).
    A folder inside another one given (or the same folder twice, e.g. through a symlink) is walked once."""
    files: set[str] = set()
    folders: dict[str, str] = {}  # real path -> path as given (absolute)
    missing: list[str] = []
    for given in paths:
        path = os.path.abspath(os.path.expanduser(str(given)))
        if os.path.isfile(path):
            files.add(path)
        elif os.path.isdir(path):
            folders.setdefault(os.path.realpath(path), path)
        else:
            missing.append(path)
    reals = sorted(folders)
    for i, real in enumerate(reals):
        if any(real.startswith(other.rstrip(os.sep) + os.sep) for other in reals[:i]):
            continue  # inside a folder walked already
        files.update(_walk(folders[real]))
    return sorted(files), missing


def _walk(root: str) -> Iterable[str]:
    """Depth-first, following symlinked folders once each (a link back up does not loop)."""
    stack = [root]
    seen: set[tuple[int, int]] = set()
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                for entry in it:
                    try:
                        if entry.is_dir():
                            stack.append(entry.path)
                        elif entry.name.endswith(".jsonl") and entry.is_file():
                            yield entry.path
                    except OSError:
                        continue
        except OSError:
            continue


def project_and_session(path: str) -> tuple[str, str]:
    """``projects/<project>/<session>.jsonl`` and ``projects/<project>/<session>/subagents/agent-*.jsonl``:
    the project folder name and the session id the path implies (used when a line lacks them)."""
    folder, name = os.path.split(path)
    parent, folder_name = os.path.split(folder)
    if folder_name == "subagents":
        project_folder, session = os.path.split(parent)
        return os.path.basename(project_folder), session
    return folder_name, name[: -len(".jsonl")] if name.endswith(".jsonl") else name


# -- one file's plan -------------------------------------------------------------------------------


@dataclass
class _File:
    idx: int
    path: str
    size: int
    mtime_ns: int
    start: int = 0
    end: int = 0
    reread: bool = False
    pending: bool = False  # the last line is incomplete: left for the next run
    head_hash: str = ""
    lines: int = 0
    request_lines: int = 0
    prior_lines: int = 0
    prior_request_lines: int = 0
    status: str = "read"
    error: str = ""

    @property
    def nbytes(self) -> int:
        return max(self.end - self.start, 0)


def _head_hash(fd: int, n: int) -> str:
    return hashlib.blake2b(os.pread(fd, min(n, HEAD_BYTES), 0), digest_size=8).hexdigest()


def _is_json_object(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except (ValueError, UnicodeDecodeError):
        return False


def _complete_end(fd: int, start: int, size: int) -> tuple[int, bool]:
    """The end of the last complete line in [start, size), and whether an incomplete line follows it.
    A last line without its newline counts as complete when it is a whole JSON object already."""
    if size <= start:
        return start, False
    if os.pread(fd, 1, size - 1) == b"\n":
        return size, False
    pos, line_start = size, start
    while pos > start:
        lo = max(start, pos - 65536)
        i = os.pread(fd, pos - lo, lo).rfind(b"\n")
        if i >= 0:
            line_start = lo + i + 1
            break
        pos = lo
    if _is_json_object(os.pread(fd, size - line_start, line_start)):
        return size, False
    return line_start, True


def _plan(f: _File, state: dict | None) -> None:
    """Decide which bytes of ``f`` (known to have changed since ``state``, if any) to read: start, end,
    head_hash."""
    fd = os.open(f.path, os.O_RDONLY)
    try:
        if state is not None:
            if f.size > state["size"] and _head_hash(fd, state["imported_to"]) == state["head_hash"]:
                # Grew, same start: an appended transcript. Read from the end of the last complete line.
                f.start = state["imported_to"]
                f.prior_lines, f.prior_request_lines = state["lines"], state["request_lines"]
            else:
                # Shrank, changed without growing, or another file now has this name: from the start.
                f.reread = True
        f.end, f.pending = _complete_end(fd, f.start, f.size)
        f.head_hash = _head_hash(fd, f.end)
    finally:
        os.close(fd)


def _load_state(store: Store) -> dict[str, dict]:
    rows = store.rows(
        "SELECT path, size, mtime_ns, imported_to, head_hash, lines, request_lines FROM transcript_files FINAL"
    )
    return {r["path"]: r for r in rows}


# -- SQL -------------------------------------------------------------------------------------------


def _sql(name: str) -> str:
    return resources.files("cctelemetry.ingest").joinpath("sql", f"{name}.sql").read_text()


def _render(sql: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        sql = sql.replace("${" + key + "}", value)
    return sql


def _statements(sql: str) -> list[str]:
    parts = [p.strip() for p in sql.split(";\n")]
    return [p for p in parts if any(ln.strip() and not ln.strip().startswith("--") for ln in p.splitlines())]


class _Run:
    """The working tables and batch folders of one import."""

    def __init__(self, store: Store):
        self.store = store
        tag = uuid.uuid4().hex[:12]
        kinds = ("UPLOAD", "RAW", "LINES", "FILES", "CAND", "PLAN")
        self.tables = {k: f"_transcript_import_{tag}_{k.lower()}" for k in kinds}
        self.names = {k: f"`{v}`" for k, v in self.tables.items()}
        self.tmp = Path(tempfile.mkdtemp(prefix="cctelemetry-import-", dir=_scratch_root()))
        self.batches = 0
        self.steps = 0

    def sql(self, name: str, **extra: str) -> str:
        return _render(_sql(name), {**self.names, **extra})

    def __enter__(self) -> "_Run":
        self._drop_stale()
        for statement in _statements(self.sql("transcripts_tables")):
            self.store.command(statement)
        return self

    def _drop_stale(self) -> None:
        """Working tables a killed run left behind. On the embedded engine no other process can have a run
        going (the folder is locked) and this one runs one at a time: all are stale. On a server another
        machine's import may be running: only those over a day old."""
        age = "" if self.store.embedded else " AND metadata_modification_time < now() - INTERVAL 1 DAY"
        stale = self.store.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            f"AND startsWith(name, '_transcript_import_'){age}"
        ).result_rows
        for (name,) in stale:
            self.store.command(f"DROP TABLE IF EXISTS `{name}`")

    def __exit__(self, *exc) -> None:
        for table in self.tables.values():
            try:
                self.store.command(f"DROP TABLE IF EXISTS `{table}`")
            except Exception:  # noqa: BLE001 - cleanup must not hide the real error
                log.warning("could not drop working table %s", table)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- reading a batch ---------------------------------------------------------------------------

    def lay_out_batch(self, batch: list[_File]) -> tuple[Path, list[_File]]:
        """The batch folder for ClickHouse to read (embedded engine); files that are gone are marked."""
        folder = self.tmp / f"b{self.batches}"
        self.batches += 1
        folder.mkdir()
        live: list[_File] = []
        for f in batch:
            try:
                if self.store.embedded:  # a ClickHouse server reads nothing here: the lines are uploaded
                    self._lay_out(f, folder)
                live.append(f)
            except FileNotFoundError:
                f.status = "vanished"
            except OSError as exc:
                f.status, f.error = "unreadable", str(exc)
        return folder, live

    def load_batch(self, folder: Path, live: list[_File]) -> None:
        """Steps 1 and 2 for a laid-out batch; per-file line counts land on the _File objects."""
        try:
            if live:
                try:
                    self._step1(live, str(folder / "*.jsonl"))
                except Exception as exc:  # noqa: BLE001 - isolate the file that failed, keep the rest
                    log.info("batch failed (%s); reading it in parts", str(exc).split("\n")[0])
                    self._bisect(live, folder)
                    return
                self._step2()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        for f in live:  # a linked file may vanish while ClickHouse reads the folder
            if f.status == "read" and not os.path.exists(f.path):
                f.status = "vanished"

    def _bisect(self, files: list[_File], folder: Path) -> None:
        """A batch failed (a file vanished between listing and reading, or cannot be read): read it in
        halves, each half's entries moved to a folder of its own, down to the file that fails."""
        self.store.command(f"TRUNCATE TABLE {self.names['RAW']}")
        half = len(files) // 2
        for part in (files[:half], files[half:]) if half else (files,):
            sub = folder / f"part{self.batches}"
            self.batches += 1
            sub.mkdir()
            for f in part:
                f.lines = 0
                entry = folder / f"{f.idx}.jsonl"
                if os.path.lexists(entry):
                    os.rename(entry, sub / entry.name)
            try:
                self._step1(part, str(sub / "*.jsonl"))
            except Exception as exc:  # noqa: BLE001
                if len(part) > 1:
                    self._bisect(part, sub)
                    continue
                self.store.command(f"TRUNCATE TABLE {self.names['RAW']}")
                (f,) = part
                f.lines = 0
                if not os.path.exists(f.path):
                    f.status = "vanished"
                else:
                    f.status, f.error = "unreadable", str(exc).split("\n")[0]
                continue
            self._step2()

    def _lay_out(self, f: _File, folder: Path) -> None:
        """The file's new bytes as ``<folder>/<idx>.jsonl``: a symlink to a whole file that is not being
        written to, else a copy of the byte range (so a line appended meanwhile is not half read)."""
        entry = folder / f"{f.idx}.jsonl"
        whole = f.start == 0 and f.end == f.size
        if whole and time.time() - f.mtime_ns / 1e9 > ACTIVE_SECONDS:
            os.symlink(f.path, entry)
            return
        with open(f.path, "rb") as src, open(entry, "wb") as dst:
            _copy_range(src, dst, f.start, f.end - f.start)

    def _step1(self, files: list[_File], glob: str) -> None:
        if self.store.embedded:
            src = (
                "(SELECT toUInt32OrZero(substring(_file, 1, position(_file, '.') - 1)) AS file_idx, line "
                "FROM file({glob:String}, LineAsString) SETTINGS storage_file_read_method = 'pread', "
                "input_format_parallel_parsing = 0, max_read_buffer_size = 131072)"
            )
            self.store.command(self.sql("transcripts_raw", SOURCE=src), {"glob": glob})
        else:
            _upload(self.store, self.tables["UPLOAD"], files)
            self.store.command(self.sql("transcripts_raw", SOURCE=self.names["UPLOAD"]))
            self.store.command(f"TRUNCATE TABLE {self.names['UPLOAD']}")
        counts = self.store.query(f"SELECT file_idx, count() FROM {self.names['RAW']} GROUP BY file_idx").result_rows
        by_idx = {f.idx: f for f in files}
        for idx, n in counts:
            if idx in by_idx:
                by_idx[idx].lines += int(n)

    def _step2(self) -> None:
        self.store.command(self.sql("transcripts_lines"), {"batch": self.steps})
        self.steps += 1
        self.store.command(f"TRUNCATE TABLE {self.names['RAW']}")


def _scratch_root() -> str | None:
    """Where batch folders go: a tmpfs when there is one (a batch is thousands of symlinks, created and
    removed: cheap in memory, slow on some disks), else the default temporary folder."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


def _copy_range(src, dst, offset: int, count: int) -> None:
    try:
        while count > 0:
            sent = os.sendfile(dst.fileno(), src.fileno(), offset, count)
            if sent == 0:
                break
            offset += sent
            count -= sent
    except OSError:
        src.seek(offset)
        while count > 0:
            chunk = src.read(min(count, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            count -= len(chunk)


def _upload(store: Store, table: str, files: list[_File]) -> None:
    """ClickHouse server path: send a batch's new lines to the server (its step 1 tags them there)."""
    idx: list[int] = []
    lines: list[bytes] = []
    for f in files:
        fd = os.open(f.path, os.O_RDONLY)
        try:
            chunk = os.pread(fd, f.end - f.start, f.start).split(b"\n")
        finally:
            os.close(fd)
        if chunk and chunk[-1] == b"":
            chunk.pop()
        idx.extend([f.idx] * len(chunk))
        lines.extend(chunk)
    if lines:
        store.insert_columns(table, [idx, lines], ["file_idx", "line"])


# -- the import ------------------------------------------------------------------------------------


def import_transcripts(
    store: Store,
    paths: list[Path] | None = None,
    progress: ProgressFn | None = None,
    *,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> ImportSummary:
    """Import the transcripts under ``paths`` (folders searched recursively, or files; default
    ``default_roots()``) into ``api_requests``. Safe to run again: only new bytes are read, and a request
    already stored is never added twice. Bad lines and vanished files are counted in the summary."""
    with _RUN_LOCK:
        return _import(store, paths, progress, batch_bytes)


def _import(store: Store, paths, progress, batch_bytes) -> ImportSummary:
    t0 = time.perf_counter()
    summary = ImportSummary()
    explicit = paths is not None and len(paths) > 0
    found, missing = find_transcripts(paths if explicit else default_roots())
    if explicit and missing:
        summary.skipped_files["not_found"] = len(missing)
        summary.errors.extend(f"{p}: no such file or folder" for p in missing[:MAX_ERRORS])
    summary.files = len(found)

    state = _load_state(store) if found else {}
    files: list[_File] = []
    for idx, path in enumerate(found, start=1):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            files.append(_File(idx=idx, path=path, size=0, mtime_ns=0, status="vanished"))
            continue
        except OSError as exc:
            files.append(_File(idx=idx, path=path, size=0, mtime_ns=0, status="unreadable", error=str(exc)))
            continue
        f = _File(idx=idx, path=path, size=st.st_size, mtime_ns=st.st_mtime_ns)
        known = state.get(path)
        if known is not None and f.size == known["size"] and f.mtime_ns == known["mtime_ns"]:
            f.status = "unchanged"
        files.append(f)

    todo = [f for f in files if f.status == "read"]
    ticker = _Ticker(progress, len(files), sum(f.size - _resume_at(f, state.get(f.path)) for f in todo))
    for f in files:
        if f.status != "read":
            ticker.done(f)
    if todo:
        with _Run(store) as run:
            _read(run, todo, state, batch_bytes, ticker)
            read = [f for f in todo if f.status == "read"]
            if read:
                store.insert_columns(
                    run.tables["FILES"],
                    [[f.idx for f in read], *map(list, zip(*(project_and_session(f.path) for f in read)))],
                    ["file_idx", "project_dir", "file_session"],
                )
                _count_kinds(store, run, files, summary)
                _write_requests(store, run, summary)
                _save_state(store, read)
    _summarize(files, summary)
    summary.seconds = time.perf_counter() - t0
    log.info("transcript import", extra={"summary": summary.to_dict()})
    return summary


def _resume_at(f: _File, state: dict | None) -> int:
    """Where a grown file will likely be read from (for the progress total only)."""
    return state["imported_to"] if state is not None and f.size > state["size"] else 0


def _read(run: _Run, todo: list[_File], state: dict, batch_bytes: int, ticker: "_Ticker") -> None:
    """Plan the files and lay out batch folders in a thread of its own (file I/O, in Python) while this
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
            batch: list[_File] = []
            size = 0
            for f in todo:
                if stop.is_set():
                    return
                try:
                    _plan(f, state.get(f.path))
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
                folder, live, batch = payload
                run.load_batch(folder, live)
                payload = batch
            for f in payload:
                ticker.done(f)
    finally:
        stop.set()
        producer.join(30)


def _summarize(files: list[_File], summary: ImportSummary) -> None:
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
                summary.errors.append(f"{f.path}: {f.status}" + (f" ({f.error})" if f.error else ""))


class _Ticker:
    def __init__(self, fn: ProgressFn | None, files_total: int, bytes_total: int):
        self.fn, self.files_total, self.bytes_total = fn, files_total, bytes_total
        self.files_done = self.bytes_done = 0

    def done(self, f: _File) -> None:
        self.files_done += 1
        n = f.nbytes if f.status == "read" else 0
        self.bytes_done += n
        if self.fn is not None:
            self.fn(FileProgress(Path(f.path), f.status, n, self.files_done, self.files_total, self.bytes_done,
                                 self.bytes_total))  # fmt: skip


def _count_kinds(store: Store, run: _Run, files: list[_File], summary: ImportSummary) -> None:
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


def _write_requests(store: Store, run: _Run, summary: ImportSummary) -> None:
    store.command(run.sql("transcripts_candidates"))
    store.command(run.sql("transcripts_plan"))
    row = store.query(
        f"""SELECT count(), countIf(known = 0 AND replay_of = ''), countIf(write = 1),
                   countIf(write = 1 AND stored_tokens >= 0)
            FROM {run.names['PLAN']}"""
    ).result_rows[0]
    summary.requests, summary.new_requests, summary.rows_written, summary.updated_requests = map(int, row)
    summary.known_requests = summary.requests - summary.new_requests
    if summary.rows_written:
        store.command(run.sql("transcripts_insert"))
        _merge_with_telemetry(store, run)


def _merge_with_telemetry(store: Store, run: _Run) -> None:
    """The requests just written that another source (OpenTelemetry) delivered too become one 'merged' row
    (ingest/merge.py). Looked up after the insert, so telemetry that arrived meanwhile is included; the
    service's writer does the same from its side after each flush."""
    from .merge import merge_sources

    keys = store.query(
        f"""SELECT DISTINCT request_key FROM api_requests
            WHERE agent_product = 'claude_code' AND source NOT IN ('transcript', 'merged')
              AND request_key IN (SELECT request_key FROM {run.names['PLAN']} WHERE write = 1)"""
    ).result_rows
    if keys:
        merge_sources(store, [k for (k,) in keys], "claude_code")


def _save_state(store: Store, files: list[_File]) -> None:
    if not files:
        return
    cols = ["path", "size", "mtime_ns", "imported_to", "head_hash", "lines", "request_lines"]
    store.insert_columns(
        "transcript_files",
        [
            [f.path for f in files],
            [f.size for f in files],
            [f.mtime_ns for f in files],
            [f.end for f in files],
            [f.head_hash for f in files],
            [f.prior_lines + f.lines for f in files],
            [f.prior_request_lines + f.request_lines for f in files],
        ],
        cols,
    )


# -- watching --------------------------------------------------------------------------------------


def watch_transcripts(
    store: Store,
    paths: list[Path] | None,
    interval_s: float,
    stop_event: threading.Event,
    progress: ProgressFn | None = None,
    on_import: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Re-run the incremental import every ``interval_s`` seconds until ``stop_event`` is set. Each run's
    summary goes to ``on_import``; returns the running total. A failing run is logged and retried."""
    total = ImportSummary()
    while not stop_event.is_set():
        try:
            summary = import_transcripts(store, paths, progress)
        except Exception as exc:  # noqa: BLE001 - a watcher keeps watching
            log.warning("transcript import failed: %s", exc)
        else:
            total.add(summary)
            if on_import is not None:
                on_import(summary)
        stop_event.wait(interval_s)
    return total
