"""A hub on a ClickHouse server (the stack): a push is imported there as on the embedded engine (the service
uploads the pushed lines to the server, which cannot read its files), with the same numbers."""

from __future__ import annotations

import gzip
from pathlib import Path

from cctelemetry.config import Settings
from cctelemetry.ingest.transcripts.upload import Piece, pack
from conftest import api_client, make_state

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "claude-config-projects"


def laptop_push() -> bytes:
    pieces = []
    for path in sorted(PROJECTS.rglob("*.jsonl")):
        data = path.read_bytes()
        origin = "/home/me/.claude/projects/" + path.relative_to(PROJECTS).as_posix()
        pieces.append(Piece(origin, "claude", 0, len(data), data))
    return gzip.compress(pack("laptop", pieces))


def test_a_push_to_a_hub_on_a_server_equals_the_embedded_one(server_store, store, database):
    totals = []
    for s in (server_store, store):
        with api_client(make_state(s, Settings(database=s.database, tz="UTC", write_flush_ms=5))) as client:
            r = client.post("/api/v1/import/upload", content=laptop_push(),
                            headers={"Content-Type": "application/x-tar", "Content-Encoding": "gzip"})  # fmt: skip
            assert r.status_code == 200, r.text
            assert r.json()["new_requests"] > 20
            totals.append(client.get("/api/v1/usage", params={"group_by": "host,session",
                                                               "since": "2000-01-01"}).json())  # fmt: skip
    over_http, embedded = totals
    assert over_http["rows"] == embedded["rows"] and over_http["totals"] == embedded["totals"]
    assert {r["host"] for r in over_http["rows"]} == {"laptop"}
