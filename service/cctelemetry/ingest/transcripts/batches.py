"""One import's working tables and batch files, and the first two SQL steps (read, parse).

ClickHouse reads the lines, not Python, but it pays about 0.1 ms per file it opens (measured with
``file('<folder>/*.jsonl', One)`` over 33k transcripts: 3 s before a byte is read), and a Claude Code
projects folder is mostly small subagent files. So Python copies each batch's new bytes into one file in a
scratch folder (``sendfile``: kernel to kernel, no Python objects), each file's bytes after a marker line
that names it, and ClickHouse reads that one file in order: the marker lines tell which file every line came
from. A ClickHouse server cannot see this machine's files: there the lines are uploaded into a working table
and the same SQL runs from it.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from ...store import Store
from ...store.sqlfiles import Fragment, Ident, ident, load, render, statements, trusted
from .agents import CLAUDE, Agent
from .files import TranscriptFile

log = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES = 64 * 2**20  # per batch: this much input is copied, read and parsed at a time

# The working lines table's columns that only Codex's and Gemini's steps fill.
_LINES_EXTRA = """,
    reasoning_tokens UInt64 DEFAULT 0,
    record LowCardinality(String) DEFAULT '',  -- the line's record type (session_meta, turn_context, ...)
    tool_tokens UInt64 DEFAULT 0               -- Gemini's tool-use prompt tokens"""

_TABLE_KINDS = ("UPLOAD", "RAW", "LINES", "FILES", "CAND", "PLAN")


class ImportRun:
    """The working tables and batch files of one import of one agent's files."""

    def __init__(self, store: Store, agent: Agent = CLAUDE):
        self.store = store
        self.agent = agent
        self.tag = uuid.uuid4().hex[:12]
        self.tables = {k: f"_transcript_import_{self.tag}_{k.lower()}" for k in _TABLE_KINDS}
        self.names = {k: f"`{v}`" for k, v in self.tables.items()}
        # A line no transcript has: a control character, then this run's random tag.
        self.marker = f"\x1e{self.tag}:"
        self.tmp = Path(tempfile.mkdtemp(prefix="cctelemetry-import-", dir=_scratch_root()))
        self.batches = 0
        self.steps = 0

    def sql(self, name: str, **extra: Fragment) -> str:
        tokens: dict[str, Ident | Fragment] = {k: ident(v) for k, v in self.tables.items()}
        tokens["MARKER"] = trusted(self.agent.marker)  # agents.py's own SQL, one per agent
        tokens["LINES_EXTRA"] = trusted("" if self.agent is CLAUDE else _LINES_EXTRA)
        # step 1's source and step 2's lines: from a batch file (embedded) or an upload table (server)
        where = "batch_file" if self.store.embedded else "upload"
        tokens["SOURCE"] = trusted(render(load(__package__, f"source_{where}"), UPLOAD=tokens["UPLOAD"]))
        tokens["RAW_LINES"] = trusted(render(load(__package__, f"raw_lines_{where}"), RAW=tokens["RAW"]))
        return render(load(__package__, name), **{**tokens, **extra})

    def agent_sql(self, step: str) -> str:
        """The agent's own step: ``lines`` or ``candidates``."""
        return self.sql(self.agent.sql_prefix + step)

    def __enter__(self) -> ImportRun:
        self._drop_stale()
        for statement in statements(self.sql("tables")):
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

    def lay_out_batch(self, batch: list[TranscriptFile]) -> tuple[Path, list[TranscriptFile]]:
        """The batch file for ClickHouse to read (embedded engine): each file's new bytes after a marker line
        naming it. Files that are gone or cannot be read are marked and left out. A ClickHouse server reads
        nothing here: its lines are uploaded at load time."""
        path = self.tmp / f"b{self.batches}.jsonl"
        self.batches += 1
        live: list[TranscriptFile] = []
        if not self.store.embedded:
            return path, list(batch)
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for f in batch:
                at = os.lseek(out, 0, os.SEEK_CUR)
                try:
                    _append(out, f, self.marker)
                    live.append(f)
                except FileNotFoundError:
                    f.status = "vanished"
                    os.ftruncate(out, at)
                    os.lseek(out, at, os.SEEK_SET)
                except OSError as exc:
                    f.status, f.error = "unreadable", str(exc)
                    os.ftruncate(out, at)
                    os.lseek(out, at, os.SEEK_SET)
            os.write(out, f"{self.marker}0\n".encode())  # the end: the last file's lines stop here
        finally:
            os.close(out)
        return path, live

    def load_batch(self, path: Path, live: list[TranscriptFile]) -> None:
        """Steps 1 and 2 for a laid-out batch; per-file line counts land on the TranscriptFile objects."""
        try:
            if live:
                self._step1(live, str(path))
                self._step2()
        finally:
            path.unlink(missing_ok=True)

    def _step1(self, files: list[TranscriptFile], path: str) -> None:
        by_idx = {f.idx: f for f in files}
        if self.store.embedded:
            self.store.command(self.sql("raw"), {"path": path, "marker": self.marker})
            # A file's lines are those between its marker and the next one.
            marks = self.store.query(self.sql("marks")).result_rows
            for (idx, at), (_, next_at) in zip(marks, marks[1:], strict=False):  # each mark with the next
                if idx in by_idx:
                    by_idx[idx].lines += int(next_at) - int(at) - 1
        else:
            counts = _upload(self.store, self.tables["UPLOAD"], files)
            self.store.command(self.sql("raw"), {"marker": self.marker})
            self.store.command(f"TRUNCATE TABLE {self.names['UPLOAD']}")
            for idx, n in counts.items():
                by_idx[idx].lines += n

    def _step2(self) -> None:
        self.store.command(self.agent_sql("lines"), {"batch": self.steps})
        self.steps += 1
        self.store.command(f"TRUNCATE TABLE {self.names['RAW']}")
        if self.steps % 4 == 0:
            release_memory(self.store)


def release_memory(store: Store) -> None:
    """Hand the memory the engine freed back to the system (embedded engine). Its allocator (jemalloc) keeps
    freed pages for reuse: after a 64 MiB batch was read and its table emptied, 160 MB more stayed resident,
    and over a run that grew to most of the peak RSS. ``SYSTEM JEMALLOC PURGE`` returns them (~10 ms)."""
    global _PURGE
    if not store.embedded or not _PURGE:
        return
    try:
        store.command("SYSTEM JEMALLOC PURGE")
    except Exception as exc:  # noqa: BLE001 - an engine built without jemalloc: nothing to release
        log.info("cannot release memory: %s", str(exc).split("\n")[0])
        _PURGE = False


_PURGE = True


def _append(out: int, f: TranscriptFile, marker: str) -> None:
    """``f``'s bytes [start, end) onto the batch file ``out``, after a marker line naming it, and a newline
    when its last line has none (a whole JSON object written without one). A file that shrank meanwhile
    is unreadable for this run (the next one sees its new size and reads it again)."""
    fd = os.open(f.path, os.O_RDONLY)
    try:
        os.write(out, f"{marker}{f.idx}\n".encode())
        _copy(out, fd, f.start, f.end - f.start, f.path)
        if f.end > f.start and os.pread(fd, 1, f.end - 1) != b"\n":
            os.write(out, b"\n")
    finally:
        os.close(fd)


def _copy(out: int, fd: int, offset: int, count: int, path: str) -> None:
    """``count`` bytes of ``fd`` from ``offset`` onto ``out``: kernel to kernel where the system can (Linux's
    ``sendfile`` takes any file), else through a buffer (macOS's takes only sockets)."""
    global _SENDFILE
    while count > 0:
        if _SENDFILE:
            try:
                sent = os.sendfile(out, fd, offset, count)
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP):
                    raise
                _SENDFILE = False
                continue
        else:
            chunk = os.pread(fd, min(count, 1 << 20), offset)
            sent = len(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view) :]
        if sent == 0:
            raise OSError(f"{path} shrank while it was read")
        offset += sent
        count -= sent


_SENDFILE = hasattr(os, "sendfile")


def _scratch_root() -> str | None:
    """Where batch files go: a tmpfs when there is one (written once, read once, removed), else the
    default temporary folder."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


def _upload(store: Store, table: str, files: list[TranscriptFile]) -> dict[int, int]:
    """ClickHouse server path: send a batch's new lines to the server (its step 1 tags them there).
    Returns the number of lines per file."""
    idx: list[int] = []
    lines: list[bytes] = []
    counts: dict[int, int] = {}
    for f in files:
        try:
            fd = os.open(f.path, os.O_RDONLY)
            try:
                chunk = os.pread(fd, f.end - f.start, f.start).split(b"\n")
            finally:
                os.close(fd)
        except FileNotFoundError:
            f.status = "vanished"
            continue
        except OSError as exc:
            f.status, f.error = "unreadable", str(exc)
            continue
        if chunk and chunk[-1] == b"":
            chunk.pop()
        idx.extend([f.idx] * len(chunk))
        lines.extend(chunk)
        counts[f.idx] = len(chunk)
    if lines:
        store.insert_columns(table, [idx, lines], ["file_idx", "line"])
    return counts
