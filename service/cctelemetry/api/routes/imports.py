"""``POST /api/v1/import``: import session files (Claude Code transcripts, Codex rollouts, Gemini chats) that
are on the service's machine (backfill)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...errors import BadRequest
from ...ingest.transcripts import import_transcripts
from ..deps import StoreDep

router = APIRouter(prefix="/api/v1", tags=["import"])


class ImportRequest(BaseModel):
    paths: list[str] | None = Field(
        default=None,
        description="Absolute transcript folders (searched recursively for *.jsonl) or files, on the service's "
        "machine. Omitted or empty: $CLAUDE_CONFIG_DIR/projects, ~/.config/claude/projects and ~/.claude/projects "
        "of the user the service runs as.",
        examples=[["/home/me/.claude/projects"]],
    )
    agent: str | None = Field(
        default=None,
        description="Whose files: claude, codex or gemini. Omitted: detected from each file's path (Codex's "
        "rollout-*.jsonl, Gemini's chats/), and without paths every agent's default folders ($CODEX_HOME/sessions, "
        "~/.gemini/tmp/*/chats, Claude Code's).",
        examples=["codex"],
    )


@router.post("/import", summary="Import Claude Code, Codex and Gemini session files (only what is new)")
def post_import(store: StoreDep, body: ImportRequest | None = None) -> dict:
    """Reads the transcripts' new bytes, adds each request once (a request already received as telemetry
    or imported before is not added again) and answers a summary: files, lines, requests (new / known),
    skipped lines and files by reason, bytes and seconds. Safe to call repeatedly."""
    paths = (body.paths if body else None) or None
    if paths:
        relative = [p for p in paths if not os.path.isabs(os.path.expanduser(p))]
        if relative:
            raise BadRequest(f"paths must be absolute (they are read on the service's machine): {relative[0]!r}")
    agent = body.agent if body else None
    summary = import_transcripts(store, [Path(os.path.expanduser(p)) for p in paths] if paths else None, agent=agent)
    return summary.to_dict()
