"""``cctelemetry import --to URL``: push this machine's session files (Claude Code transcripts, Codex rollouts,
Gemini chats) to a hub, a cctelemetry service that many machines report to. Only what is new is sent.

Why the files' bytes, and not rows parsed here: the hub runs the import's own steps on them
(``POST /api/v1/import/upload``, ingest/transcripts/upload.py), so one set of rules decides what a request is and
what counts once, against everything the hub holds: the telemetry this machine (or another) sent it, earlier
pushes, forks of a Codex thread. Parsing here would need an engine on every machine and a second place where
de-duplication happens; a byte range needs neither, and is what makes a push resumable by offset.

Which bytes are new is decided as a local import decides it (ingest/transcripts/files.py ``plan_read``): per hub,
``<data dir>/pushes/<hub>.json`` remembers each file's size, mtime, offset and head hash, written after every
upload the hub acknowledged. A second push sends only what was appended since (a whole file again only where a
local import would read it whole again: a rewritten file, or a Codex/Gemini file that changed), and an
interrupted one resumes at the last acknowledged upload. An upload whose answer was lost is sent again; the hub
counts its requests once. A file larger than an upload is sent in line-aligned pieces (Claude Code's
transcripts; a Codex or Gemini file goes whole, as its lines need the earlier ones).
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .client import Client
from .errors import StoreUnavailable, TelemetryError
from .ingest.transcripts.agents import AGENTS, get_agent
from .ingest.transcripts.files import TranscriptFile, head_hash, list_files, plan_read
from .ingest.transcripts.summary import ImportSummary
from .ingest.transcripts.upload import Piece, pack

log = logging.getLogger(__name__)

UPLOAD_BYTES = 32 * 2**20  # of file content per upload (before gzip)
RETRIES = 5  # per upload, when the hub answers 503/429 or cannot be reached; 1, 2, 4, 8 s apart

ProgressFn = Callable[[int, int], None]  # (bytes sent so far, bytes to send), after each acknowledged upload


def this_host(configured: str = "") -> str:
    """The name the host dimension gives this machine: the configured one, else the system's (as setup-telemetry.sh
    puts it in OTEL_RESOURCE_ATTRIBUTES host.name for the machine's telemetry)."""
    return configured.strip() or socket.gethostname()


@dataclass
class PushResult:
    hub: str
    host: str
    files: int = 0  # session files found here
    files_unchanged: int = 0  # nothing new since the last push to this hub
    files_sent: int = 0
    bytes_sent: int = 0  # file content
    bytes_on_wire: int = 0  # gzip'd
    uploads: int = 0
    summary: ImportSummary = field(default_factory=ImportSummary)  # the hub's answers, added up

    def to_dict(self) -> dict:
        return {
            **self.summary.to_dict(),
            "hub": self.hub,
            "host": self.host,
            "files": self.files,
            "files_read": self.files_sent,
            "files_unchanged": self.files_unchanged,
            "files_sent": self.files_sent,
            "bytes_sent": self.bytes_sent,
            "bytes_on_wire": self.bytes_on_wire,
            "uploads": self.uploads,
        }


class PushState:
    """How far each file was sent to one hub: ``<folder>/<sha256(url)[:16]>.json``, one push at a time (a lock)."""

    VERSION = 1

    def __init__(self, folder: Path, hub: str):
        self.path = folder / f"{hashlib.sha256(hub.encode()).hexdigest()[:16]}.json"
        self.hub = hub
        self.files: dict[str, dict] = {}
        self._lock: TextIO | None = None

    def __enter__(self) -> PushState:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path.with_suffix(".lock"), "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise StoreUnavailable(f"another push to {self.hub} is running (lock {self._lock.name})") from exc
        try:
            body = json.loads(self.path.read_text())
            if body.get("version") == self.VERSION and body.get("hub") == self.hub:
                self.files = body["files"]
        except (OSError, ValueError, KeyError, AttributeError):
            self.files = {}  # none yet, or unusable: everything is sent again (the hub counts nothing twice)
        return self

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": self.VERSION, "hub": self.hub, "files": self.files}))
        os.replace(tmp, self.path)

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.close()


def push(
    client: Client,
    paths: list[Path] | None,
    state_folder: Path,
    *,
    agent: str | None = None,
    host: str = "",
    full: bool = False,
    upload_bytes: int = UPLOAD_BYTES,
    progress: ProgressFn | None = None,
) -> PushResult:
    """Send the new bytes of the session files under ``paths`` (default: every agent's folders, or ``agent``'s) to the
    hub ``client`` talks to. ``full``: forget what was sent before and send everything again."""
    t0 = time.perf_counter()
    named = get_agent(agent)
    result = PushResult(hub=client.url, host=this_host(host))
    files, missing = list_files(paths, named)
    result.files = len(files)
    result.summary = ImportSummary.start(len(files), missing)
    with PushState(state_folder, client.url) as state:
        sent = {} if full else state.files
        todo: list[TranscriptFile] = []
        for f in files:
            known = sent.get(f.path)
            if f.status == "read" and known is not None and (f.size, f.mtime_ns) == (known["size"], known["mtime_ns"]):
                result.files_unchanged += 1
            elif f.status == "read":
                todo.append(f)
            else:
                result.summary.skipped_files[f.status] = result.summary.skipped_files.get(f.status, 0) + 1
        pieces = _plan(todo, sent, upload_bytes, result.summary)
        for f in todo:  # files with nothing to send (a half-written last line only): remembered as they are
            if f.status == "read" and f.nbytes == 0:
                state.files[f.path] = _sent_to(f, f.end)
        total = sum(p.end - p.start for _, p in pieces)
        for group in _uploads(pieces, upload_bytes):
            raw = pack(result.host, [_read(f, p) for f, p in group])
            wire = gzip.compress(raw, compresslevel=6)
            answer = _send(client, wire)
            result.summary.add(ImportSummary.from_dict(answer))
            result.uploads += 1
            result.bytes_on_wire += len(wire)
            for f, p in group:
                result.bytes_sent += p.end - p.start
                state.files[f.path] = _sent_to(f, p.end)
            state.save()  # after every acknowledged upload: an interrupted push resumes here
            if progress is not None:
                progress(result.bytes_sent, total)
        state.save()
    result.files_sent = len({f.path for f, _ in pieces})
    result.summary.seconds = time.perf_counter() - t0
    return result


def _plan(todo: list[TranscriptFile], sent: dict, upload_bytes: int, summary: ImportSummary
          ) -> list[tuple[TranscriptFile, Piece]]:  # fmt: skip
    """Which bytes of each file go (as a local import would read them), cut into line-aligned pieces of at most
    ``upload_bytes`` where the agent's lines stand alone."""
    pieces: list[tuple[TranscriptFile, Piece]] = []
    for f in todo:
        incremental = AGENTS[f.agent].incremental
        try:
            plan_read(f, sent.get(f.path), incremental)
        except FileNotFoundError:
            f.status = "vanished"
        except OSError as exc:
            f.status, f.error = "unreadable", str(exc)
        if f.status != "read":
            summary.skipped_files[f.status] = summary.skipped_files.get(f.status, 0) + 1
            continue
        bounds = _cuts(f, upload_bytes) if incremental else [f.end]
        start = f.start
        for end in bounds:
            if end > start:
                pieces.append((f, Piece(path=f.path, agent=f.agent, start=start, end=end, data=b"")))
            start = end
    return pieces


def _cuts(f: TranscriptFile, upload_bytes: int) -> list[int]:
    """Ends of line-aligned pieces of [f.start, f.end), each at most ``upload_bytes`` (a longer line: itself)."""
    cuts, at = [], f.start
    with open(f.path, "rb") as fh:
        while f.end - at > upload_bytes:
            fh.seek(at)
            newline = fh.read(upload_bytes).rfind(b"\n")
            end = at + newline + 1 if newline >= 0 else _next_newline(fh, at + upload_bytes) + 1
            at = min(end, f.end)
            cuts.append(at)
    return cuts + [f.end]


def _next_newline(fh, pos: int) -> int:
    fh.seek(pos)
    while chunk := fh.read(1 << 20):
        if (i := chunk.find(b"\n")) >= 0:
            return pos + i
        pos += len(chunk)
    return pos


def _uploads(pieces: list[tuple[TranscriptFile, Piece]], upload_bytes: int):
    group: list[tuple[TranscriptFile, Piece]] = []
    size = 0
    for f, p in pieces:
        n = p.end - p.start
        if group and size + n > upload_bytes:
            yield group
            group, size = [], 0
        group.append((f, p))
        size += n
    if group:
        yield group


def _read(f: TranscriptFile, p: Piece) -> Piece:
    fd = os.open(f.path, os.O_RDONLY)
    try:
        data = os.pread(fd, p.end - p.start, p.start)
    finally:
        os.close(fd)
    return Piece(path=p.path, agent=p.agent, start=p.start, end=p.start + len(data), data=data)


def _sent_to(f: TranscriptFile, end: int) -> dict:
    """The state of a file sent up to ``end``: as transcript_files records it for a local import, so ``plan_read``
    resumes from it. A file sent in part looks, to the next push, like a file that grew since ``end``."""
    if end >= f.end:
        return {"size": f.size, "mtime_ns": f.mtime_ns, "imported_to": f.end, "head_hash": f.head_hash, "lines": 0,
                "request_lines": 0}  # fmt: skip
    fd = os.open(f.path, os.O_RDONLY)
    try:
        head = head_hash(fd, end)
    finally:
        os.close(fd)
    return {"size": end, "mtime_ns": 0, "imported_to": end, "head_hash": head, "lines": 0, "request_lines": 0}


def _send(client: Client, wire: bytes) -> dict:
    for attempt in range(RETRIES):
        try:
            return client.import_upload(wire)
        except TelemetryError as exc:
            if getattr(exc, "status", 0) not in (429, 503) or attempt == RETRIES - 1:
                raise
            log.warning("the hub cannot take the push now (%s); trying again", exc.message)
            time.sleep(2**attempt)
    raise AssertionError("unreachable")
