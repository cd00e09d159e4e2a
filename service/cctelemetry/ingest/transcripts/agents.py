"""The agents whose session files the importer reads: where each keeps them, which files are its, and the SQL
that turns its lines into request rows.

Every agent goes through the same steps (files.py, batches.py, importer.py): find the files, read their new
bytes into ClickHouse, then ``<agent>lines`` parses the lines and ``<agent>candidates`` makes one row per
request; ``plan.sql`` and ``insert.sql`` are shared. What differs is here:

- Claude Code: ``~/.claude/projects/**/*.jsonl`` (docs: https://code.claude.com/docs/en/sessions).
- Codex CLI: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`` (``CODEX_HOME`` default ``~/.codex``), and
  ``archived_sessions/`` beside it (https://github.com/openai/codex/blob/main/docs/config.md).
- Gemini CLI: ``~/.gemini/tmp/<project>/chats/session-*.jsonl`` and subagents' ``chats/<parent>/<id>.jsonl``
  (``GEMINI_CLI_HOME`` moves ``~/.gemini``; packages/core/src/services/chatRecordingService.ts).

A Codex or Gemini line needs its file's earlier lines (the turn's model, the session's id), so their files
are read whole whenever they change (``incremental=False``); the de-duplication makes that safe.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import BadRequest


def _claude_roots() -> list[Path]:
    from .files import default_roots

    return default_roots()


def _codex_roots() -> list[Path]:
    home = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser()
    return [home / "sessions", home / "archived_sessions"]


def _gemini_roots() -> list[Path]:
    base = os.environ.get("GEMINI_CLI_HOME")
    home = Path(base).expanduser() / ".gemini" if base else Path.home() / ".gemini"
    return [home / "tmp"]


def _claude_where(path: str) -> tuple[str, str]:
    from .files import project_and_session

    return project_and_session(path)


def _codex_where(path: str) -> tuple[str, str]:
    """``rollout-<time>-<thread uuid>.jsonl``: the thread id is the last 36 characters of the stem (the
    project comes from the session_meta line)."""
    stem = os.path.basename(path)[: -len(".jsonl")]
    return "", stem[-36:] if len(stem) >= 36 else stem


def _gemini_where(path: str) -> tuple[str, str]:
    """``tmp/<project>/chats/session-<time>-<id8>.jsonl`` or ``tmp/<project>/chats/<parent>/<id>.jsonl``:
    the project folder (the session id comes from the file's first line)."""
    parts = Path(path).parts
    if "chats" in parts:
        i = len(parts) - 1 - parts[::-1].index("chats")
        return (parts[i - 1] if i > 0 else ""), ""
    return "", ""


def _is_codex(path: str) -> bool:
    return os.path.basename(path).startswith("rollout-")


# String tests, not Path.parts: a re-import with nothing new checks every file, and these are most of it.
_CHATS = f"{os.sep}chats{os.sep}"
_OTHER_HOMES = (f"{os.sep}.gemini{os.sep}", f"{os.sep}.codex{os.sep}")


def _is_gemini(path: str) -> bool:
    return _CHATS in path


def _is_claude(path: str) -> bool:
    """Anything else, except other files in the Codex and Gemini folders (Gemini's tmp/ holds more)."""
    return not any(home in path for home in _OTHER_HOMES)


@dataclass(frozen=True)
class Agent:
    name: str  # as the CLI and the API spell it: claude | codex | gemini
    product: str  # the requests' agent_product
    service_name: str  # service_name of its imported rows (what its telemetry sends)
    sql_prefix: str  # its steps are sql/<prefix>lines.sql and sql/<prefix>candidates.sql
    marker: str  # SQL over `line`: true for the lines the parsing step needs (the others are only counted)
    incremental: bool  # a grown file is read from where the last import stopped
    roots: Callable[[], list[Path]]  # where it keeps its files by default
    where: Callable[[str], tuple[str, str]]  # path -> (project, session) the path implies ('' unknown)
    owns: Callable[[str], bool]  # the file is this agent's (detection when none is named)


CLAUDE = Agent(
    "claude", "claude_code", "claude-code", "", "position(line, '\"usage\"') > 0", True, _claude_roots,
    _claude_where, _is_claude,
)  # fmt: skip
# Record types that a JSON string cannot contain unescaped ("\"turn_context\"" inside text has backslashes).
CODEX = Agent(
    "codex", "codex", "codex_exec", "codex_",
    "multiSearchAny(line, ['\"token_usage_record\"', '\"token_count\"', '\"turn_context\"', '\"session_meta\"', "
    "'\"model_reroute\"'])",
    False, _codex_roots, _codex_where, _is_codex,
)  # fmt: skip
GEMINI = Agent(
    "gemini", "gemini_cli", "gemini-cli", "gemini_", "multiSearchAny(line, ['\"tokens\"', '\"sessionId\"'])",
    False, _gemini_roots, _gemini_where, _is_gemini,
)  # fmt: skip

AGENTS: dict[str, Agent] = {a.name: a for a in (CLAUDE, CODEX, GEMINI)}


def get_agent(name: str | None) -> Agent | None:
    """The agent named (CLI/API spelling, or its agent_product), None for none; a clear 400 otherwise."""
    if not name:
        return None
    for agent in AGENTS.values():
        if name in (agent.name, agent.product, agent.product.replace("_", "-")):
            return agent
    raise BadRequest(f"unknown agent {name!r}; use one of {', '.join(AGENTS)}")


def detect(path: str) -> Agent | None:
    """Whose file this is, from where it is and what it is called (None: no agent's). The specific shapes
    first, Claude Code's catch-all last."""
    if _is_codex(path):
        return CODEX
    if _is_gemini(path):
        return GEMINI
    return CLAUDE if _is_claude(path) else None


def default_roots(agent: Agent | None = None) -> list[Path]:
    """The default folders of one agent, or of every agent."""
    agents = [agent] if agent else list(AGENTS.values())
    return [root for a in agents for root in a.roots()]
