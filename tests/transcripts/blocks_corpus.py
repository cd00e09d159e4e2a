"""Two people's Claude Code usage, written both ways: as each person's transcript folder (a CLAUDE_CONFIG_DIR,
what ccusage reads) and as the api_request events their Claude Code would send (with ``user.email``, what tells
people apart in the store). Built to exercise the 5-hour block rules:

- a dense run of requests over ~13 hours (consecutive blocks, each starting at the first request after the
  previous one's 5 hours, floored to the hour);
- a request exactly on the hour that ends a block (it stays in that block; the next one in the same hour
  starts a new block at that same hour);
- a request exactly 5 hours after the previous one (a new block, no gap) and pauses over 5 hours (gap blocks);
- responses written as several lines with streaming usage (one request), subagent files, 1-hour cache writes;
- two people active at the same hours (their blocks must not mix), one of them active now (an active block
  with burn rate and projection);
- the known differences, each on its own: a ``<synthetic>`` error line (ccusage counts it as an entry of no
  tokens, the importer skips it) and a long-context request on claude-sonnet-4 (above 200,000 input-side
  tokens: the price book prices the whole request at the long-context rates, as Anthropic bills; ccusage prices
  only the tokens above 200,000 of each type at them).
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from claude_events import Request  # noqa: E402

ALICE, BOB = "alice@example.com", "bob@example.com"
SONNET, HAIKU, SONNET_4 = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-sonnet-4-20250514"
# LiteLLM's claude-sonnet-4 rates above 200k tokens (ccusage 20.0.24's embedded copy), USD per million tokens:
# input, output, cache read, cache write; below 200k the base rates 3 / 15 / 0.30 / 3.75.
SONNET_4_TIERED = ((3.0, 6.0), (15.0, 22.5), (0.30, 0.60), (3.75, 7.50))


@dataclass
class Req:
    user: str
    at: datetime
    session: str
    project: str
    model: str
    input: int
    output: int
    read: int
    write: int
    write_1h: int = 0
    lines: int = 1
    subagent: str = ""
    request_id: str = ""
    message_id: str = ""


@dataclass
class BlocksCorpus:
    root: Path
    now: datetime
    seed: int = 12
    requests: list[Req] = field(default_factory=list)
    synthetic: list[tuple[str, datetime]] = field(default_factory=list)  # (user, time) of <synthetic> lines
    long_context: list[Req] = field(default_factory=list)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.n = 0

    def folder(self, user: str) -> Path:
        """The person's CLAUDE_CONFIG_DIR."""
        return self.root / user.split("@")[0]

    def add(self, user: str, at: datetime, session: str, project: str = "/home/dev/app", *, model: str = SONNET,
            lines: int = 1, subagent: str = "", write_1h: bool = False, big: bool = False) -> Req:  # fmt: skip
        self.n += 1
        rng = self.rng
        write = rng.randint(100, 9000)
        r = Req(user, at, session, project, model, rng.randint(1, 4000), rng.randint(20, 3000),
                rng.randint(0, 120_000), write, write if write_1h else 0, lines, subagent,
                f"req_blk{self.seed:02d}{self.n:06d}", f"msg_blk{self.seed:02d}{self.n:06d}")  # fmt: skip
        if big:  # input side well above 200,000 tokens
            r.input, r.read, r.write, r.write_1h = 150_000, 120_000, 40_000, 0
            self.long_context.append(r)
        self.requests.append(r)
        return r

    def build(self) -> BlocksCorpus:
        day = (self.now - timedelta(days=9)).replace(hour=0, minute=0, second=0, microsecond=0)
        rng = self.rng
        # Alice: a dense run from 08:17 for ~13 hours, two sessions, streamed multi-line responses.
        t = day + timedelta(hours=8, minutes=17, seconds=3, milliseconds=250)
        while t < day + timedelta(hours=21):
            session = "a-run-1" if t < day + timedelta(hours=14) else "a-run-2"
            self.add(ALICE, t, session, lines=rng.randint(1, 3), model=rng.choice([SONNET, SONNET, HAIKU]),
                     write_1h=rng.random() < 0.2)  # fmt: skip
            t += timedelta(minutes=rng.randint(4, 38), seconds=rng.randint(0, 59), milliseconds=rng.randint(0, 999))
        # exactly on the hour that ends the block started at 08:00 (13:00): it stays in that block...
        self.add(ALICE, day + timedelta(hours=13), "a-run-1")
        # ... while a request later in that hour starts the next block, at 13:00 (the run has some)
        # a 7-hour pause, then two requests 3 hours apart, then one exactly 5 hours after the second: a new
        # block without a gap (more than 5 hours after that block's start, but not after the last request)
        nxt = day + timedelta(days=1, hours=5, minutes=41, seconds=9)
        self.add(ALICE, nxt, "a-next", project="/home/dev/lib")
        self.add(ALICE, nxt + timedelta(hours=3), "a-next", project="/home/dev/lib", model=HAIKU)
        self.add(ALICE, nxt + timedelta(hours=8), "a-next", project="/home/dev/lib")
        # a subagent (its own file, a sidechain) and a <synthetic> error line, on day 3
        sub = day + timedelta(days=3, hours=11, minutes=2)
        self.add(ALICE, sub, "a-sub", model=SONNET)
        self.add(ALICE, sub + timedelta(minutes=3), "a-sub", model=HAIKU, subagent="agent-a1b2c3", lines=2)
        self.add(ALICE, sub + timedelta(minutes=9), "a-sub", model=HAIKU, subagent="agent-a1b2c3")
        self.synthetic.append((ALICE, sub + timedelta(minutes=6)))  # between requests: the block keeps its ends
        # now: three requests in the last 80 minutes, the active block
        for minutes in (80, 47, 12):
            self.add(ALICE, self.now - timedelta(minutes=minutes, seconds=rng.randint(0, 30)), "a-now", lines=2)

        # Bob: at the same hours as Alice on day 0 (their blocks must not mix), haiku mostly
        t = day + timedelta(hours=10, minutes=5, seconds=41)
        for _ in range(18):
            self.add(BOB, t, "b-1", project="/srv/bob/api", model=rng.choice([HAIKU, HAIKU, SONNET]))
            t += timedelta(minutes=rng.randint(10, 50))
        # a long-context request on claude-sonnet-4, in a block of its own, on day 2
        self.add(BOB, day + timedelta(days=2, hours=16, minutes=30), "b-big", project="/srv/bob/api", model=SONNET_4,
                 big=True)  # fmt: skip
        # a request exactly 5 hours after that one: since the last request is not more than 5 hours, no gap
        self.add(BOB, day + timedelta(days=2, hours=21, minutes=30), "b-big", project="/srv/bob/api")
        # and a day later, done more than 5 hours ago: no active block for Bob
        for h in (0, 1, 2):
            self.add(BOB, self.now - timedelta(hours=9 - h, minutes=7), "b-late", project="/srv/bob/api", model=HAIKU)
        return self

    # -- the transcripts ---------------------------------------------------------------------------------

    def write_transcripts(self) -> None:
        files: dict[Path, list[dict]] = {}
        for r in self.requests:
            slug = r.project.replace("/", "-")
            base = self.folder(r.user) / "projects" / slug
            path = base / r.session / "subagents" / f"{r.subagent}.jsonl" if r.subagent else base / f"{r.session}.jsonl"
            files.setdefault(path, []).extend(self._lines(r))
        for user, at in self.synthetic:
            path = self.folder(user) / "projects" / "-home-dev-app" / "a-sub.jsonl"
            files.setdefault(path, []).append(self._synthetic(at))
        for path, lines in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            lines.sort(key=lambda line: line["timestamp"])
            path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))

    def _lines(self, r: Req) -> list[dict]:
        usage = {"input_tokens": r.input, "cache_creation_input_tokens": r.write, "cache_read_input_tokens": r.read,
                 "output_tokens": r.output, "service_tier": "standard", "speed": "standard",
                 "cache_creation": {"ephemeral_5m_input_tokens": r.write - r.write_1h,
                                    "ephemeral_1h_input_tokens": r.write_1h}}  # fmt: skip
        out = []
        for i in range(r.lines):
            last = i == r.lines - 1
            line = {"parentUuid": None, "isSidechain": bool(r.subagent), "type": "assistant",
                    "uuid": f"{r.message_id}-{i}", "timestamp": ts(r.at),  # every line of a response at its time
                    "sessionId": r.session, "requestId": r.request_id, "cwd": r.project, "version": "2.1.197",
                    "gitBranch": "main", "userType": "external",
                    "message": {"id": r.message_id, "type": "message", "role": "assistant", "model": r.model,
                                "content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn" if last else None,
                                "usage": usage if last else {**usage, "output_tokens": 1 + i}}}  # fmt: skip
            if r.subagent:
                line["agentId"] = r.subagent.removeprefix("agent-")
            out.append(line)
        return out

    def _synthetic(self, at: datetime) -> dict:
        return {"type": "assistant", "uuid": "synthetic-1", "timestamp": ts(at), "sessionId": "a-sub",
                "cwd": "/home/dev/app", "isApiErrorMessage": True, "version": "2.1.197",
                "message": {"id": "msg_synthetic_1", "model": "<synthetic>", "role": "assistant", "type": "message",
                            "content": [{"type": "text", "text": "API Error"}],
                            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                      "cache_read_input_tokens": 0}}}  # fmt: skip

    # -- the telemetry -----------------------------------------------------------------------------------

    def events(self) -> list[Request]:
        """The api_request events (no cost: telemetry's cost would be used in mode auto; these compare computed)."""
        return [Request(r.at, r.session, r.request_id, r.model, r.input, r.output, r.read, r.write,
                        user_email=r.user, user_id=f"id-{r.user}") for r in self.requests]  # fmt: skip


def ts(t: datetime) -> str:
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def ccusage_tiered_cost(r: Req) -> float:
    """What ccusage charges for a claude-sonnet-4 request: per token type, the tokens above 200,000 at the
    higher rate (rust/crates/ccusage/src/pricing.rs ``tiered_cost``)."""
    total = 0.0
    for tokens, (base, above) in zip((r.input, r.output, r.read, r.write), SONNET_4_TIERED, strict=True):
        total += min(tokens, 200_000) * base + max(tokens - 200_000, 0) * above
    return total / 1e6


def book_long_context_cost(r: Req) -> float:
    """The price book's claude-sonnet-4 long-context rates on the whole request (input + cache read + cache
    write above 200,000 tokens): 6 / 22.5 / 0.60 / 7.50 per million (5-minute writes)."""
    return (r.input * 6.0 + r.output * 22.5 + r.read * 0.60 + r.write * 7.50) / 1e6
