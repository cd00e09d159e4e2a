"""A generated Codex rollout tree with forks, a fork of a fork, a resume, an archived copy and an older-format
(token_count only) session with a fork: ``write_tree(root)`` writes it, ``EXPECTED`` says what it holds.

The line shapes are Codex 0.169.0's (tests/data/codex-0.169.0/rollouts). What a fork writes follows Codex's
source (codex-rs/core: a forked thread's rollout starts with its own session_meta, then the parent's history:
session_meta, response items, turn contexts and event messages, token_count included, but not the parent's
token_usage_record lines, "Child threads inherit model context, not the parent's cumulative usage state"),
and ccusage #1349 / #1370 (the copied prefix is stamped with the fork's time). A resume appends to the
thread's own file. (The real Codex 0.169.0's ``codex exec fork``, driven in tests/e2e, wrote the child's
session_meta with forked_from_id and no copied token counts; the tree covers the copying kind.)

    python tests/codex_rollouts.py tests/data/codex-fork-tree    # rewrites the committed copy
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

A = "019a0000-0000-7000-8000-00000000000a"  # root thread, resumed later
B = "019a0000-0000-7000-8000-00000000000b"  # forked from A after A's second response
C = "019a0000-0000-7000-8000-00000000000c"  # forked from B; its response rerouted to gpt-5
D = "019a0000-0000-7000-8000-00000000000d"  # older Codex: token_count only
E = "019a0000-0000-7000-8000-00000000000e"  # forked from D, also older Codex
MODEL = "gpt-5-codex"


def usage(i: int) -> dict:
    """Distinct usage per response: input grows as a conversation does, part of it cached."""
    inp = 10_000 + 1_000 * i
    cached = 8_000 + 500 * i
    out = 300 + 7 * i
    return {"input_tokens": inp, "cached_input_tokens": cached, "cache_write_input_tokens": 100 * (i % 3),
            "output_tokens": out, "reasoning_output_tokens": 50 + i, "total_tokens": inp + out}  # fmt: skip


def _add(total: dict, u: dict) -> dict:
    return {k: total.get(k, 0) + v for k, v in u.items()}


class Thread:
    def __init__(self, thread_id: str, start: str, forked_from: str | None = None, legacy: bool = False):
        self.id, self.legacy, self.lines, self.total = thread_id, legacy, [], {}
        self.ordinal, self.clock = 0, start
        meta = {"session_id": thread_id, "id": thread_id, "timestamp": start, "cwd": "/home/dev01/work",
                "originator": "codex_exec", "cli_version": "0.169.0", "source": "exec", "model_provider": "openai",
                "git": {"branch": "main"}}  # fmt: skip
        if forked_from:
            meta["forked_from_id"] = forked_from
        self.emit("session_meta", meta)

    def emit(self, kind: str, payload: dict, ts: str | None = None) -> dict:
        line = {"timestamp": ts or self.clock, "ordinal": self.ordinal, "type": kind, "payload": payload}
        self.ordinal += 1
        self.lines.append(line)
        return line

    def replay(self, parent: Thread, upto: int, ts: str) -> None:
        """A fork's copy of its parent's first ``upto`` lines, stamped ``ts``, without usage records."""
        for line in parent.lines[:upto]:
            if line["type"] != "token_usage_record":
                self.emit(line["type"], line["payload"], ts)
        self.total = dict(parent.total)  # a fork's token_count totals go on from the parent's

    def turn(self, n: int, ts: str, reroute_to: str | None = None) -> None:
        self.clock = ts
        turn_id = f"{self.id[:-4]}t{n:03d}"
        self.emit("event_msg", {"type": "task_started", "turn_id": turn_id})
        self.emit("turn_context", {"turn_id": turn_id, "cwd": "/home/dev01/work", "model": MODEL})
        if reroute_to:
            self.emit("event_msg", {"type": "model_reroute", "from_model": MODEL, "to_model": reroute_to,
                                    "reason": "high_risk_cyber_activity"})  # fmt: skip
        self.emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text",
                                                                                    "text": f"task {n}"}]})  # fmt: skip
        u = usage(n)
        self.total = _add(self.total, u)
        if not self.legacy:
            self.emit("token_usage_record", {"thread_id": self.id, "turn_id": turn_id, "session_id": self.id,
                                             "response_id": f"resp_{self.id[-2:]}{n:04d}", "usage": u,
                                             "turn_token_usage": u, "thread_token_usage": self.total})  # fmt: skip
        info = {"total_token_usage": self.total, "last_token_usage": u, "model_context_window": 258400}
        self.emit("event_msg", {"type": "token_count", "info": info, "rate_limits": {"limit_id": "codex"}})
        if self.legacy:  # older Codex wrote the same count again when rate limits came in
            self.emit("event_msg", {"type": "token_count", "info": info, "rate_limits": {"limit_id": "codex"}})
        self.emit("event_msg", {"type": "task_complete", "turn_id": turn_id})

    def text(self) -> str:
        return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in self.lines)


def _name(thread: Thread, stamp: str) -> str:
    return f"rollout-{stamp}-{thread.id}.jsonl"


def build() -> dict[str, str]:
    """relative path -> file text."""
    a = Thread(A, "2026-11-20T09:00:00.000Z")
    a.turn(1, "2026-11-20T09:00:01.000Z")
    a.turn(2, "2026-11-20T09:01:00.000Z")
    fork_point = len(a.lines)
    a.turn(3, "2026-11-20T09:02:00.000Z")
    a_before_resume = a.text()
    a.turn(4, "2026-11-22T15:00:00.000Z")  # resumed two days later: appended to A's own file

    b = Thread(B, "2026-11-21T10:00:00.000Z", forked_from=A)
    b.replay(a, fork_point, "2026-11-21T10:00:00.000Z")
    b.turn(11, "2026-11-21T10:00:05.000Z")
    b.turn(12, "2026-11-21T10:03:00.000Z")

    c = Thread(C, "2026-11-21T11:00:00.000Z", forked_from=B)
    c.replay(b, len(b.lines), "2026-11-21T11:00:00.000Z")
    c.turn(21, "2026-11-21T11:00:09.000Z", reroute_to="gpt-5")

    d = Thread(D, "2026-10-01T08:00:00.000Z", legacy=True)
    d.turn(31, "2026-10-01T08:00:01.000Z")
    d.turn(32, "2026-10-01T08:05:00.000Z")
    e = Thread(E, "2026-10-02T08:00:00.000Z", forked_from=D, legacy=True)
    e.replay(d, len(d.lines), "2026-10-02T08:00:00.000Z")
    e.turn(41, "2026-10-02T08:00:30.000Z")

    return {
        f"sessions/2026/11/20/{_name(a, '2026-11-20T09-00-00')}": a.text(),
        f"sessions/2026/11/21/{_name(b, '2026-11-21T10-00-00')}": b.text(),
        f"sessions/2026/11/21/{_name(c, '2026-11-21T11-00-00')}": c.text(),
        # archived before the resume: a copy of A's first three responses
        f"archived_sessions/{_name(a, '2026-11-20T09-00-00')}": a_before_resume,
        f"sessions/2026/10/01/{_name(d, '2026-10-01T08-00-00')}": d.text(),
        f"sessions/2026/10/02/{_name(e, '2026-10-02T08-00-00')}": e.text(),
    }


def _disjoint(n: int) -> dict:
    u = usage(n)
    return {"input_tokens": u["input_tokens"] - u["cached_input_tokens"] - u["cache_write_input_tokens"],
            "cache_read_tokens": u["cached_input_tokens"], "cache_creation_tokens": u["cache_write_input_tokens"],
            "output_tokens": u["output_tokens"], "reasoning_tokens": u["reasoning_output_tokens"]}  # fmt: skip


def _sum(ns) -> dict:
    out: dict = {}
    for n in ns:
        out = _add(out, _disjoint(n))
    return out


# Each response once, in the thread that made it. E's own response follows D's copied session_meta in E's
# file, and an older rollout says nothing else about where its replay ends: it is counted once, under D.
EXPECTED_BY_SESSION = {A: _sum([1, 2, 3, 4]), B: _sum([11, 12]), C: _sum([21]), D: _sum([31, 32, 41])}
EXPECTED_REQUESTS = {A: 4, B: 2, C: 1, D: 3}
EXPECTED_MODELS = {(A, MODEL): 4, (B, MODEL): 2, (C, "gpt-5"): 1, (D, MODEL): 3}
EXPECTED_TOTAL = _sum([1, 2, 3, 4, 11, 12, 21, 31, 32, 41])


def write_tree(root: Path) -> list[Path]:
    paths = []
    for rel, text in build().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


if __name__ == "__main__":
    write_tree(Path(sys.argv[1]))
