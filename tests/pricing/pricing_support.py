"""Helpers for the pricing tests: write request copies into the inbox and let the fact writer take them in
(as every source does), then price them with the SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from cctelemetry.ingest import facts
from cctelemetry.pricing import load_book, pricing_params, sync_prices
from cctelemetry.reports.query import RequestFilter
from cctelemetry.reports.source import FINAL_SETTINGS, priced_per_request

DAY = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
# The captured Claude Code bodies (shared with the OTLP replay tests; not imported from conftest, whose
# module name other test folders' conftest.py files can shadow).
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "claude-code-2.1.197"

_COLUMNS = ["timestamp", "agent_product", "session_id", "request_key", "model", "speed", "input_tokens",
            "output_tokens", "cache_read_tokens", "cache_creation_tokens", "cache_creation_5m_tokens",
            "cache_creation_1h_tokens", "cache_split_known", "web_search_requests", "reported_cost_usd",
            "source", "source_priority"]  # fmt: skip


def insert(store, key, model, *, ts=DAY, input=0, output=0, read=0, write=0, w5=None, w1=None, web=0,
           reported=None, speed="", agent_product="claude_code", session="s1", source="otel"):  # fmt: skip
    """One request. ``w5``/``w1`` given -> the split is known (as from a transcript)."""
    split = w5 is not None or w1 is not None
    w5, w1 = w5 or 0, w1 or 0
    if split and not write:
        write = w5 + w1
    row = [ts.replace(tzinfo=None), agent_product, session, key, model, speed, input, output, read, write, w5, w1,
           int(split), web, reported, source, 2 if source == "otel" else 1]  # fmt: skip
    store.insert("api_request_inbox", [row], _COLUMNS)
    facts.apply(store)


def priced(store, book=None, *, cache_write_ttl="5m", cost_mode="auto", settings=None) -> dict[str, dict]:
    """Every request priced by ``priced_usage.sql``, by request_key (money as float)."""
    sync_prices(store, book or load_book(user_file=""))
    flt = RequestFilter.build()
    head, params = priced_per_request(flt)
    params.update(flt.params(), **pricing_params(cache_write_ttl, cost_mode))
    rows = store.rows(head + "SELECT * FROM priced ORDER BY request_key" + FINAL_SETTINGS, params, settings=settings)
    return {r["request_key"]: {k: float(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows}


def write_prices(tmp_path: Path, models: list[dict] | str, name="prices.json") -> Path:
    path = tmp_path / name
    path.write_text(models if isinstance(models, str) else json.dumps({"models": models}))
    return path


def rates(input, output, read, w5, w1, source="test"):
    return {"input": input, "output": output, "cache_read": read, "cache_write_5m": w5, "cache_write_1h": w1,
            "source": source}  # fmt: skip


def post_claude_code_fixtures(client) -> int:
    """Post every captured OTLP body (JSON as sent, protobuf as the raw .pb) to the receiver."""
    n = 0
    for path in sorted((FIXTURES / "otlp").glob("*/*")):
        if path.name.endswith((".meta.json", ".pb.json")):
            continue
        content_type = "application/x-protobuf" if path.suffix == ".pb" else "application/json"
        signal = path.name.split("-")[0]
        r = client.post(f"/v1/{signal}", content=path.read_bytes(), headers={"Content-Type": content_type})
        assert r.status_code == 200, r.text
        n += 1
    return n
