"""What an import reports: the summary, and the per-file progress callback's argument."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

MAX_ERRORS = 50  # errors kept in a summary


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

    @classmethod
    def start(cls, files: int, missing: list[str]) -> ImportSummary:
        """A summary of ``files`` found, with the paths given that do not exist counted and listed."""
        summary = cls(files=files)
        if missing:
            summary.skipped_files["not_found"] = len(missing)
            summary.errors.extend(f"{p}: no such file or folder" for p in missing[:MAX_ERRORS])
        return summary

    @classmethod
    def from_dict(cls, body: dict) -> ImportSummary:
        """A summary as ``to_dict`` gave it (a hub's answer to a push), its known fields only."""
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in body.items() if k in names})

    @property
    def duplicate_lines(self) -> int:
        """Request lines that were copies of another (split content blocks, re-logged responses)."""
        return self.request_lines - self.requests

    def to_dict(self) -> dict:
        body = asdict(self)
        body["duplicate_lines"] = self.duplicate_lines
        body["seconds"] = round(self.seconds, 3)
        return body

    def add(self, other: ImportSummary) -> None:
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
