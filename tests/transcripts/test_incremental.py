"""Incremental import: only new bytes, nothing twice, bad files counted, the rest imported."""

from __future__ import annotations

import errno
import os
import time

import pytest

from cctelemetry.ingest.transcripts import batches, files, import_transcripts
from corpus import Corpus
from transcripts_support import copy_tree, line, raw_row_count, transcript_rows


def state(store) -> dict[str, dict]:
    return {r["path"]: r for r in store.rows("SELECT * FROM transcript_files FINAL")}


def test_reimport_adds_nothing_and_is_fast(store, tmp_path):
    corpus = Corpus(tmp_path / "claude").build()
    first = import_transcripts(store, [corpus.projects])
    rows = raw_row_count(store)
    t0 = time.perf_counter()
    again = import_transcripts(store, [corpus.projects])
    took = time.perf_counter() - t0
    assert (again.files, again.files_unchanged, again.files_read) == (first.files, first.files, 0)
    assert (again.lines, again.bytes_read, again.requests, again.rows_written) == (0, 0, 0, 0)
    assert raw_row_count(store) == rows
    assert took < 1.0


def test_appended_lines_only_are_read(store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    import_transcripts(store, [projects])
    path = projects / "-home-dev01-work" / "4409705d-ba62-405c-9f89-87d80e8cc6dc.jsonl"
    size = path.stat().st_size
    added = line("msg_new1", "req_new1", 10, session="4409705d-ba62-405c-9f89-87d80e8cc6dc") + line(
        "msg_new2", "req_new2", 20, session="4409705d-ba62-405c-9f89-87d80e8cc6dc")  # fmt: skip
    with open(path, "a") as fh:
        fh.write(added)
    summary = import_transcripts(store, [projects])
    assert (summary.files_read, summary.files_unchanged, summary.files_reread) == (1, 13, 0)
    assert summary.bytes_read == len(added.encode()) and summary.lines == 2
    assert (summary.requests, summary.new_requests, summary.rows_written) == (2, 2, 2)
    assert state(store)[str(path)]["imported_to"] == size + len(added.encode())
    assert state(store)[str(path)]["lines"] == 7 + 2


def test_incomplete_last_line_waits_until_complete(store, tmp_path):
    corpus = Corpus(tmp_path / "claude").build()
    first = import_transcripts(store, [corpus.projects])
    key = corpus.pending[0]
    assert first.skipped_lines["incomplete_last_line"] == 1
    assert key not in {r["request_key"] for r in transcript_rows(store)}
    again = import_transcripts(store, [corpus.projects])
    assert again.files_unchanged == again.files and again.rows_written == 0  # nothing new yet
    corpus.complete_last_line()
    done = import_transcripts(store, [corpus.projects])
    assert (done.files_read, done.lines, done.requests, done.new_requests, done.rows_written) == (1, 1, 1, 1, 1)
    assert "incomplete_last_line" not in done.skipped_lines
    rows = {r["request_key"]: r for r in transcript_rows(store)}
    assert rows[key]["output_tokens"] == corpus.expected[key].output


def test_a_last_line_that_is_whole_json_is_not_held_back(store, tmp_path):
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_text(line("m1", "r1", 5) + line("m2", "r2", 6).rstrip("\n"))
    summary = import_transcripts(store, [path])
    assert summary.requests == 2 and "incomplete_last_line" not in summary.skipped_lines
    with open(path, "a") as fh:  # the newline arrives later: a blank line, nothing else
        fh.write("\n" + line("m3", "r3", 7))
    summary = import_transcripts(store, [path])
    assert summary.requests == summary.new_requests == 1 and summary.skipped_lines == {"blank": 1}


def test_a_streamed_partial_then_its_final_line(store, tmp_path):
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_text(line("m1", "r1", 3))  # the first content block: a streaming snapshot of usage
    first = import_transcripts(store, [path])
    assert first.new_requests == 1
    with open(path, "a") as fh:
        fh.write(line("m1", "r1", 300))  # the last block: the real output count
    second = import_transcripts(store, [path])
    assert (second.requests, second.known_requests, second.updated_requests, second.rows_written) == (1, 1, 1, 1)
    (row,) = transcript_rows(store)
    assert row["output_tokens"] == 300
    third = import_transcripts(store, [path])  # and nothing more after that
    assert third.rows_written == 0


def test_shrunk_or_touched_files_are_read_again_without_double_counting(store, tmp_path):
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_text(line("m1", "r1", 5) + line("m2", "r2", 6) + line("m3", "r3", 7))
    import_transcripts(store, [path])
    # touched: same size, other mtime
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    touched = import_transcripts(store, [path])
    assert (touched.files_reread, touched.lines, touched.requests, touched.known_requests, touched.rows_written) == (
        1, 3, 3, 3, 0)  # fmt: skip
    # shrank (rewritten shorter, e.g. compacted)
    path.write_text(line("m1", "r1", 5))
    shrunk = import_transcripts(store, [path])
    assert (shrunk.files_reread, shrunk.lines, shrunk.rows_written) == (1, 1, 0)
    # replaced by another file that happens to be longer: its start changed, so from 0 again
    path.write_text(line("m9", "r9", 9, inp=7) + line("m1", "r1", 5) + line("m2", "r2", 6))
    replaced = import_transcripts(store, [path])
    assert (replaced.files_reread, replaced.lines, replaced.new_requests, replaced.rows_written) == (1, 3, 1, 1)
    assert raw_row_count(store) == 4


def test_missing_paths_and_vanished_files_are_counted(store, tmp_path, monkeypatch):
    projects = copy_tree(tmp_path / "claude")
    gone = projects / "-home-dev01-work" / "gone-before-stat.jsonl"
    real = files.find_transcripts

    def find(paths):  # a file listed, then deleted before it is looked at
        found, missing = real(paths)
        return sorted(found + [str(gone)]), missing

    monkeypatch.setattr(files, "find_transcripts", find)
    summary = import_transcripts(store, [projects, tmp_path / "no-such-folder"])
    assert summary.skipped_files == {"not_found": 1, "vanished": 1}
    assert summary.files == 15 and summary.files_read == 14 and summary.requests == 21
    assert any("no-such-folder" in e for e in summary.errors) and any("gone-before-stat" in e for e in summary.errors)


@pytest.mark.parametrize("linked", [False, True], ids=["copied", "symlinked"])
def test_a_file_vanishing_while_the_batch_is_laid_out(store, tmp_path, monkeypatch, linked):
    projects = copy_tree(tmp_path / "claude")
    victim = projects / "-home-dev01-work" / "99255056-4b34-4ecf-8cff-288eef42a990.jsonl"
    if linked:  # not written to lately: read through a symlink, which then dangles
        old = time.time() - 3600
        for p in projects.rglob("*.jsonl"):
            os.utime(p, (old, old))
    real = batches.ImportRun.lay_out_batch

    def lay_out_batch(self, batch):
        victim.unlink(missing_ok=True)
        return real(self, batch)

    monkeypatch.setattr(batches.ImportRun, "lay_out_batch", lay_out_batch)
    summary = import_transcripts(store, [projects])
    assert summary.skipped_files == {"vanished": 1}
    assert summary.files_read == 13 and summary.requests == 21 - 2
    assert str(victim) not in state(store)  # no state for it: a file by that name later is read from 0


def test_unreadable_file_is_counted_and_the_rest_imported(store, tmp_path, monkeypatch):
    projects = copy_tree(tmp_path / "claude")
    bad = projects / "-home-dev01-work" / "99255056-4b34-4ecf-8cff-288eef42a990.jsonl"
    real_open = os.open

    def guarded_open(path, *args, **kwargs):  # as if permissions were denied (the tests may run as root)
        if str(path) == str(bad):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    summary = import_transcripts(store, [projects])
    assert summary.skipped_files == {"unreadable": 1}
    assert summary.files_read == 13 and summary.requests == 21 - 2


def test_a_file_that_shrinks_while_it_is_copied_is_left_for_the_next_run(store, tmp_path, monkeypatch):
    # The batch file gets each file's planned bytes; a file cut short meanwhile (rewritten by its agent) gives
    # fewer: none of its bytes go in, it is counted as unreadable, the rest imported, and no state is kept for
    # it, so the next run reads it again from its start.
    projects = copy_tree(tmp_path / "claude")
    victim = str(projects / "-home-dev01-work" / "bf023f1c-2b12-4a0f-adcb-a641db7e98fa.jsonl")
    real = batches._append

    def append(out, f, marker):
        if f.path == victim:
            os.truncate(victim, 10)
        return real(out, f, marker)

    monkeypatch.setattr(batches, "_append", append)
    summary = import_transcripts(store, [projects])
    assert summary.skipped_files == {"unreadable": 1} and "shrank" in summary.errors[0]
    assert summary.files_read == 13 and summary.requests == 21 - 2 and summary.lines == 112 - 10
    assert victim not in state(store)


def test_progress_reports_each_file_once_up_to_the_totals(store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    seen = []
    summary = import_transcripts(store, [projects], seen.append)
    assert len(seen) == summary.files == 14 and {p.status for p in seen} == {"read"}
    last = seen[-1]
    assert (last.files_done, last.files_total) == (14, 14)
    assert last.bytes_done == last.bytes_total == summary.bytes_read
    again = []
    import_transcripts(store, [projects], again.append)
    assert [p.status for p in again] == ["unchanged"] * 14 and again[-1].bytes_total == 0


def test_each_new_byte_is_copied_once_and_each_batch_file_read_once(store, tmp_path, monkeypatch):
    # The import hands ClickHouse each batch as one file (batches.py): every byte of every transcript goes into a
    # batch file exactly once, ClickHouse reads each batch file once (step 1), and nothing of them is left.
    projects = copy_tree(tmp_path / "claude")
    copied: dict[str, list[tuple[int, int]]] = {}
    real_sendfile, real_step1, step1_paths = os.sendfile, batches.ImportRun._step1, []

    def sendfile(out, fd, offset, count):
        sent = real_sendfile(out, fd, offset, count)
        copied.setdefault(os.readlink(f"/proc/self/fd/{fd}"), []).append((offset, sent))
        return sent

    def step1(self, files, path):
        step1_paths.append(path)
        return real_step1(self, files, path)

    monkeypatch.setattr(os, "sendfile", sendfile)
    monkeypatch.setattr(batches.ImportRun, "_step1", step1)
    summary = import_transcripts(store, [projects], batch_bytes=20_000)  # several batches
    sizes = {str(p): p.stat().st_size for p in projects.rglob("*.jsonl")}
    assert {p: sum(n for _, n in ranges) for p, ranges in copied.items()} == sizes
    for ranges in copied.values():  # consecutive, never overlapping
        assert all(a + n == b for (a, n), (b, _) in zip(ranges, ranges[1:], strict=False))
    assert sum(sizes.values()) == summary.bytes_read
    assert len(step1_paths) == len(set(step1_paths)) > 1
    assert not any(os.path.exists(p) for p in step1_paths)


def test_without_sendfile_the_bytes_are_copied_through_a_buffer(store, tmp_path, monkeypatch):
    # macOS's sendfile takes only sockets: the batch file is then written from a buffer, with the same result.
    projects = copy_tree(tmp_path / "claude")

    def no_sendfile(out, fd, offset, count):
        raise OSError(errno.ENOTSOCK, "Socket operation on non-socket")

    monkeypatch.setattr(os, "sendfile", no_sendfile)
    monkeypatch.setattr(batches, "_SENDFILE", True)
    summary = import_transcripts(store, [projects])
    assert batches._SENDFILE is False
    assert summary.files_read == 14 and summary.requests == 21 and summary.lines == 112 and not summary.errors
