"""One import's working tables and batch folders, and the first two SQL steps (read, parse).

ClickHouse reads the files, not Python: each batch is a folder of ``<idx>.jsonl`` entries, symlinks to
whole files or copies of the new bytes of grown ones, read with ``file('<folder>/*.jsonl', LineAsString)``.
A ClickHouse server cannot see this machine's files: there the lines are uploaded into a working table
and the same SQL runs from it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from importlib import resources
from pathlib import Path

from ...store import Store
from .agents import CLAUDE, Agent
from .files import TranscriptFile

log = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES = 256 * 2**20  # per batch: the candidate lines of this much input are held in memory
ACTIVE_SECONDS = 60  # a file changed this recently may still be growing: copy its bytes, do not link it



# The working lines table's columns that only Codex's and Gemini's steps fill.
_LINES_EXTRA = """,
    reasoning_tokens UInt64 DEFAULT 0,
    record LowCardinality(String) DEFAULT '',  -- the line's record type (session_meta, turn_context, ...)
    tool_tokens UInt64 DEFAULT 0               -- Gemini's tool-use prompt tokens"""


def _sql(name: str) -> str:
    return resources.files(__package__).joinpath("sql", f"{name}.sql").read_text()


def _render(sql: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        sql = sql.replace("${" + key + "}", value)
    return sql


def _statements(sql: str) -> list[str]:
    parts = [p.strip() for p in sql.split(";\n")]
    return [p for p in parts if any(ln.strip() and not ln.strip().startswith("--") for ln in p.splitlines())]


class ImportRun:
    """The working tables and batch folders of one import of one agent's files."""

    def __init__(self, store: Store, agent: Agent = CLAUDE):
        self.store = store
        self.agent = agent
        tag = uuid.uuid4().hex[:12]
        kinds = ("UPLOAD", "RAW", "LINES", "FILES", "CAND", "PLAN")
        self.tables = {k: f"_transcript_import_{tag}_{k.lower()}" for k in kinds}
        self.names = {k: f"`{v}`" for k, v in self.tables.items()}
        self.tmp = Path(tempfile.mkdtemp(prefix="cctelemetry-import-", dir=_scratch_root()))
        self.batches = 0
        self.steps = 0

    def sql(self, name: str, **extra: str) -> str:
        ordered = "" if self.agent.incremental else ", max_threads = 1"
        lines_extra = "" if self.agent is CLAUDE else _LINES_EXTRA
        return _render(_sql(name), {**self.names, "MARKER": self.agent.marker, "ORDERED": ordered,
                                    "LINES_EXTRA": lines_extra, **extra})  # fmt: skip

    def agent_sql(self, step: str) -> str:
        """The agent's own step: ``lines`` or ``candidates``."""
        return self.sql(self.agent.sql_prefix + step)

    def __enter__(self) -> "ImportRun":
        self._drop_stale()
        for statement in _statements(self.sql("tables")):
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
        """The batch folder for ClickHouse to read (embedded engine); files that are gone are marked."""
        folder = self.tmp / f"b{self.batches}"
        self.batches += 1
        folder.mkdir()
        live: list[TranscriptFile] = []
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

    def load_batch(self, folder: Path, live: list[TranscriptFile]) -> None:
        """Steps 1 and 2 for a laid-out batch; per-file line counts land on the TranscriptFile objects."""
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

    def _bisect(self, files: list[TranscriptFile], folder: Path) -> None:
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

    def _lay_out(self, f: TranscriptFile, folder: Path) -> None:
        """The file's new bytes as ``<folder>/<idx>.jsonl``: a symlink to a whole file that is not being
        written to, else a copy of the byte range (so a line appended meanwhile is not half read)."""
        entry = folder / f"{f.idx}.jsonl"
        whole = f.start == 0 and f.end == f.size
        if whole and time.time() - f.mtime_ns / 1e9 > ACTIVE_SECONDS:
            os.symlink(f.path, entry)
            return
        with open(f.path, "rb") as src, open(entry, "wb") as dst:
            _copy_range(src, dst, f.start, f.end - f.start)

    def _step1(self, files: list[TranscriptFile], glob: str) -> None:
        if self.store.embedded:
            src = (
                "(SELECT toUInt32OrZero(substring(_file, 1, position(_file, '.') - 1)) AS file_idx, line "
                "FROM file({glob:String}, LineAsString) SETTINGS storage_file_read_method = 'pread', "
                "input_format_parallel_parsing = 0, max_read_buffer_size = 131072)"
            )
            self.store.command(self.sql("raw", SOURCE=src), {"glob": glob})
        else:
            _upload(self.store, self.tables["UPLOAD"], files)
            self.store.command(self.sql("raw", SOURCE=self.names["UPLOAD"]))
            self.store.command(f"TRUNCATE TABLE {self.names['UPLOAD']}")
        counts = self.store.query(f"SELECT file_idx, count() FROM {self.names['RAW']} GROUP BY file_idx").result_rows
        by_idx = {f.idx: f for f in files}
        for idx, n in counts:
            if idx in by_idx:
                by_idx[idx].lines += int(n)

    def _step2(self) -> None:
        self.store.command(self.agent_sql("lines"), {"batch": self.steps})
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


def _upload(store: Store, table: str, files: list[TranscriptFile]) -> None:
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
