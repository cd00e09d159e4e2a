"""With a ClickHouse server (the Docker stack) the server cannot read this machine's files: the importer
uploads each batch's lines and runs the same SQL there. Exercised against tests/support/chshim.py, the
ClickHouse HTTP transport in front of a real engine in a subprocess of its own."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from cctelemetry.ingest.transcripts import import_transcripts
from cctelemetry.store import Store
from cctelemetry.store.migrate import migrate
from corpus import Corpus
from transcripts_support import copy_tree, per_session, transcript_rows

_SUPPORT = str(Path(__file__).resolve().parents[1] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

from chshim import ChShim  # noqa: E402
from stack_users import SHIM_USERS, writer_url  # noqa: E402


@pytest.fixture(scope="module")
def shim():
    for var in ("no_proxy", "NO_PROXY"):
        entries = [e for e in os.environ.get(var, "").split(",") if e]
        if "127.0.0.1" not in entries:
            os.environ[var] = ",".join([*entries, "127.0.0.1"])
    with ChShim(users=SHIM_USERS) as server:
        yield server


@pytest.fixture
def server_store(shim):
    database = f"t_{uuid.uuid4().hex[:12]}"
    s = Store(writer_url(shim, database), database)
    migrate(s)
    yield s
    s.command(f"DROP DATABASE IF EXISTS `{database}`")
    s.close()


def test_server_import_equals_embedded(server_store, store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    on_server = import_transcripts(server_store, [projects])
    embedded = import_transcripts(store, [projects])
    for field in ("files_read", "lines", "request_lines", "requests", "new_requests", "rows_written"):
        assert getattr(on_server, field) == getattr(embedded, field), field
    assert per_session(transcript_rows(server_store)) == per_session(transcript_rows(store))
    again = import_transcripts(server_store, [projects])
    assert (again.files_unchanged, again.rows_written) == (14, 0)


def test_server_import_of_bad_input(server_store, tmp_path):
    corpus = Corpus(tmp_path / "claude").build(sessions=12)
    summary = import_transcripts(server_store, [corpus.projects])
    assert summary.requests == summary.rows_written == len(corpus.expected)
    assert summary.skipped_lines == corpus.skipped and summary.lines == corpus.lines
    assert not server_store.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                 "AND name LIKE '\\_transcript\\_import%'")  # fmt: skip


def test_server_import_of_codex_and_gemini_files_equals_embedded(server_store, store):
    """The order-dependent Codex and Gemini steps (a response's model and session come from earlier lines)
    give the same rows when the lines are uploaded to a server."""
    data = Path(__file__).resolve().parents[1] / "data"
    paths = [data / "codex-fork-tree", data / "gemini-cli-0.61.0" / "chats"]
    on_server = import_transcripts(server_store, paths)
    embedded = import_transcripts(store, paths)
    assert on_server.requests == embedded.requests == 11  # the fork tree's 10 and Gemini's 1
    sql = ("SELECT agent_product, session_id, model, input_tokens, output_tokens, cache_read_tokens,"
           " cache_creation_tokens, reasoning_tokens FROM request_copies FINAL ORDER BY ALL")  # fmt: skip
    assert server_store.rows(sql) == store.rows(sql)
