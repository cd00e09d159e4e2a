"""The current session: the one with the latest request, among any filters (``agent=...``), within a project
(``project``), or within the project of a directory (``cwd``: the longest known project path that is the
directory or one of its parents; when no project is known there, the latest session anywhere, and the
answer says so). Project paths come from transcripts (``cctelemetry import``): telemetry carries none.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import NotFound
from ..store import Store
from ..store.sqlfiles import load, render, trusted
from .blocks import iso, utc
from .query import RequestFilter
from .source import usage_cte


def current_session(store: Store, flt: RequestFilter, project: str | None = None, cwd: str | None = None) -> dict:
    """``{"session", "last_seen", "project", "matched_by"}``; ``matched_by``: ``project`` (asked for),
    ``cwd`` (the directory's project), or ``latest`` (no project asked, or none known for the directory)."""
    matched_by = "latest"
    if project:
        flt, matched_by = replace(flt, filters={**flt.filters, "project": project}), "project"
    elif cwd:
        head, params = usage_cte(flt)
        rows = store.rows(head + render(load(__package__, "current_project"), WHERE=trusted(flt.where())),
                          {**params, **flt.params(), "cwd": cwd.rstrip("/") or "/"})  # fmt: skip
        if rows:
            flt, matched_by = replace(flt, filters={**flt.filters, "project": rows[0]["project"]}), "cwd"
    head, params = usage_cte(flt)
    rows = store.rows(head + render(load(__package__, "current_session"), WHERE=trusted(flt.where())),
                      {**params, **flt.params()})  # fmt: skip
    if not rows:
        where = f" in project {flt.filters['project']!r}" if "project" in flt.filters else ""
        raise NotFound(f"no session{where} yet" + (f" matching {_describe(flt.filters)}" if flt.filters else ""))
    row = rows[0]
    return {"session": row["session"], "last_seen": iso(utc(row["last_seen"])), "project": row["latest_project"],
            "matched_by": matched_by, "cwd": cwd or None}  # fmt: skip


def _describe(filters: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in filters.items() if k != "project") or "the filters"
