"""The pushing side (cctelemetry/push.py) against a real service: files larger than an upload go in line-aligned
pieces, a push stopped after any upload resumes where it stopped, and the hub ends up with what one import of
the same files gives; one push per hub at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cctelemetry.client import Client
from cctelemetry.errors import StoreUnavailable
from cctelemetry.ingest.transcripts import import_transcripts
from cctelemetry.push import PushState, push
from conftest import live_service

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "claude-config-projects"


class Stop(Exception):
    pass


def usage(url: str) -> dict:
    return Client(url).usage(group_by="session", since="2000-01-01")


@pytest.mark.parametrize("stop_after", [1, 3, 7])
def test_pieces_and_resuming_give_what_one_import_gives(service_state, store, tmp_path, stop_after, engine_url):
    projects = tmp_path / "projects"
    shutil.copytree(PROJECTS, projects)
    state = tmp_path / "pushes"
    uploads = []

    def stop(done: int, total: int) -> None:
        uploads.append(done)
        if len(uploads) == stop_after:
            raise Stop

    with live_service(service_state) as url:
        hub = Client(url)
        with pytest.raises(Stop):
            push(hub, [projects], state, host="box", upload_bytes=3000, progress=stop)
        rest = push(hub, [projects], state, host="box", upload_bytes=3000)
        assert rest.uploads > 0
        sent = uploads[-1] + rest.bytes_sent
        total = sum(p.stat().st_size for p in projects.rglob("*.jsonl"))
        assert sent == total, "every byte sent once, none twice"
        assert not rest.summary.skipped_lines.get("invalid_json"), "pieces end at line ends"
        pushed = usage(url)

        again = push(hub, [projects], state, host="box", upload_bytes=3000)
        assert (again.uploads, again.files_unchanged) == (0, again.files)

    import_transcripts(store, [projects])  # the same files, one import, in a database of their own
    from cctelemetry.reports.catalog import Reports

    one_import = Reports(store, service_state.settings).usage(group_by="session", since="2000-01-01")
    assert pushed["rows"] == one_import["rows"] and pushed["totals"] == one_import["totals"]


@pytest.fixture
def store(engine_url):
    """A second database beside the service's (the reference import)."""
    from conftest import new_database, open_store

    database = new_database()
    s = open_store(engine_url, database)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture
def service_state(engine_url, tmp_path):
    from cctelemetry.config import Settings
    from conftest import make_state, new_database, open_store

    database = new_database()
    s = open_store(engine_url, database)
    yield make_state(s, Settings(database=database, tz="UTC", write_flush_ms=5))
    s.command(f"DROP DATABASE IF EXISTS `{database}`")


def test_a_line_longer_than_an_upload_goes_whole(service_state, tmp_path):
    source = next((PROJECTS / "-home-dev01-work").glob("8a0ff020-*.jsonl"))
    folder = tmp_path / "projects" / "-home-dev01-work"
    folder.mkdir(parents=True)
    shutil.copy(source, folder / source.name)
    longest = max(len(line) for line in source.read_bytes().splitlines(keepends=True))
    with live_service(service_state) as url:
        result = push(Client(url), [folder], tmp_path / "pushes", host="box", upload_bytes=longest // 3)
    assert result.bytes_sent == source.stat().st_size
    assert result.summary.requests > 0 and not result.summary.skipped_lines.get("invalid_json")


def test_one_push_per_hub_at_a_time(tmp_path):
    with PushState(tmp_path, "http://hub:8000"):
        with (
            pytest.raises(StoreUnavailable, match="another push to http://hub:8000 is running"),
            PushState(tmp_path, "http://hub:8000"),
        ):
            pass
        with PushState(tmp_path, "http://other-hub:8000"):
            pass
