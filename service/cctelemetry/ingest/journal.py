"""The ingest journal: OTLP log bodies kept on disk from their acknowledgement until their rows are stored.

Four OTLP clients that each wait for an answer can only be as fast as one insert: an insert of a few thousand
rows into otel_logs and its materialized views costs about as much as one of a few hundred (mostly a fixed
cost per part). So the embedded service acknowledges a protobuf log body once it is appended here, and the
writer inserts everything that arrived meanwhile in one go (ingest/writer.py). A segment file holds the
bodies of one flush; it is deleted once they are in ClickHouse. At start, the writer stores what a killed
process left (``replay``), so nothing acknowledged is lost.

Durability is the same as ClickHouse's own inserts: written to the file system, not fsync'd (ClickHouse's
``fsync_after_insert`` is off by default: https://clickhouse.com/docs/operations/settings/merge-tree-settings).
A process killed at any point keeps every acknowledged body; a record cut short by a kill in the middle of
its write was never acknowledged, and is dropped at replay (length and CRC-32 checked).
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from pathlib import Path

log = logging.getLogger(__name__)

_HEAD = struct.Struct("<II")  # length, crc32 of the body
SUFFIX = ".otlp"


class Journal:
    """Append-only segments in ``folder``; one writer thread rotates and drops them."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        existing = sorted(self.folder.glob("*" + SUFFIX))
        self._number = int(existing[-1].stem) + 1 if existing else 1
        self._fd: int | None = None

    def _path(self, number: int) -> Path:
        return self.folder / f"{number:012d}{SUFFIX}"

    def append(self, body: bytes) -> int:
        """Write one body to the open segment; returns the segment's number (one write call per record)."""
        record = _HEAD.pack(len(body), zlib.crc32(body)) + body
        with self._lock:
            if self._fd is None:
                self._fd = os.open(self._path(self._number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            view = memoryview(record)
            while view:
                view = view[os.write(self._fd, view) :]
            return self._number

    def rotate(self) -> int | None:
        """Close the open segment (new bodies go to the next one); its number, or None when none was open."""
        with self._lock:
            if self._fd is None:
                return None
            os.close(self._fd)
            self._fd, number = None, self._number
            self._number += 1
            return number

    def drop(self, number: int) -> None:
        """The segment's bodies are stored: forget them (never the open segment, which may still grow)."""
        with self._lock:
            if self._fd is not None and number == self._number:
                return
        self._path(number).unlink(missing_ok=True)

    def leftovers(self) -> list[tuple[int, list[bytes]]]:
        """Segments a previous process left (before any append of this one): (number, bodies)."""
        found = []
        for path in sorted(self.folder.glob("*" + SUFFIX)):
            number = int(path.stem)
            if number >= self._number:
                continue
            found.append((number, read_segment(path)))
        return found

    def close(self) -> None:
        self.rotate()


def read_segment(path: Path) -> list[bytes]:
    data = path.read_bytes()
    bodies, at = [], 0
    while at + _HEAD.size <= len(data):
        length, crc = _HEAD.unpack_from(data, at)
        body = data[at + _HEAD.size : at + _HEAD.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            log.warning("journal record cut short (a kill while it was written; never acknowledged): dropped",
                        extra={"segment": path.name, "offset": at})  # fmt: skip
            break
        bodies.append(body)
        at += _HEAD.size + length
    return bodies
