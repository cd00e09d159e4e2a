"""``current`` where a command takes a session: the session with the latest request, within ``--project``, or
within the project of the directory the command runs in when one is known (reports/current.py)."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

Project = Annotated[str | None, typer.Option("--project", help="With current: the latest session of this project "
                                             "(default: this directory's project, when known).")]  # fmt: skip
Agent = Annotated[str | None, typer.Option("--agent", help="With current: the latest session of this agent.")]


def current_scope(project: str | None, agent: str | None) -> dict[str, Any]:
    """The parameters of ``current_session`` for these options (``cwd``: this directory, when no project)."""
    return {"project": project, "cwd": None if project else os.getcwd(),
            "filters": {"agent": agent} if agent else None}  # fmt: skip


def describe_current(found: dict) -> str:
    how = {
        "project": f"latest in project {found['project']}",
        "cwd": f"latest in {found['project']} (this directory's project)",
        "latest": "latest session" + (" (no project known for this directory)" if found.get("cwd") else ""),
    }
    return f"current session: {found['session']}, {how[found['matched_by']]}, last request {found['last_seen']}"
