"""Helpers for the transcript import tests: the fixture tree, ccusage, a minimal price table, line writers.

(A module of its own, not conftest.py: other test folders' conftest modules can shadow that name.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE_TREE = REPO / "tests" / "data" / "claude-config-projects"  # ~/.claude/projects as Claude Code 2.1.197 left it
FIXTURES = REPO / "tests" / "data" / "claude-code-2.1.197"  # the same runs' OTLP bodies and CLI results
CCUSAGE_SNAPSHOT = Path(__file__).parent / "data" / "ccusage-20.0.24-claude-session.json"
CCUSAGE_VERSION = "20.0.24"
CCUSAGE_BIN = REPO / ".tools" / "ccusage" / "node_modules" / ".bin" / "ccusage"

# USD per million tokens: input, output, cache read, 5-minute cache write, 1-hour cache write
# (/work/shared/reference/real-client-capture.md, "How Claude Code 2.1.197 computes cost_usd"; the same
# rates ccusage's embedded LiteLLM copy has for these models).
PRICES = {
    "claude-sonnet-4-5": (3.0, 15.0, 0.30, 3.75, 6.0),
    "claude-haiku-4-5": (1.0, 5.0, 0.10, 1.25, 2.0),
}


def price_of(model: str) -> tuple[float, ...]:
    for name, rates in PRICES.items():
        if model.startswith(name):
            return rates
    raise KeyError(model)


def request_cost(row: dict) -> float:
    """One request copy, priced the way Claude Code and ccusage do: the 1h share of the cache writes
    (when the split is known) at the 1h rate, the rest at the 5m rate."""
    p_in, p_out, p_read, p_5m, p_1h = price_of(row["model"])
    writes = row["cache_creation_tokens"]
    one_hour = min(row["cache_creation_1h_tokens"], writes) if row["cache_split_known"] else 0
    return (
        row["input_tokens"] * p_in
        + row["output_tokens"] * p_out
        + row["cache_read_tokens"] * p_read
        + (writes - one_hour) * p_5m
        + one_hour * p_1h
    ) / 1e6


def copy_tree(dst: Path) -> Path:
    """A copy of the fixture ``projects/`` tree under ``dst`` (a CLAUDE_CONFIG_DIR); returns the projects dir."""
    projects = dst / "projects"
    shutil.copytree(FIXTURE_TREE, projects)
    return projects


# -- writing lines ---------------------------------------------------------------------------------


def line(msg: str, req: str, out: int, *, session="s-1", ts="2026-10-02T10:00:00.000Z", inp=100, read=1000, write=50):
    return json.dumps({
        "type": "assistant", "sessionId": session, "requestId": req, "uuid": f"u-{msg}-{out}", "timestamp": ts,
        "cwd": "/w", "message": {"id": msg, "model": "claude-sonnet-4-5", "usage": {
            "input_tokens": inp, "output_tokens": out, "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0}}},
    }, separators=(",", ":")) + "\n"  # fmt: skip


# -- ccusage ---------------------------------------------------------------------------------------


def ccusage_bin() -> Path:
    """The pinned ccusage (scripts/install-ccusage.sh), installed on first use; skips the test when npm or
    the package is not available here."""
    if CCUSAGE_BIN.exists() and _version_ok():
        return CCUSAGE_BIN
    if shutil.which("npm") is None:
        pytest.skip("npm is not available: cannot install ccusage")
    try:
        subprocess.run([str(REPO / "scripts" / "install-ccusage.sh")], check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"ccusage {CCUSAGE_VERSION} could not be installed: {exc}")
    if not (CCUSAGE_BIN.exists() and _version_ok()):
        pytest.skip(f"ccusage {CCUSAGE_VERSION} is not runnable here")
    return CCUSAGE_BIN


def _version_ok() -> bool:
    try:
        out = subprocess.run([str(CCUSAGE_BIN), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (subprocess.SubprocessError, OSError):
        return False
    return CCUSAGE_VERSION in out


def ccusage_sessions(config_dir: Path, home: Path) -> dict:
    """``ccusage claude session --offline --json`` over ``config_dir/projects``."""
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config_dir), "HOME": str(home), "NO_COLOR": "1"}
    env.pop("XDG_CONFIG_HOME", None)
    out = subprocess.run(
        [str(ccusage_bin()), "claude", "session", "--offline", "--json"],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


# -- reading back ----------------------------------------------------------------------------------


def transcript_rows(store) -> list[dict]:
    """The transcript copy of each request (live, or kept as a superseded input of a merged request)."""
    cols = (
        "session_id",
        "model",
        "agent",
        "project",
        "git_branch",
        "speed",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "cache_creation_5m_tokens",
        "cache_creation_1h_tokens",
        "cache_split_known",
        "web_search_requests",
        "reported_cost_usd",
        "message_id",
        "request_id",
        "timestamp",
    )
    picks = ", ".join(f"t.{i + 1} AS {c}" for i, c in enumerate(cols))
    return store.rows(
        f"""
        SELECT request_key, {picks}
        FROM (SELECT request_key, tuple({", ".join(cols)}) AS t
              FROM request_copies FINAL WHERE source = 'transcript')
        ORDER BY request_key
        """
    )


def per_session(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["session_id"], {"requests": 0, "inputTokens": 0, "outputTokens": 0,
                                             "cacheCreationTokens": 0, "cacheReadTokens": 0, "cost": 0.0})  # fmt: skip
        s["requests"] += 1
        s["inputTokens"] += r["input_tokens"]
        s["outputTokens"] += r["output_tokens"]
        s["cacheCreationTokens"] += r["cache_creation_tokens"]
        s["cacheReadTokens"] += r["cache_read_tokens"]
        s["cost"] += request_cost(r)
    return out


def raw_row_count(store, source: str = "transcript") -> int:
    return int(store.scalar("SELECT count() FROM request_copies WHERE source = {s:String}", {"s": source}))
