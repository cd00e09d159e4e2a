"""Write a realistic, deterministic Claude Code transcript corpus (default 1 GiB) for the import benchmark.

    python bench/gen_corpus.py OUT_DIR [--size-mb 1024] [--seed 7] [--profile heavy|dense]
                                       [--sessions N --days D]

Two profiles: ``heavy`` (default: tool results are most of the bytes, about 120k requests per GiB) and
``dense`` (short tool results and texts, one content block per response line mostly: about 700k requests per
GiB, what a long-running heavy user accumulates). ``--sessions N --days D`` spreads N sessions evenly over D
days (default: sessions follow each other until the size is reached). The dense corpus of the import
benchmark: ``--profile dense --size-mb 1300 --sessions 3000 --days 100``.

Layout, as Claude Code leaves ``~/.claude/projects``: ``OUT_DIR/projects/<project>/<session>.jsonl`` plus
``<session>/subagents/agent-<id>.jsonl`` (+ ``.meta.json``). Point ``CLAUDE_CONFIG_DIR`` at ``OUT_DIR``.

What the lines look like, and why (see /work/shared/reference/agent-telemetry.md §5.2 and
real-client-capture.md §6):
- compact JSON, the field order and shapes of Claude Code 2.1.x (``parentUuid``, ``isSidechain``,
  ``message.usage`` with ``cache_creation.ephemeral_{5m,1h}_input_tokens``, ``requestId``, ``cwd``, ...);
- one API response is written as one line per content block (thinking, text, tool_use), with the same
  ``message.id`` and ``requestId``; in half of the sessions the early lines carry a streaming snapshot of
  ``usage`` (``output_tokens`` 1-9) and only the last line the real count;
- tool results (user lines) are the bulk of the bytes: log-normal sizes, median about 1.5 KB, a few of
  100 KB and more, with the ``toolUseResult`` copy Claude Code adds;
- other line types: queue-operation, attachment, system (turn_duration), file-history-snapshot, ai-title,
  last-prompt, and an occasional ``<synthetic>`` API-error line with zero usage;
- subagents (Agent tool) in ``<session>/subagents/``, on haiku or sonnet, ``isSidechain: true``;
- resumed sessions whose file starts by re-logging the tail of an earlier session (same message and
  request ids), which a correct importer counts once.

The same seed always writes the same bytes (file mtimes aside).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_TIME = datetime(2026, 9, 1, tzinfo=UTC)
MAIN_MODELS = [("claude-sonnet-4-5-20250929", 55), ("claude-sonnet-4-5", 15), ("claude-opus-4-5-20251101", 20),
               ("claude-haiku-4-5-20251001", 10)]  # fmt: skip
SUB_MODELS = [("claude-haiku-4-5-20251001", 60), ("claude-sonnet-4-5-20250929", 40)]
BRANCHES = ["main", "main", "main", "develop", "feature/importer", "fix/flaky-test", "HEAD"]
TOOLS = ["Bash", "Read", "Edit", "Write", "Grep", "Glob", "TodoWrite", "WebFetch"]
AGENT_TYPES = ["general-purpose", "Explore", "Plan", "code-reviewer"]
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "that",
    "on",
    "with",
    "as",
    "it",
    "by",
    "this",
    "be",
    "are",
    "from",
    "or",
    "at",
    "an",
    "which",
    "file",
    "function",
    "test",
    "value",
    "return",
    "error",
    "import",
    "module",
    "class",
    "def",
    "self",
    "data",
    "table",
    "query",
    "request",
    "session",
    "token",
    "cost",
    "model",
    "cache",
    "line",
    "read",
    "write",
    "merge",
    "insert",
    "select",
    "where",
    "group",
    "order",
    "limit",
    "json",
    "path",
    "config",
    "build",
    "run",
    "check",
    "fix",
    "update",
    "add",
    "remove",
    "change",
    "result",
    "output",
    "input",
    "string",
    "number",
    "list",
    "dict",
    "map",
    "key",
    "index",
    "column",
    "row",
    "batch",
    "stream",
    "parse",
]


def _compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# Size medians (bytes) and odds per profile: heavy = big tool results; dense = many short requests.
PROFILES = {
    "heavy": {
        "prompt": 300,
        "tool_result": 1_500,
        "tool_sigma": 1.4,
        "tool_cap": 250_000,
        "thinking_p": 0.35,
        "thinking": 600,
        "text_p": 0.75,
        "text": 400,
        "session": 350_000,
    },
    "dense": {
        "prompt": 80,
        "tool_result": 60,
        "tool_sigma": 0.8,
        "tool_cap": 4_000,
        "thinking_p": 0.05,
        "thinking": 100,
        "text_p": 0.2,
        "text": 60,
        "session": 450_000,
    },
}


class Corpus:
    def __init__(
        self,
        out: Path,
        size_bytes: int,
        seed: int,
        projects: int,
        profile: str = "heavy",
        sessions: int = 0,
        days: float = 0,
    ):
        self.out = out / "projects"
        self.size_bytes = size_bytes
        self.profile = PROFILES[profile]
        self.session_count, self.days = sessions, days
        self.rng = random.Random(seed)
        self.written = 0
        self.files = 0
        self.responses = 0
        self.sessions: list[dict] = []  # for resumes: a few finished sessions' last lines
        rng = self.rng
        pool_words = [rng.choice(WORDS) for _ in range(400_000)]
        self.text_pool = " ".join(pool_words)
        code_lines = []
        for i in range(40_000):
            ind = "    " * rng.randint(0, 3)
            code_lines.append(f"{ind}{rng.choice(WORDS)}_{i % 97} = {rng.choice(WORDS)}({rng.choice(WORDS)}, {i})")
        self.code_pool = "\n".join(code_lines)
        self.projects = []
        for p in range(projects):
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{p}"
            cwd = f"/home/dev/src/{name}"
            self.projects.append((cwd, "".join(c if c.isalnum() else "-" for c in cwd)))

    # -- helpers -----------------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def text(self, n: int) -> str:
        pool = self.text_pool
        start = self.rng.randrange(0, len(pool) - n - 1) if n < len(pool) - 1 else 0
        return pool[start : start + n]

    def code(self, n: int) -> str:
        pool = self.code_pool
        start = self.rng.randrange(0, len(pool) - n - 1) if n < len(pool) - 1 else 0
        return pool[start : start + n]

    def pick(self, weighted):
        total = sum(w for _, w in weighted)
        r = self.rng.uniform(0, total)
        for value, w in weighted:
            r -= w
            if r <= 0:
                return value
        return weighted[-1][0]

    def lognormal_size(self, median: float, sigma: float, cap: int) -> int:
        return int(min(cap, max(16, self.rng.lognormvariate(0, sigma) * median)))

    # -- sessions ----------------------------------------------------------------------------------

    def run(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        if self.session_count:
            # N sessions spread over the days, each of a share of what is left to write (log-normal around it;
            # subagents' files come on top of a session's target, so the share adjusts as it goes)
            step = timedelta(days=self.days or 100) / self.session_count
            for i in range(self.session_count):
                share = max(self.size_bytes - self.written, 0) / (self.session_count - i)
                self.session(BASE_TIME + step * i, median=max(share * 0.55, 20_000))
                if self.files % 200 == 0:
                    print(f"  {self.written / 2**20:,.0f} MiB, {self.files} files", file=sys.stderr)
            return
        clock = BASE_TIME
        while self.written < self.size_bytes:
            clock += timedelta(minutes=self.rng.randint(5, 240))
            self.session(clock)
            if self.files % 200 == 0:
                print(f"  {self.written / 2**20:,.0f} MiB, {self.files} files", file=sys.stderr)

    def session(self, start: datetime, median: float | None = None) -> None:
        rng = self.rng
        cwd, folder = rng.choice(self.projects)
        session_id = self.uid()
        ctx = {
            "session": session_id, "cwd": cwd, "branch": rng.choice(BRANCHES),
            "model": self.pick(MAIN_MODELS), "clock": start, "parent": None,
            "streaming": rng.random() < 0.5, "cache_1h": rng.random() < 0.3, "context": rng.randint(8_000, 20_000),
            "version": f"2.1.{rng.randint(90, 240)}",
        }  # fmt: skip
        if median is None:
            target = self.lognormal_size(self.profile["session"], 1.0, 6_000_000)
        else:  # a share of the size: spread less, so that the total lands near it
            target = self.lognormal_size(median * 0.82, 0.6, int(median * 12))
        path = self.out / folder / f"{session_id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        size = 0
        if self.sessions and rng.random() < 0.06:
            # A resumed session: Claude Code re-logs the earlier conversation's tail into the new file.
            old_id, old = rng.choice(self.sessions)
            for line in old[-rng.randint(4, min(40, len(old))) :]:
                line = line.replace(f'"sessionId":"{old_id}"', f'"sessionId":"{session_id}"')
                lines.append(line)
                size += len(line) + 1
        lines.append(_compact({"type": "queue-operation", "operation": "enqueue", "timestamp": self.ts(ctx),
                               "sessionId": session_id, "content": self.text(rng.randint(20, 200))}))  # fmt: skip
        turns = 0
        while size < target or turns == 0:
            turn = self.turn(ctx, folder)
            turns += 1
            for line in turn:
                lines.append(line)
                size += len(line) + 1
        lines.append(_compact({"type": "ai-title", "aiTitle": self.text(rng.randint(20, 60)), "sessionId": session_id}))
        lines.append(_compact({"type": "last-prompt", "lastPrompt": self.text(80), "leafUuid": ctx["parent"],
                               "sessionId": session_id}))  # fmt: skip
        self.write(path, lines)
        assistant = [ln for ln in lines if '"type":"assistant"' in ln]
        if assistant:
            self.sessions.append((session_id, assistant[-60:]))
            if len(self.sessions) > 50:
                self.sessions.pop(0)

    def ts(self, ctx, min_ms: int = 20, max_ms: int = 4000) -> str:
        ctx["clock"] += timedelta(milliseconds=self.rng.randint(min_ms, max_ms))
        return ctx["clock"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{ctx['clock'].microsecond // 1000:03d}Z"

    def common(self, ctx, sidechain: bool = False, agent_id: str | None = None) -> dict:
        base = {"parentUuid": ctx["parent"], "isSidechain": sidechain}
        if agent_id:
            base["agentId"] = agent_id
        return base

    def tail(self, ctx) -> dict:
        return {"userType": "external", "entrypoint": "cli", "cwd": ctx["cwd"], "sessionId": ctx["session"],
                "version": ctx["version"], "gitBranch": ctx["branch"]}  # fmt: skip

    def turn(self, ctx, folder: str, sidechain: bool = False, agent_id: str | None = None) -> list[str]:
        rng = self.rng
        out = []
        prompt_id = self.uid()
        uid = self.uid()
        user = self.common(ctx, sidechain, agent_id) | {
            "promptId": prompt_id, "type": "user",
            "message": {"role": "user", "content": self.text(self.lognormal_size(self.profile["prompt"], 1.0, 8_000))},
            "uuid": uid, "timestamp": self.ts(ctx, 1000, 120_000), "permissionMode": "default",
        } | self.tail(ctx)  # fmt: skip
        out.append(_compact(user))
        ctx["parent"] = uid
        if not sidechain and rng.random() < 0.3:
            attachment = {"type": "skill_listing", "content": self.text(rng.randint(500, 3000))}
            out.append(_compact(self.common(ctx) | {"attachment": attachment, "type": "attachment", "uuid": self.uid(),
                                                    "timestamp": self.ts(ctx, 1, 5)} | self.tail(ctx)))  # fmt: skip
        steps = rng.randint(1, 8)
        for step in range(steps):
            last = step == steps - 1
            out.extend(self.response(ctx, last, sidechain, agent_id))
            if not last:
                if not sidechain and rng.random() < 0.12:
                    out.extend(self.subagent(ctx, folder))
                out.append(self.tool_result(ctx, sidechain, agent_id))
        if not sidechain:
            if rng.random() < 0.5:
                system = {
                    "type": "system",
                    "subtype": "turn_duration",
                    "durationMs": rng.randint(2_000, 300_000),
                    "uuid": self.uid(),
                    "timestamp": self.ts(ctx, 1, 5),
                    "isMeta": False,
                }
                out.append(_compact(self.common(ctx) | system | self.tail(ctx)))
            if rng.random() < 0.3:
                out.append(_compact({"type": "file-history-snapshot", "messageId": self.uid(), "snapshot": {
                    "messageId": self.uid(), "trackedFileBackups": {
                        f"src/{rng.choice(WORDS)}.py": {"backupFileName": f"{self.hexid(16)}@v{rng.randint(1, 9)}",
                                                        "version": rng.randint(1, 9), "backupTime": self.ts(ctx, 1, 2)}
                        for _ in range(rng.randint(0, 6))},
                    "timestamp": self.ts(ctx, 1, 2)}, "isSnapshotUpdate": rng.random() < 0.5}))  # fmt: skip
            if rng.random() < 0.01:
                out.append(self.synthetic_error(ctx))
        return out

    def usage(self, ctx, model: str) -> dict:
        rng = self.rng
        write = rng.randint(200, 6_000) if rng.random() < 0.8 else rng.randint(10_000, 40_000)
        read = ctx["context"]
        ctx["context"] = min(180_000, ctx["context"] + write // 2 + rng.randint(0, 3_000))
        if rng.random() < 0.03:  # compaction / cache miss
            ctx["context"] = rng.randint(8_000, 20_000)
            read, write = 0, read
        one_hour = write if ctx["cache_1h"] else 0
        usage = {
            "input_tokens": rng.choice([1, 2, 3, 4, 6, 8, 10]) if rng.random() < 0.9 else rng.randint(100, 20_000),
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
            "output_tokens": self.lognormal_size(300, 1.1, 32_000),
            "server_tool_use": {"web_search_requests": 1 if rng.random() < 0.01 else 0, "web_fetch_requests": 0},
            "service_tier": "standard",
            "cache_creation": {"ephemeral_1h_input_tokens": one_hour, "ephemeral_5m_input_tokens": write - one_hour},
            "inference_geo": "", "iterations": [], "speed": "standard",
        }  # fmt: skip
        return usage

    def response(self, ctx, last: bool, sidechain: bool, agent_id: str | None) -> list[str]:
        rng = self.rng
        model = ctx["model"] if not sidechain else ctx["sub_model"]
        usage = self.usage(ctx, model)
        msg_id = "msg_01" + self.hexid(22)
        req_id = "req_011C" + self.hexid(20)
        blocks = []
        prof = self.profile
        if rng.random() < prof["thinking_p"]:
            thinking = self.text(self.lognormal_size(prof["thinking"], 1.0, 12_000))
            blocks.append({"type": "thinking", "thinking": thinking, "signature": self.hexid(rng.randint(200, 600))})
        if rng.random() < prof["text_p"] or last:
            blocks.append({"type": "text", "text": self.text(self.lognormal_size(prof["text"], 1.0, 10_000))})
        if not last:
            tool = rng.choice(TOOLS)
            blocks.append({"type": "tool_use", "id": "toolu_01" + self.hexid(22), "name": tool,
                           "input": {"command": self.text(rng.randint(10, 200)),
                                     "description": self.text(rng.randint(10, 60))}})  # fmt: skip
        stop = "tool_use" if not last else "end_turn"
        out = []
        for i, block in enumerate(blocks):
            final = i == len(blocks) - 1
            u = usage
            if ctx["streaming"] and not final:
                u = dict(usage, output_tokens=rng.randint(1, 9))
            uid = self.uid()
            line = self.common(ctx, sidechain, agent_id) | {
                "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                            "content": [block], "stop_reason": stop if final else None, "stop_sequence": None,
                            "usage": u, "stop_details": None},
                "requestId": req_id,
            }  # fmt: skip
            if sidechain:
                line["attributionAgent"] = ctx["agent_type"]
            line |= {"type": "assistant", "uuid": uid, "timestamp": self.ts(ctx, 50, 30_000 if i == 0 else 200)}
            line |= self.tail(ctx)
            out.append(_compact(line))
            ctx["parent"] = uid
        self.responses += 1
        return out

    def tool_result(self, ctx, sidechain: bool, agent_id: str | None) -> str:
        rng = self.rng
        prof = self.profile
        n = self.lognormal_size(prof["tool_result"], prof["tool_sigma"], prof["tool_cap"])
        body = self.code(n) if rng.random() < 0.6 else self.text(n)
        uid = self.uid()
        line = self.common(ctx, sidechain, agent_id) | {
            "type": "user",
            "message": {"role": "user", "content": [{"tool_use_id": "toolu_01" + self.hexid(22), "type": "tool_result",
                                                     "content": body, "is_error": rng.random() < 0.05}]},
            "uuid": uid, "timestamp": self.ts(ctx, 100, 20_000),
            "toolUseResult": {"stdout": body[: n // 2], "stderr": "", "interrupted": False, "isImage": False},
            "sourceToolAssistantUUID": ctx["parent"],
        } | self.tail(ctx)  # fmt: skip
        ctx["parent"] = uid
        return _compact(line)

    def synthetic_error(self, ctx) -> str:
        zero = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}, "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}}  # fmt: skip
        uid = self.uid()
        line = self.common(ctx) | {
            "message": {"id": self.uid(), "model": "<synthetic>", "role": "assistant", "stop_reason": "stop_sequence",
                        "type": "message", "usage": zero,
                        "content": [{"type": "text", "text": "API Error: 529 Overloaded"}]},
            "type": "assistant", "uuid": uid, "timestamp": self.ts(ctx), "isApiErrorMessage": True,
            "error": "overloaded", "apiErrorStatus": 529,
        } | self.tail(ctx)  # fmt: skip
        ctx["parent"] = uid
        return _compact(line)

    def subagent(self, ctx, folder: str) -> list[str]:
        rng = self.rng
        agent_id = "a" + self.hexid(16)
        agent_type = rng.choice(AGENT_TYPES)
        sub = dict(ctx, parent=None, sub_model=self.pick(SUB_MODELS), agent_type=agent_type,
                   context=rng.randint(5_000, 15_000), streaming=ctx["streaming"])  # fmt: skip
        lines = []
        for _ in range(rng.randint(1, 3)):
            lines.extend(self.turn(sub, folder, sidechain=True, agent_id=agent_id))
        ctx["clock"] = sub["clock"]
        folder_path = self.out / folder / ctx["session"] / "subagents"
        folder_path.mkdir(parents=True, exist_ok=True)
        self.write(folder_path / f"agent-{agent_id}.jsonl", lines)
        meta = {"agentType": agent_type, "description": self.text(30), "toolUseId": "toolu_01" + self.hexid(22),
                "spawnDepth": 1}  # fmt: skip
        (folder_path / f"agent-{agent_id}.meta.json").write_text(_compact(meta))
        return []

    def write(self, path: Path, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode()
        with open(path, "wb") as fh:
            fh.write(data)
        self.written += len(data)
        self.files += 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to write (gets a projects/ tree); must be empty or absent")
    ap.add_argument("--size-mb", type=float, default=1024, help="approximate corpus size in MiB (default 1024)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--projects", type=int, default=40)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="heavy")
    ap.add_argument("--sessions", type=int, default=0, help="this many sessions, spread over --days")
    ap.add_argument("--days", type=float, default=100)
    args = ap.parse_args(argv)
    if (args.out / "projects").exists() and any((args.out / "projects").iterdir()):
        ap.error(f"{args.out}/projects is not empty")
    t0 = time.perf_counter()
    corpus = Corpus(
        args.out, int(args.size_mb * 2**20), args.seed, args.projects, args.profile, args.sessions, args.days
    )
    corpus.run()
    took = time.perf_counter() - t0
    summary = {"dir": str(args.out), "bytes": corpus.written, "files": corpus.files, "responses": corpus.responses,
               "seed": args.seed, "profile": args.profile, "sessions": args.sessions,
               "seconds": round(took, 1)}  # fmt: skip
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
