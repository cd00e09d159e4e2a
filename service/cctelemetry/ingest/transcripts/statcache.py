"""A copy of ``transcript_files``' sizes and mtimes next to the embedded data, so that an import with
nothing new answers without opening the engine.

Opening the embedded ClickHouse (loading chdb with numpy and pyarrow, then the engine) costs most of a
second; comparing the sizes and mtimes of a few thousand files costs milliseconds. ``cctelemetry import``
run from a hook or a cron job mostly finds nothing new, so the CLI asks this cache first
(``unchanged_summary``) and opens the store only when some file is new or changed.

The cache never claims more than the table holds: every import on the embedded engine removes it before
it writes anything and writes it again, from the table's state plus what it read, when it is done. A run
that dies midway leaves none, and the next one takes the full path. The cache only ever answers "nothing
new"; anything else is decided by the full import against ``transcript_files``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .files import list_files
from .summary import ImportSummary

VERSION = 1


def location(data_path: str, database: str) -> Path:
    """The cache file of one database in an embedded data folder."""
    return Path(data_path) / f"cctelemetry-transcripts-{database}.json"


def read(path: Path) -> dict[str, list[int]] | None:
    """path -> [size, mtime_ns], or None when there is no usable cache."""
    try:
        body = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("version") != VERSION or not isinstance(body.get("files"), dict):
        return None
    return body["files"]


def write(path: Path, files: dict[str, tuple[int, int]]) -> None:
    """Replace the cache atomically (a reader sees the old one or the new one, never half)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"version": VERSION, "files": files}, separators=(",", ":")))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # the cache is an optimisation: without it the import takes the full path


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def unchanged_summary(path: Path, paths: list[Path] | None, agent=None) -> ImportSummary | None:
    """The summary of an import of ``paths`` when the cache shows every file unchanged since it was last
    imported (the same summary the full import gives then); None when an import has work to do."""
    known = read(path)
    if known is None:
        return None
    from .agents import get_agent

    files, missing = list_files(paths, agent if agent is None or not isinstance(agent, str) else get_agent(agent))
    for f in files:
        if f.status != "read" or known.get(f.path) != [f.size, f.mtime_ns]:
            return None
    summary = ImportSummary.start(len(files), missing)
    summary.files_unchanged = len(files)
    return summary
