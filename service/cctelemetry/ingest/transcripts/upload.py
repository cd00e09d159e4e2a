"""Session files pushed to a hub from another machine (``cctelemetry import --to URL``): the push format, and the
hub's side of it (``POST /api/v1/import/upload``).

A push is a tar stream (gzip'd on the wire, ``Content-Encoding: gzip``): first ``manifest.json``, then one
member per piece of a file, holding its bytes ``[start, end)``::

    {"format": "cctelemetry-push/1", "host": "laptop",
     "files": [{"name": "1", "path": "/home/me/.claude/projects/-home-me-work/<session>.jsonl",
                "agent": "claude", "start": 0, "end": 18234}]}

The sender decides which bytes are new (cctelemetry/push.py, with the same planning as a local import); the
hub runs the import's own steps on them (importer.import_files), against its own store: its plan step and its
fact writer de-duplicate against everything the hub holds, telemetry from any machine included. The rows get
the resource attribute ``host.name`` = the manifest's ``host``, as the machine's telemetry names it
(setup-telemetry.sh), so the ``host`` dimension says where the files came from. A piece sent twice (an answer
lost on the way, a sender that forgot its offsets) is counted once: the import skips what is stored.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from ...errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from ...store import Store
from .agents import detect, get_agent
from .files import TranscriptFile
from .importer import import_files, summarize
from .summary import ImportSummary

FORMAT = "cctelemetry-push/1"
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 16 * 2**20
MAX_FILES = 100_000
MAX_PATH = 4096
MAX_HOST = 255
_TAR_OVERHEAD = 4096  # per member at most: its header block(s) and padding
HOST_ATTRIBUTE = "host.name"  # the resource attribute behind the host dimension (semantic conventions' host.name)


@dataclass(frozen=True)
class Piece:
    """Bytes ``[start, end)`` of the file at ``path`` on the sender's machine, whose agent is ``agent``."""

    path: str
    agent: str
    start: int
    end: int
    data: bytes


def pack(host: str, pieces: list[Piece]) -> bytes:
    """The tar stream of a push (not compressed: the transport gzips it)."""
    manifest = {"format": FORMAT, "host": host,
                "files": [{"name": str(n), "path": p.path, "agent": p.agent, "start": p.start, "end": p.end}
                          for n, p in enumerate(pieces, start=1)]}  # fmt: skip
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, MANIFEST, json.dumps(manifest).encode())
        for n, piece in enumerate(pieces, start=1):
            _add(tar, str(n), piece.data)
    return out.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


def receive(store: Store, body: BinaryIO, encoding: str | None, max_bytes: int) -> ImportSummary:
    """Import a push read from ``body`` (the tar, gzip'd when ``encoding`` says so) into ``store``; at most
    ``max_bytes`` of file content. Bad input is a 400 naming what is wrong, too much a 413; nothing is written
    then."""
    t0 = time.perf_counter()
    encoding = (encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r}: a push is sent as is or gzip'd")
    stream = _Capped(gzip.GzipFile(fileobj=body, mode="rb") if encoding == "gzip" else body,
                     MANIFEST_MAX_BYTES + _TAR_OVERHEAD)  # raised once the manifest says how much follows  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cctelemetry-push-") as tmp:
        host, files = _unpack(stream, Path(tmp), max_bytes)
        summary = ImportSummary.start(len(files), [])
        import_files(store, files, list(files), summary, resource_attributes={HOST_ATTRIBUTE: host})
        summarize(files, summary)
    summary.seconds = time.perf_counter() - t0
    return summary


class _Capped(io.RawIOBase):
    """A stream that refuses to give more than ``limit`` bytes (a gzip bomb, a tar header that says too much)."""

    def __init__(self, inner: BinaryIO | gzip.GzipFile, limit: int):
        self.inner, self.limit, self.read_bytes = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.inner.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise BadRequest(f"the push's gzip stream is broken ({exc})") from exc
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise PayloadTooLarge("the push is larger than its manifest says, or over the upload limit")
        buffer[: len(data)] = data
        return len(data)


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    """A regular member's content (callers checked ``isreg``; extractfile gives None only for other kinds)."""
    content = tar.extractfile(member)
    if content is None:
        raise BadRequest(f"member {member.name!r} of the push is not a regular file")
    return content


def _unpack(stream: _Capped, folder: Path, max_bytes: int) -> tuple[str, list[TranscriptFile]]:
    try:
        tar = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - its errors are a 400, its body is a with below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BadRequest(f"the push is not a tar stream ({exc})") from exc
    with tar:
        try:
            members = iter(tar)
            first = next(members, None)
            if first is None or first.name != MANIFEST or not first.isreg():
                raise BadRequest(f"a push starts with {MANIFEST}")
            if first.size > MANIFEST_MAX_BYTES:
                raise PayloadTooLarge(f"{MANIFEST} is over {MANIFEST_MAX_BYTES} bytes")
            host, entries = _manifest(_member(tar, first).read())
            total = sum(e["end"] - e["start"] for e in entries.values())
            if total > max_bytes:
                raise PayloadTooLarge(f"the push holds {total} bytes of files, over the {max_bytes}-byte limit "
                                      "(CCTELEMETRY_MAX_UPLOAD_BYTES); send fewer files at a time")  # fmt: skip
            stream.limit = stream.read_bytes + total + _TAR_OVERHEAD * (len(entries) + 1)
            files: dict[str, TranscriptFile] = {}
            for member in members:
                entry = entries.get(member.name)
                if entry is None or member.name in files or not member.isreg():
                    raise BadRequest(f"unexpected member {member.name!r} in the push (not in its manifest, or twice)")
                if member.size != entry["end"] - entry["start"]:
                    raise BadRequest(f"member {member.name!r} holds {member.size} bytes, its manifest entry says "
                                     f"{entry['end'] - entry['start']}")  # fmt: skip
                idx = len(files) + 1
                target = folder / f"{idx}.jsonl"
                with _member(tar, member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                files[member.name] = TranscriptFile(idx=idx, path=str(target), size=member.size, mtime_ns=0,
                                                    agent=entry["agent"], origin=entry["path"])  # fmt: skip
        except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the push is not a valid tar stream ({exc})") from exc
    if len(files) != len(entries):
        missing = sorted(set(entries) - set(files))[:5]
        raise BadRequest(f"the push ended before the files its manifest lists: {missing}")
    return host, list(files.values())


def _manifest(raw: bytes) -> tuple[str, dict[str, dict]]:
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"{MANIFEST} is not JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadRequest(f'{MANIFEST} must be an object with "format": "{FORMAT}"')
    host = manifest.get("host")
    if not isinstance(host, str) or not host.strip() or len(host) > MAX_HOST or not host.isprintable():
        raise BadRequest(f'"host" must be the sending machine\'s name (1-{MAX_HOST} printable characters)')
    listed = manifest.get("files")
    if not isinstance(listed, list) or len(listed) > MAX_FILES:
        raise BadRequest(f'"files" must be a list of at most {MAX_FILES} entries')
    entries: dict[str, dict] = {}
    for n, entry in enumerate(listed):
        entries[_entry_name(entry, n)] = _entry(entry, n)
    return host.strip(), entries


def _entry_name(entry, n: int) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not name or name == MANIFEST:
        raise BadRequest(f'files[{n}]: "name" must be the member\'s name')
    return name


def _entry(entry: dict, n: int) -> dict:
    path, start, end = entry.get("path"), entry.get("start"), entry.get("end")
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise BadRequest(f'files[{n}]: "path" must be the file\'s path on the sending machine')
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise BadRequest(f'files[{n}]: "start" and "end" must be byte offsets, start <= end')
    if not 0 <= start <= end:
        raise BadRequest(f'files[{n}]: "start" and "end" must be byte offsets, start <= end')
    named = entry.get("agent")
    agent = get_agent(named) if named else detect(path.replace("\\", os.sep))
    if agent is None:
        raise BadRequest(f'files[{n}]: whose file {path!r} is cannot be told from its path; name its "agent"')
    return {"path": path, "agent": agent.name, "start": start, "end": end}
