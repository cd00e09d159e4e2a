"""What the Codex and Gemini tests share: the captured runs, the fake APIs' usage, and the book's rates.

(A module of its own, not conftest.py: other test folders' conftest modules can shadow that name.)
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).parent / "data"
CODEX = DATA / "codex-0.169.0"
GEMINI = DATA / "gemini-cli-0.61.0"
CODEX_RUN = CODEX / "otlp" / "codex01-exec-json"
GEMINI_RUN = GEMINI / "otlp" / "gemini01-p-json"
CODEX_SESSION = "01a202db-b8a4-7491-952f-6c3a5c923fa6"
GEMINI_SESSION = "c3696ff1-85ac-4500-84a0-03a02f9f2e87"

# What the fake APIs answered (the CLIs' own output says the same: cli-output/).
# Codex, OpenAI Responses usage: input 2345 of which cached 1200 (cache write 0), output 432 of which
# reasoning 100, total 2777.
CODEX_USAGE = {"input": 2345, "cached": 1200, "cache_write": 0, "output": 432, "reasoning": 100, "total": 2777}
# Gemini usageMetadata: prompt 3456 of which cached 1500, candidates 210, thoughts 100, tool 0, total 3766.
GEMINI_USAGE = {"prompt": 3456, "cached": 1500, "candidates": 210, "thoughts": 100, "tool": 0, "total": 3766}


def codex_tokens(u: dict) -> dict:
    """The disjoint measures of one Codex response."""
    return {"input_tokens": u["input"] - u["cached"] - u["cache_write"], "cache_read_tokens": u["cached"],
            "cache_creation_tokens": u["cache_write"], "output_tokens": u["output"],
            "reasoning_tokens": u["reasoning"]}  # fmt: skip


def gemini_tokens(u: dict) -> dict:
    return {"input_tokens": u["prompt"] - u["cached"] + u["tool"], "cache_read_tokens": u["cached"],
            "cache_creation_tokens": 0, "output_tokens": u["candidates"] + u["thoughts"],
            "reasoning_tokens": u["thoughts"]}  # fmt: skip


def book_rates(model_id: str) -> dict:
    """The model's current base rates in the shipped price book ($ per million tokens)."""
    book = json.loads((Path(__file__).parents[1] / "service" / "cctelemetry" / "pricing" / "prices.json").read_text())
    (model,) = [m for m in book["models"] if m["id"] == model_id]
    return model["prices"][-1]


def cost_by_hand(model_id: str, t: dict, tier: str | None = None) -> float:
    """tokens x rate / 1e6 per type, in decimals, from the book's rates."""
    rates = book_rates(model_id)
    if tier:
        rates = rates[tier]
    total = (Decimal(t["input_tokens"]) * Decimal(str(rates["input"]))
             + Decimal(t["output_tokens"]) * Decimal(str(rates["output"]))
             + Decimal(t["cache_read_tokens"]) * Decimal(str(rates["cache_read"]))
             + Decimal(t["cache_creation_tokens"]) * Decimal(str(rates["cache_write_5m"])))  # fmt: skip
    return float(total / Decimal(1_000_000))


def scale(t: dict, n: int) -> dict:
    return {k: v * n for k, v in t.items()}
