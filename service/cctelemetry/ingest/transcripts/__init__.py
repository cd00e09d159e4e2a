"""Session files -> the fact writer's inbox (ingest/facts.py), as backfill: Claude Code transcripts
(``~/.claude/projects/**/*.jsonl``),
Codex rollouts (``$CODEX_HOME/sessions/**/rollout-*.jsonl``) and Gemini chats (``~/.gemini/tmp/*/chats``);
``agents`` says what differs between them.

ClickHouse reads the JSONL itself: Python only finds the files, decides which bytes of each are new, and
copies those bytes into one batch file at a time for ClickHouse to read. The modules, in the order an import
uses them:

- ``files``: finding the transcripts, which of their bytes are new, ``transcript_files`` (what was read);
- ``batches``: one run's working tables and batch files; steps 1-2, reading and parsing the lines;
- ``importer``: the import itself, steps 3-5 (one row per request, against the store, written), and the
  watch loop;
- ``statcache``: a copy of ``transcript_files`` next to the embedded data, so that a run with nothing new
  answers without opening the engine;
- ``summary``: what an import reports.

The SQL steps are in ``sql/``: ``raw`` (each line tagged by a cheap code), ``lines`` (parsed, each given a
kind: request, other, blank, invalid_json, unknown_shape, synthetic), ``candidates`` (the copies of one
response collapse to one row per request, as ccusage does), ``plan`` and ``insert`` (only what is new, or a
fuller copy, is written as ``source='transcript'``; requests that telemetry delivered too are then merged
into one row by the fact writer, ``ingest/facts.py``). docs/import.md explains the rules.
"""

from .agents import AGENTS, Agent, get_agent
from .files import default_roots, find_transcripts, project_and_session
from .importer import import_transcripts, watch_transcripts
from .summary import FileProgress, ImportSummary

__all__ = [
    "AGENTS",
    "Agent",
    "get_agent",
    "FileProgress",
    "ImportSummary",
    "default_roots",
    "find_transcripts",
    "import_transcripts",
    "project_and_session",
    "watch_transcripts",
]
