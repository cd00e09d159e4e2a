"""Which transcript files there are, which of their bytes are new, and what earlier imports read.

``transcript_files`` (migration 0007) remembers per path the size, mtime, a hash of the first bytes and
the offset up to which the file was imported (the end of its last complete line). A file is read from
that offset when it grew with the same start, from 0 when it shrank, changed without growing or starts
differently (the later steps make re-reading safe), and not at all when size and mtime are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...store import Store
    from .agents import Agent

HEAD_BYTES = 4096  # head_hash covers this much of a file's start


# -- finding the files ---------------------------------------------------------------------------


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


def list_files(paths: list[Path] | None, agent: Agent | None = None) -> tuple[list[TranscriptFile], list[str]]:
    """The session files under ``paths`` (folders or files; default: the agent's default folders, or every
    agent's), each with its agent (``agent``, else detected from its path), stat'ed and numbered from 1 (a
    file gone or unreadable by now has that status); and the paths given that do not exist (none for the
    default folders, which need not all exist). A file found under a default folder that is not that
    agent's kind of file (Gemini's tmp/ holds more than chats) is left out."""
    from .agents import AGENTS, detect

    explicit = bool(paths)
    if paths:
        found, missing = find_transcripts(paths)
        owned = [(p, a) for p in found if (a := agent or detect(p)) is not None]  # found: sorted, unique
    else:
        missing = []
        by_path: dict[str, Agent] = {}
        for a in [agent] if agent else AGENTS.values():
            by_path.update((p, a) for p in find_transcripts(a.roots())[0] if a.owns(p))
        owned = sorted(by_path.items(), key=lambda item: item[0])
    files: list[TranscriptFile] = []
    for idx, (path, owner) in enumerate(owned, start=1):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            files.append(TranscriptFile(idx=idx, path=path, size=0, mtime_ns=0, status="vanished", agent=owner.name))
            continue
        except OSError as exc:
            files.append(TranscriptFile(idx=idx, path=path, size=0, mtime_ns=0, status="unreadable", error=str(exc),
                                        agent=owner.name))  # fmt: skip
            continue
        files.append(TranscriptFile(idx=idx, path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, agent=owner.name))
    return files, (missing if explicit else [])


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
class TranscriptFile:
    """One file of a run: where it is, which bytes of it are read ([start, end)), and what came of it.
    ``status``: read, unchanged, vanished or unreadable."""

    idx: int  # its number in the run: the batch entry <idx>.jsonl, and file_idx in the SQL
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
    agent: str = "claude"  # agents.AGENTS key
    origin: str = ""  # where the bytes came from when that is not ``path`` (a file pushed from another machine)

    @property
    def nbytes(self) -> int:
        return max(self.end - self.start, 0)


def head_hash(fd: int, n: int) -> str:
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


def plan_read(f: TranscriptFile, state: dict | None, incremental: bool = True) -> None:
    """Decide which bytes of ``f`` (known to have changed since ``state``, if any) to read: start, end,
    head_hash. Not ``incremental``: a changed file is read again whole (its lines need the earlier ones)."""
    fd = os.open(f.path, os.O_RDONLY)
    try:
        if state is not None:
            if (incremental and f.size > state["size"]
                    and head_hash(fd, state["imported_to"]) == state["head_hash"]):  # fmt: skip
                # Grew, same start: an appended transcript. Read from the end of the last complete line.
                f.start = state["imported_to"]
                f.prior_lines, f.prior_request_lines = state["lines"], state["request_lines"]
            else:
                # Shrank, changed without growing, or another file now has this name: from the start.
                f.reread = True
        f.end, f.pending = _complete_end(fd, f.start, f.size)
        f.head_hash = head_hash(fd, f.end)
    finally:
        os.close(fd)


def load_state(store: Store) -> dict[str, dict]:
    rows = store.rows(
        "SELECT path, size, mtime_ns, imported_to, head_hash, lines, request_lines FROM transcript_files FINAL"
    )
    return {r["path"]: r for r in rows}


def save_state(store: Store, files: list[TranscriptFile]) -> None:
    """Record how far each file was read. Called only after its requests are written, so a crash in
    between means reading again (never losing, never doubling: the later steps skip what is stored)."""
    if not files:
        return
    store.insert_plain(
        "transcript_files",
        {
            "path": [f.path for f in files],
            "size": [f.size for f in files],
            "mtime_ns": [f.mtime_ns for f in files],
            "imported_to": [f.end for f in files],
            "head_hash": [f.head_hash for f in files],
            "lines": [f.prior_lines + f.lines for f in files],
            "request_lines": [f.prior_request_lines + f.request_lines for f in files],
        },
    )
