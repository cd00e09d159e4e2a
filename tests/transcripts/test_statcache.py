"""The stat cache: an import with nothing new is answered without opening the engine, and only then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from cctelemetry.ingest.transcripts import import_transcripts, importer, statcache
from transcripts_support import copy_tree, line


def _cache(store):
    return statcache.location(store.target.path, store.database)


def _same(quick, full) -> None:
    a, b = quick.to_dict(), full.to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_nothing_new_is_answered_from_the_cache_as_the_full_import_answers(store, tmp_path):
    projects = copy_tree(tmp_path / "claude")
    import_transcripts(store, [projects])
    quick = statcache.unchanged_summary(_cache(store), [projects, tmp_path / "gone"])
    assert quick is not None and quick.files == quick.files_unchanged == 14
    _same(quick, import_transcripts(store, [projects, tmp_path / "gone"]))  # not_found counted by both


@pytest.mark.parametrize("change", ["appended", "touched", "new_file", "deleted"])
def test_a_change_sends_the_import_the_full_way(store, tmp_path, change):
    projects = copy_tree(tmp_path / "claude")
    import_transcripts(store, [projects])
    victim = next(projects.rglob("*.jsonl"))
    if change == "appended":
        with open(victim, "a") as fh:
            fh.write(line("m-new", "r-new", 5))
    elif change == "touched":
        st = victim.stat()
        os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif change == "new_file":
        (victim.parent / "new-session.jsonl").write_text(line("m-new", "r-new", 5))
    else:
        victim.unlink()
    quick = statcache.unchanged_summary(_cache(store), [projects])
    full = import_transcripts(store, [projects])
    if change == "deleted":  # a file gone is not looked for: the rest is unchanged, for both
        _same(quick, full)
    else:
        assert quick is None
        assert full.files_read == 1 or full.files_reread == 1
        assert statcache.unchanged_summary(_cache(store), [projects]) is not None  # up to date again


def test_a_run_that_fails_leaves_no_cache(store, tmp_path, monkeypatch):
    projects = copy_tree(tmp_path / "claude")
    import_transcripts(store, [projects])
    with open(next(projects.rglob("*.jsonl")), "a") as fh:
        fh.write(line("m-new", "r-new", 5))

    def fail(*args):
        raise RuntimeError("simulated crash while writing")

    monkeypatch.setattr(importer, "_write_requests", fail)
    with pytest.raises(RuntimeError):
        import_transcripts(store, [projects])
    assert not _cache(store).exists()
    monkeypatch.undo()
    assert import_transcripts(store, [projects]).new_requests == 1
    assert statcache.unchanged_summary(_cache(store), [projects]) is not None


def test_an_unusable_cache_is_ignored(tmp_path):
    cache = tmp_path / "cache.json"
    for body in ("not json", json.dumps({"version": 99, "files": {}}), json.dumps([1, 2])):
        cache.write_text(body)
        assert statcache.unchanged_summary(cache, [tmp_path]) is None


def test_cli_import_with_nothing_new_does_not_open_the_engine(tmp_path):
    projects = copy_tree(tmp_path / "claude")
    script = textwrap.dedent(f"""
        import json, sys
        from cctelemetry.cli.main import app
        try:
            app(["import", {str(projects)!r}, "--json"])
        except SystemExit as exc:
            assert not exc.code, exc.code
        print(json.dumps({{"chdb_loaded": "chdb" in sys.modules}}))
    """)
    env = {**os.environ, "CCTELEMETRY_DATA_DIR": str(tmp_path / "data"), "CCTELEMETRY_API_PORT": "9",
           "CCTELEMETRY_CLICKHOUSE_URL": ""}  # fmt: skip
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        summary, probe = (json.loads(x) for x in out.stdout.strip().splitlines()[-2:])
        runs.append((summary, probe["chdb_loaded"]))
    (first, first_opened), (again, again_opened) = runs
    assert first_opened and first["new_requests"] == 21
    assert not again_opened and again["files_unchanged"] == again["files"] == 14 and again["new_requests"] == 0
