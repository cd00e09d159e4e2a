"""``POST /api/v1/import/upload``, the hub's side of a push: what it takes, and the clear errors for what it does not
(400 for a body that is not a push or lies about itself, 413 over CCTELEMETRY_MAX_UPLOAD_BYTES, 415 for another
media type or encoding). A refused push writes nothing."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from cctelemetry.ingest.transcripts.upload import FORMAT, Piece, pack

DATA = Path(__file__).resolve().parents[1] / "data"
TRANSCRIPT = next((DATA / "claude-config-projects" / "-home-dev01-work").glob("4409705d-*.jsonl"))
ORIGIN = "/home/someone/.claude/projects/-home-someone-work/4409705d-ba62-405c-9f89-87d80e8cc6dc.jsonl"
PUSH = {"Content-Type": "application/x-tar", "Content-Encoding": "gzip"}


def a_push(host: str = "box", data: bytes | None = None) -> bytes:
    data = TRANSCRIPT.read_bytes() if data is None else data
    return gzip.compress(pack(host, [Piece(ORIGIN, "claude", 0, len(data), data)]))


def tar_of(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue())


def requests_stored(client) -> int:
    return client.get("/api/v1/usage", params={"since": "2000-01-01"}).json()["totals"]["requests"]


def test_a_push_is_imported_with_its_host_and_counted_once(client):
    first = client.post("/api/v1/import/upload", content=a_push(), headers=PUSH)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["files"], body["files_read"]) == (1, 1) and body["new_requests"] == body["requests"] > 0
    again = client.post("/api/v1/import/upload", content=a_push(), headers=PUSH).json()
    assert (again["new_requests"], again["rows_written"]) == (0, 0)
    rows = client.get("/api/v1/usage", params={"group_by": "host,project", "since": "2000-01-01"}).json()["rows"]
    # the host comes from the push; the project from the lines (their cwd), as in a local import
    assert [(r["host"], r["project"], r["requests"]) for r in rows] == [("box", "/home/dev01/work", body["requests"])]
    plain = client.post("/api/v1/import/upload", content=gzip.decompress(a_push()),
                        headers={"Content-Type": "application/x-tar"})  # fmt: skip
    assert plain.status_code == 200 and plain.json()["new_requests"] == 0


def manifest(**overrides) -> bytes:
    body = {"format": FORMAT, "host": "box", "files": [{"name": "1", "path": ORIGIN, "agent": "claude", "start": 0,
                                                        "end": 3}]}  # fmt: skip
    body.update(overrides)
    return json.dumps(body).encode()


@pytest.mark.parametrize("content, says", [
    (b"not a tar at all", "tar"),
    (gzip.compress(b"not a tar at all"), "tar"),
    (tar_of([("1", b"{}\n")]), "starts with manifest.json"),
    (tar_of([("manifest.json", b"{nope")]), "not JSON"),
    (tar_of([("manifest.json", manifest(format="other/9"))]), "format"),
    (tar_of([("manifest.json", manifest(host=""))]), "host"),
    (tar_of([("manifest.json", manifest(files=[{"name": "1", "path": ORIGIN, "start": 5, "end": 1}]))]), "start"),
    (tar_of([("manifest.json", manifest(files=[{"name": "1", "path": "/x/y.txt", "agent": "cobol", "start": 0,
                                                 "end": 1}]))]), "unknown agent"),  # fmt: skip
    (tar_of([("manifest.json", manifest()), ("1", b"{}\n{}\n")]), "its manifest entry says 3"),
    (tar_of([("manifest.json", manifest()), ("2", b"{}\n")]), "unexpected member"),
    (tar_of([("manifest.json", manifest())]), "ended before"),
])  # fmt: skip
def test_what_is_not_a_push_is_a_clear_400_and_writes_nothing(client, content, says):
    r = client.post("/api/v1/import/upload", content=content, headers=PUSH if content[:2] == b"\x1f\x8b" else
                    {"Content-Type": "application/x-tar"})  # fmt: skip
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["ok"] is False and body["code"] == "bad_request" and says in body["error"], body
    assert requests_stored(client) == 0


def test_other_media_types_and_encodings_are_415(client):
    r = client.post("/api/v1/import/upload", content=a_push(), headers={"Content-Type": "application/json"})
    assert r.status_code == 415 and "application/x-tar" in r.json()["error"]
    r = client.post("/api/v1/import/upload", content=a_push(), headers={**PUSH, "Content-Encoding": "br"})
    assert r.status_code == 415 and "Content-Encoding" in r.json()["error"]


def test_over_the_upload_limit_is_413(client, service_state):
    service_state.settings.max_upload_bytes = 1000
    r = client.post("/api/v1/import/upload", content=a_push(), headers=PUSH)
    assert r.status_code == 413 and "CCTELEMETRY_MAX_UPLOAD_BYTES" in r.json()["error"]
    # a small body that unpacks to more than it declares (a gzip bomb in a member) is cut off as well
    bomb = tar_of([("manifest.json", manifest()), ("1", b"\n" * 50_000_000)])
    r = client.post("/api/v1/import/upload", content=bomb, headers=PUSH)
    assert r.status_code in (400, 413), r.text
    assert requests_stored(client) == 0
