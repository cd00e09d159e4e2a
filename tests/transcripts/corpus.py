"""A generated transcript tree with its ground truth, for exact-total tests.

Every request the tree holds is recorded once in ``Corpus.expected`` (request key -> what must be stored),
whatever copies of it the files contain. What the files contain, on purpose:

- responses split into one line per content block, the early lines with a streaming snapshot of usage
  (``output_tokens`` 1-9), only the last one with the real count;
- subagents (``<session>/subagents/agent-*.jsonl``, ``isSidechain``, ``attributionAgent``);
- resumed sessions whose file starts by re-logging earlier responses verbatim (same ids and timestamps);
- a sidechain replay of a main-thread response under another request id (ccusage #913);
- responses without a request id (a gateway): de-duplicated by message id and input side, also behind a
  relay that gives every response the same message id;
- an old-format line with ``costUSD``; 1-hour cache writes; web searches; a ``"fast"`` speed;
- a pretty-printed line (``"usage": {`` with spaces) and a CRLF line;
- bad input: garbage, a torn line, a JSON array, blank lines, ``"usage": null``, a ``<synthetic>`` error
  line with zero usage, a user line whose tool result mentions usage, and a truncated last line.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass
class Expected:
    session: str
    model: str
    agent: str
    input: int
    output: int
    read: int
    write: int
    w5: int
    w1: int
    web: int = 0
    cost: float | None = None
    speed: str = "normal"
    ts: str = ""


@dataclass
class Corpus:
    root: Path  # a CLAUDE_CONFIG_DIR: files go to root/projects
    seed: int = 11
    expected: dict[str, Expected] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    lines: int = 0  # complete lines written (the truncated last line excluded)
    request_lines: int = 0  # assistant lines with usage that are requests (copies included)
    pretty_keys: list[str] = field(default_factory=list)  # written as non-compact JSON
    requestless_resumes: set[str] = field(default_factory=set)  # sessions re-logging requestless responses
    files: list[Path] = field(default_factory=list)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.projects = self.root / "projects"
        self.n = 0

    # -- ids ---------------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.seed:02d}{self.n:08d}"

    def _uuid(self) -> str:
        self.n += 1
        return f"00000000-0000-4000-8000-{self.seed:04d}{self.n:08d}"

    # -- lines -------------------------------------------------------------------------------------

    def response(self, ctx: dict, *, blocks: int = 2, streaming: bool = True, request_id: bool = True,
                 one_hour: bool = False, web: int = 0, speed: str = "standard", cost_usd: float | None = None,
                 model: str | None = None, sidechain: bool = False, agent: str = "",
                 message_id: str | None = None) -> tuple[str, list[dict]]:  # fmt: skip
        """One API response as its lines (dicts); records the expected request. Returns (key, lines)."""
        rng = self.rng
        model = model or ctx["model"]
        msg_id = message_id or self._id("msg_")
        req_id = self._id("req_") if request_id else None
        write = rng.randint(100, 9000)
        w1 = write if one_hour else 0
        usage = {"input_tokens": rng.randint(1, 5000), "cache_creation_input_tokens": write,
                 "cache_read_input_tokens": rng.randint(0, 150_000), "output_tokens": rng.randint(20, 4000),
                 "server_tool_use": {"web_search_requests": web, "web_fetch_requests": 0},
                 "service_tier": "standard",
                 "cache_creation": {"ephemeral_1h_input_tokens": w1, "ephemeral_5m_input_tokens": write - w1},
                 "speed": speed}  # fmt: skip
        ctx["t"] += timedelta(seconds=rng.randint(2, 90))
        out = []
        for i in range(blocks):
            last = i == blocks - 1
            u = dict(usage) if last or not streaming else dict(usage, output_tokens=rng.randint(1, 9))
            line = {"parentUuid": ctx.get("parent"), "isSidechain": sidechain,
                    "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                "content": [{"type": "text", "text": "x" * rng.randint(10, 400)}],
                                "stop_reason": "end_turn" if last else None, "usage": u}}  # fmt: skip
            if sidechain:
                line["agentId"] = ctx["agent_id"]
                line["attributionAgent"] = agent
            if req_id:
                line["requestId"] = req_id
            if cost_usd is not None:
                line["costUSD"] = cost_usd
            when = _ts(ctx["t"] + timedelta(milliseconds=i))
            line |= {"type": "assistant", "uuid": self._uuid(), "timestamp": when, "cwd": ctx["cwd"],
                     "sessionId": ctx["session"], "version": "2.1.200", "gitBranch": "main"}  # fmt: skip
            ctx["parent"] = line["uuid"]
            out.append(line)
        key = req_id or f"msg:{msg_id}:{usage['input_tokens']}:{usage['cache_read_input_tokens']}:{write}"
        self.expected[key] = Expected(
            session=ctx["session"], model=model, agent=agent if sidechain else "main", input=usage["input_tokens"],
            output=usage["output_tokens"], read=usage["cache_read_input_tokens"], write=write, w5=write - w1, w1=w1,
            web=web, cost=cost_usd, speed="normal" if speed == "standard" else speed, ts=out[0]["timestamp"],
        )  # fmt: skip
        self.request_lines += blocks
        return key, out

    def user(self, ctx: dict, text: str = "do it", extra: dict | None = None) -> dict:
        ctx["t"] += timedelta(seconds=1)
        line = {"parentUuid": ctx.get("parent"), "isSidechain": False, "type": "user",
                "message": {"role": "user", "content": text}, "uuid": self._uuid(), "timestamp": _ts(ctx["t"]),
                "cwd": ctx["cwd"], "sessionId": ctx["session"]}  # fmt: skip
        line |= extra or {}
        ctx["parent"] = line["uuid"]
        return line

    def write(self, path: Path, items: list, tail: str = "") -> None:
        """items: dicts (written as compact JSON) or raw strings (written as they are)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join((json.dumps(i, separators=(",", ":")) if isinstance(i, dict) else i) + "\n" for i in items)
        with open(path, "w", newline="") as fh:
            fh.write(text + tail)
        self.lines += len(items)
        self.files.append(path)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    # -- the tree ----------------------------------------------------------------------------------

    def build(self, sessions: int = 24) -> Corpus:
        rng = self.rng
        logged: list[tuple[dict, list[dict], list[str]]] = []  # (ctx, lines, keys) of finished sessions
        for s in range(sessions):
            project = f"-home-dev-src-app{s % 3}"
            model = rng.choice(["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-sonnet-4-5"])
            ctx = {
                "session": self._uuid(),
                "cwd": f"/home/dev/src/app{s % 3}",
                "t": BASE + timedelta(hours=3 * s),
                "model": model,
            }
            items: list = []
            keys: list[str] = []
            if s % 6 == 5 and logged:
                # resumed: the file starts with the earlier session's last responses, verbatim
                old_ctx, old_lines, old_keys = logged[-1]
                copied = [dict(line, sessionId=ctx["session"]) for line in old_lines[-4:]]
                items.extend(copied)
                self.request_lines += len(copied)
                if any("requestId" not in line for line in copied):
                    self.requestless_resumes.add(ctx["session"])
                # they keep their ids and timestamps: the copy in the older file wins (earliest, then file)
            items.append(self.user(ctx))
            for r in range(rng.randint(3, 9)):
                key, lines = self.response(ctx, blocks=rng.randint(1, 3), streaming=s % 2 == 0,
                                           one_hour=s % 4 == 1, web=1 if r == 2 and s % 5 == 0 else 0,
                                           speed="fast" if s == 7 and r == 0 else "standard")  # fmt: skip
                items.extend(lines)
                keys.append(key)
                items.append(self.user(ctx, extra={"toolUseResult": {"stdout": "ok"}}))
            if s % 4 == 2:
                # a subagent, and a user line whose tool result mentions usage (not a request)
                sub = dict(ctx, agent_id=self._id("a"), parent=None)
                sub_items = [self.user(sub, "subtask")]
                for _ in range(rng.randint(1, 3)):
                    _, lines = self.response(sub, model="claude-haiku-4-5-20251001", sidechain=True,
                                             agent="general-purpose", blocks=2)  # fmt: skip
                    sub_items.extend(lines)
                ctx["t"] = sub["t"]
                self.write(self.projects / project / ctx["session"] / "subagents" / f"agent-{sub['agent_id']}.jsonl",
                           sub_items)  # fmt: skip
                result = {"status": "completed", "totalTokens": 900, "usage": {"input_tokens": 5, "output_tokens": 7}}
                items.append(self.user(ctx, extra={"toolUseResult": result}))
            if s == 3:
                # a sidechain replay of this session's first response under another request id
                first = next(i for i in items if isinstance(i, dict) and i.get("type") == "assistant")
                replay = json.loads(json.dumps(first))
                replay |= {"isSidechain": True, "requestId": self._id("req_"), "uuid": self._uuid(),
                           "agentId": "abtw0000000000001", "attributionAgent": "btw"}  # fmt: skip
                self.write(self.projects / project / ctx["session"] / "subagents" / "agent-abtw0000000000001.jsonl",
                           [replay])  # fmt: skip
                self.request_lines += 1
            if s == 4:
                # gateway responses without a request id: copies collapse on the message id
                for _ in range(2):
                    _, lines = self.response(ctx, request_id=False, blocks=2)
                    items.extend(lines)
            if s in (9, 10):
                # a relay that answers every response with the same message id and no request id (ccusage #1635)
                for _ in range(3 if s == 9 else 2):
                    _, lines = self.response(ctx, request_id=False, blocks=2, message_id="msg_gateway_constant")
                    items.extend(lines)
            if s == 5:
                key, lines = self.response(ctx, cost_usd=0.0421, blocks=1)  # an old-format line with costUSD
                items.extend(lines)
            if s == 6:
                # one response pretty-printed (as another tool might write it), one line with CRLF
                key, lines = self.response(ctx, blocks=1)
                items.append(json.dumps(lines[0], indent=None, separators=(", ", ": ")))
                self.pretty_keys.append(key)
                key, lines = self.response(ctx, blocks=1)
                items.append(json.dumps(lines[0], separators=(",", ":")) + "\r")
            if s == 8:
                items.append("this is not json")
                items.append('{"type":"assistant","message":{"id":"msg_torn","usage":{"input_tokens":12')  # torn
                items.append("[1, 2, 3]")
                items.append("")
                items.append("   ")
                items.append(
                    '{"type":"assistant","timestamp":"2026-10-01T12:00:00Z","message":{"id":"msg_nu","usage":null}}'
                )
                items.append(json.dumps({"type": "assistant", "uuid": self._uuid(), "timestamp": _ts(ctx["t"]),
                                         "isApiErrorMessage": True, "sessionId": ctx["session"],
                                         "message": {"id": self._uuid(), "model": "<synthetic>", "role": "assistant",
                                                     "usage": {"input_tokens": 0, "output_tokens": 0,
                                                               "cache_creation_input_tokens": 0,
                                                               "cache_read_input_tokens": 0}}}))  # fmt: skip
                self.skip("invalid_json", 2)
                self.skip("unknown_shape", 2)
                self.skip("blank", 2)
                self.skip("synthetic", 1)
            items.append({"type": "last-prompt", "lastPrompt": "do it", "sessionId": ctx["session"]})
            tail = ""
            if s == sessions - 1:
                # still being written: its last line is incomplete
                _, lines = self.response(ctx, blocks=1)
                key = lines[0]["requestId"]
                text = json.dumps(lines[0], separators=(",", ":"))
                self.pending = (key, self.expected.pop(key), text[150:] + "\n")
                self.request_lines -= 1
                tail = text[:150]
                self.skip("incomplete_last_line")
            path = self.projects / project / f"{ctx['session']}.jsonl"
            self.write(path, items, tail)
            self.last_file = path
            logged.append((ctx, [i for i in items if isinstance(i, dict) and i.get("type") == "assistant"], keys))
        return self

    def complete_last_line(self) -> None:
        """Claude Code finishes writing the last line: the pending request becomes expected."""
        key, expected, rest = self.pending
        with open(self.last_file, "a") as fh:
            fh.write(rest)
        self.expected[key] = expected

    # -- expectations ------------------------------------------------------------------------------

    def totals(self) -> dict:
        e = self.expected.values()
        return {"requests": len(self.expected), "input": sum(x.input for x in e), "output": sum(x.output for x in e),
                "read": sum(x.read for x in e), "write": sum(x.write for x in e), "w1": sum(x.w1 for x in e),
                "web": sum(x.web for x in e)}  # fmt: skip

    def by_session(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for x in self.expected.values():
            s = out.setdefault(x.session, {"requests": 0, "input": 0, "output": 0, "read": 0, "write": 0})
            s["requests"] += 1
            s["input"] += x.input
            s["output"] += x.output
            s["read"] += x.read
            s["write"] += x.write
        return out
