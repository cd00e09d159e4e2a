"""``POST /api/v1/import``: import session files (Claude Code transcripts, Codex rollouts, Gemini chats) that
are on the service's machine (backfill)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, cast

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from ...ingest.transcripts import import_transcripts
from ...ingest.transcripts.upload import FORMAT, receive
from ..deps import SettingsDep, StoreDep

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
    with store.settled():  # what was acknowledged before the import is stored first, once (ingest/writer.py)
        summary = import_transcripts(store, [Path(os.path.expanduser(p)) for p in paths] if paths else None,
                                     agent=agent)  # fmt: skip
    return summary.to_dict()


PUSH_MEDIA_TYPE = "application/x-tar"


@router.post(
    "/import/upload",
    summary="Import session files pushed from another machine (a hub)",
    openapi_extra={"requestBody": {"required": True, "content": {PUSH_MEDIA_TYPE: {"schema": {
        "type": "string", "format": "binary",
        "description": f"A tar stream (gzip'd with Content-Encoding: gzip): manifest.json ({FORMAT}: host, and per "
                       "file its path on the sender, agent, start and end offsets), then each file's bytes."}}}}},
)  # fmt: skip
async def post_import_upload(request: Request, store: StoreDep, settings: SettingsDep) -> dict:
    """What ``cctelemetry import --to URL`` sends: the new bytes of a machine's session files. They are imported
    here as ``POST /api/v1/import`` imports local files, de-duplicated against everything this service holds
    (telemetry from any machine, earlier pushes), with ``host.name`` set to the sending machine. Answers the
    import's summary. Sending the same bytes again adds nothing."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != PUSH_MEDIA_TYPE:
        raise UnsupportedMediaType(f"a push is {PUSH_MEDIA_TYPE} (cctelemetry import --to URL sends it), not {media!r}")
    limit = settings.max_upload_bytes
    with tempfile.SpooledTemporaryFile(max_size=64 * 2**20) as body:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the push is over the {limit}-byte limit (CCTELEMETRY_MAX_UPLOAD_BYTES)")
            body.write(chunk)
        body.seek(0)
        # typeshed has SpooledTemporaryFile as an IO[bytes], which receive()'s BinaryIO does not name
        upload = cast(BinaryIO, body)
        summary = await run_in_threadpool(
            _receive_settled, store, upload, request.headers.get("content-encoding"), limit
        )
    return summary.to_dict()


def _receive_settled(store, body, encoding, limit):
    with store.settled():  # as post_import
        return receive(store, body, encoding, limit)
