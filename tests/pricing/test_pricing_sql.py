"""Cost computed in ClickHouse by pricing/sql/priced_requests.sql, against hand arithmetic.

Rates are USD per million tokens; a cost is tokens x rate / 1e6. Every expected number below is
worked out in its comment from the shipped rates (pricing/prices.json, each price with its source).
"""

from datetime import UTC, datetime

import pytest

from cctelemetry.pricing import load_book
from pricing_support import insert, priced, rates, write_prices

# One request per model: input 100_000, output 10_000, cache read 20_000, 5m writes 30_000,
# 1h writes 40_000 (split known). Input side 190_000 stays under every 200K long-context threshold.
# Parts: input, output, cache read, 5m write, 1h write.
FAMILIES = [
    ("claude-3-haiku-20240307", (0.025, 0.0125, 0.0006, 0.009, 0.02)),  # 0.25 1.25 0.03 0.30 0.50 -> 0.0671
    ("claude-3-opus-20240229", (1.5, 0.75, 0.03, 0.5625, 1.2)),  # 15 75 1.5 18.75 30 -> 4.0425
    ("claude-3-5-haiku-20241022", (0.08, 0.04, 0.0016, 0.03, 0.064)),  # 0.8 4 0.08 1 1.6 -> 0.2156
    ("claude-3-5-sonnet-20241022", (0.3, 0.15, 0.006, 0.1125, 0.24)),  # 3 15 0.3 3.75 6 -> 0.8085
    ("claude-3-7-sonnet-20250219", (0.3, 0.15, 0.006, 0.1125, 0.24)),  # 3 15 0.3 3.75 6 -> 0.8085
    ("claude-sonnet-4-20250514", (0.3, 0.15, 0.006, 0.1125, 0.24)),  # 3 15 0.3 3.75 6 -> 0.8085
    ("claude-opus-4-20250514", (1.5, 0.75, 0.03, 0.5625, 1.2)),  # 15 75 1.5 18.75 30 -> 4.0425
    ("claude-opus-4-1-20250805", (1.5, 0.75, 0.03, 0.5625, 1.2)),  # 15 75 1.5 18.75 30 -> 4.0425
    ("claude-sonnet-4-5-20250929", (0.3, 0.15, 0.006, 0.1125, 0.24)),  # 3 15 0.3 3.75 6 -> 0.8085
    ("claude-haiku-4-5-20251001", (0.1, 0.05, 0.002, 0.0375, 0.08)),  # 1 5 0.1 1.25 2 -> 0.2695
    ("claude-opus-4-5-20251101", (0.5, 0.25, 0.01, 0.1875, 0.4)),  # 5 25 0.5 6.25 10 -> 1.3475
    ("claude-opus-4-6", (0.5, 0.25, 0.01, 0.1875, 0.4)),  # 5 25 0.5 6.25 10 -> 1.3475
    ("claude-opus-4-7", (0.5, 0.25, 0.01, 0.1875, 0.4)),  # 5 25 0.5 6.25 10 -> 1.3475
    ("claude-opus-4-8", (0.5, 0.25, 0.01, 0.1875, 0.4)),  # 5 25 0.5 6.25 10 -> 1.3475
    ("claude-sonnet-4-6", (0.3, 0.15, 0.006, 0.1125, 0.24)),  # 3 15 0.3 3.75 6 -> 0.8085
    ("claude-sonnet-5", (0.3, 0.15, 0.006, 0.1125, 0.24)),  # 3 15 0.3 3.75 6 -> 0.8085
    ("claude-fable-5", (1.0, 0.5, 0.02, 0.375, 0.8)),  # 10 50 1 12.5 20 -> 2.695
    ("claude-mythos-5", (1.0, 0.5, 0.02, 0.375, 0.8)),  # 10 50 1 12.5 20 -> 2.695
    # OpenAI: a cache write is input billed at the input rate (stored apart from input_tokens)
    ("gpt-5", (0.125, 0.1, 0.0025, 0.0375, 0.05)),  # 1.25 10 0.125 1.25 1.25 -> 0.315
    ("gpt-5-codex", (0.125, 0.1, 0.0025, 0.0375, 0.05)),  # 1.25 10 0.125 1.25 1.25 -> 0.315
    ("gemini-2.5-pro", (0.125, 0.1, 0.0025, 0.0, 0.0)),  # 1.25 10 0.125 (<=200K) -> 0.2275
    ("gemini-2.5-flash", (0.03, 0.025, 0.0006, 0.0, 0.0)),  # 0.30 2.50 0.03 -> 0.0556
]
PARTS = ["cost_input_usd", "cost_output_usd", "cost_cache_read_usd", "cost_cache_write_5m_usd",
         "cost_cache_write_1h_usd"]  # fmt: skip


def test_every_token_type_of_every_model_family(store):
    for i, (model, _) in enumerate(FAMILIES):
        insert(store, f"r{i:02d}", model, input=100_000, output=10_000, read=20_000, w5=30_000, w1=40_000)
    rows = priced(store)
    for i, (model, parts) in enumerate(FAMILIES):
        row = rows[f"r{i:02d}"]
        assert row["price_tier"] == "base", model
        assert [row[p] for p in PARTS] == pytest.approx(list(parts), abs=1e-12), model
        assert row["computed_cost_usd"] == pytest.approx(sum(parts), abs=1e-12), model
        assert row["cost_web_search_usd"] == 0
        assert (row["billed_cache_write_5m_tokens"], row["billed_cache_write_1h_tokens"]) == (30_000, 40_000)


def test_web_search_is_priced_per_request_where_the_book_has_a_price(store):
    insert(store, "a", "claude-sonnet-4-5", input=1000, web=3)
    insert(store, "b", "gpt-5", input=1000, web=3)
    rows = priced(store)
    # claude: 1000 x 3 / 1e6 = 0.003 + 3 searches x $0.01 = 0.033
    assert rows["a"]["cost_web_search_usd"] == pytest.approx(0.03, abs=1e-12)
    assert rows["a"]["computed_cost_usd"] == pytest.approx(0.033, abs=1e-12)
    # gpt-5: the reference gives no web-search price -> only 1000 x 1.25 / 1e6 = 0.00125
    assert rows["b"]["computed_cost_usd"] == pytest.approx(0.00125, abs=1e-12)


def test_one_hour_writes_cost_twice_input_not_the_5m_rate(store):
    insert(store, "known_1h", "claude-sonnet-4-5", w5=0, w1=10_000)
    insert(store, "known_5m", "claude-sonnet-4-5", w5=10_000, w1=0)
    insert(store, "unknown", "claude-sonnet-4-5", write=10_000)
    # 1h share larger than the total (inconsistent row): priced as min(1h, total) like Claude Code
    insert(store, "over", "claude-sonnet-4-5", write=10_000, w5=0, w1=12_000)
    five = priced(store, cache_write_ttl="5m")
    # 10_000 x 6 / 1e6 = 0.06 (1h, 2 x input) vs 10_000 x 3.75 / 1e6 = 0.0375 (5m, 1.25 x input)
    assert five["known_1h"]["computed_cost_usd"] == pytest.approx(0.06, abs=1e-12)
    assert five["known_5m"]["computed_cost_usd"] == pytest.approx(0.0375, abs=1e-12)
    assert five["over"]["computed_cost_usd"] == pytest.approx(0.06, abs=1e-12)
    # unknown split: the setting decides (default 5m, as Claude Code assumes)
    assert five["unknown"]["computed_cost_usd"] == pytest.approx(0.0375, abs=1e-12)
    assert five["unknown"]["cache_write_ttl_assumed"] == 1 and five["known_1h"]["cache_write_ttl_assumed"] == 0
    one = priced(store, cache_write_ttl="1h")
    assert one["unknown"]["computed_cost_usd"] == pytest.approx(0.06, abs=1e-12)
    assert one["known_5m"]["computed_cost_usd"] == pytest.approx(0.0375, abs=1e-12)  # a known split is kept
    assert (one["unknown"]["rate_cache_write_5m_per_mtok"], one["unknown"]["rate_cache_write_1h_per_mtok"]) == (
        3.75,
        6.0,
    )


@pytest.mark.parametrize(
    "key, input, tier, expected",
    [
        # input side = input + 60_000 read + 40_000 write (5m); output 1_000
        # 199_999: 99_999 x 3 + 60_000 x 0.3 + 40_000 x 3.75 + 1_000 x 15 = 0.299997 + 0.018 + 0.15 + 0.015
        ("under", 99_999, "base", 0.482997),
        # 200_000 is not above the threshold: 0.3 + 0.018 + 0.15 + 0.015
        ("at", 100_000, "base", 0.483),
        # 200_001: everything at the tier: 100_001 x 6 + 60_000 x 0.6 + 40_000 x 7.5 + 1_000 x 22.5
        #        = 0.600006 + 0.036 + 0.3 + 0.0225
        ("over", 100_001, "long_context", 0.958506),
    ],
)
def test_long_context_reprices_the_whole_request_above_the_threshold(store, key, input, tier, expected):
    insert(store, key, "claude-sonnet-4-5[1m]", input=input, output=1_000, read=60_000, write=40_000)
    row = priced(store)[key]
    assert row["price_tier"] == tier
    assert row["computed_cost_usd"] == pytest.approx(expected, abs=1e-12)


def test_long_context_tier_of_one_hour_writes_and_other_models(store):
    # sonnet 4: 150_000 input + 60_000 1h writes = 210_000 -> tier: 150_000 x 6 + 60_000 x 12 = 0.9 + 0.72
    insert(store, "s4", "claude-sonnet-4-20250514", input=150_000, w1=60_000)
    # gemini 2.5 pro: 150_000 uncached + 60_000 cached = 210_000 prompt -> 150_000 x 2.5 + 60_000 x 0.25
    # + 1_000 output x 15 = 0.375 + 0.015 + 0.015
    insert(store, "g", "gemini-2.5-pro", input=150_000, read=60_000, output=1_000, agent_product="gemini_cli")
    # opus 4.6 has no tier in the book (1M at standard rates): 300_000 x 5 = 1.5
    insert(store, "o", "claude-opus-4-6[1m]", input=300_000)
    rows = priced(store)
    assert (rows["s4"]["price_tier"], rows["s4"]["computed_cost_usd"]) == (
        "long_context",
        pytest.approx(1.62, abs=1e-12),
    )
    assert (rows["g"]["price_tier"], rows["g"]["computed_cost_usd"]) == (
        "long_context",
        pytest.approx(0.405, abs=1e-12),
    )
    assert (rows["o"]["price_tier"], rows["o"]["computed_cost_usd"]) == ("base", pytest.approx(1.5, abs=1e-12))


def test_fast_mode_uses_the_fast_rates(store):
    insert(store, "fast46", "claude-opus-4-6", input=100_000, output=1_000, speed="fast")
    insert(store, "fast48", "claude-opus-4-8", input=100_000, output=1_000, speed="fast")
    insert(store, "normal", "claude-opus-4-6", input=100_000, output=1_000, speed="normal")
    insert(store, "nofast", "claude-sonnet-4-5", input=100_000, output=1_000, speed="fast")
    rows = priced(store)
    # opus 4.6 fast 30 / 150: 3.0 + 0.15; opus 4.8 fast 10 / 50: 1.0 + 0.05; normal 5 / 25: 0.5 + 0.025
    assert (rows["fast46"]["price_tier"], rows["fast46"]["computed_cost_usd"]) == ("fast", pytest.approx(3.15))
    assert rows["fast48"]["computed_cost_usd"] == pytest.approx(1.05, abs=1e-12)
    assert (rows["normal"]["price_tier"], rows["normal"]["computed_cost_usd"]) == ("base", pytest.approx(0.525))
    # no fast rates in the book for sonnet 4.5: base 0.3 + 0.015
    assert (rows["nofast"]["price_tier"], rows["nofast"]["computed_cost_usd"]) == ("base", pytest.approx(0.315))


def test_a_price_change_applies_from_its_day_utc(store, tmp_path):
    path = write_prices(tmp_path, [
        {"id": "claude-haiku-4-5", "prices": [
            {"effective_from": "2026-03-01", **rates(2.0, 10.0, 0.2, 2.5, 4.0, source="test: price doubles")}]},
        {"id": "house-model", "prices": [
            {"effective_from": "2026-06-01", **rates(1.0, 1.0, 0.1, 1.0, 1.0)},
            {"effective_from": "2026-09-01", **rates(3.0, 3.0, 0.3, 3.0, 3.0)}]},
    ])  # fmt: skip
    book = load_book(path)
    utc = UTC
    before, after = datetime(2026, 2, 28, 23, 59, 59, 999000, tzinfo=utc), datetime(2026, 3, 1, tzinfo=utc)
    insert(store, "before", "claude-haiku-4-5", ts=before, input=1_000_000)
    insert(store, "after", "claude-haiku-4-5-20251001", ts=after, input=1_000_000)
    insert(store, "h_early", "house-model", ts=datetime(2026, 5, 1, tzinfo=utc), input=1_000_000)
    insert(store, "h_first", "house-model", ts=datetime(2026, 8, 31, 23, 59, 59, tzinfo=utc), input=1_000_000)
    insert(store, "h_second", "house-model", ts=datetime(2026, 9, 1, tzinfo=utc), input=1_000_000)
    rows = priced(store, book)
    # haiku 4.5: 1_000_000 x 1 = 1.0 up to 2026-02-28 23:59:59.999 UTC, 1_000_000 x 2 = 2.0 from 03-01 00:00
    assert rows["before"]["computed_cost_usd"] == pytest.approx(1.0)
    assert rows["after"]["computed_cost_usd"] == pytest.approx(2.0)
    assert (rows["before"]["price_overridden"], rows["after"]["price_overridden"]) == (0, 1)
    # a model's first price also covers the days before its date: 1.0 on 05-01 and 08-31, 3.0 from 09-01
    assert [rows[k]["computed_cost_usd"] for k in ("h_early", "h_first", "h_second")] == pytest.approx([1.0, 1.0, 3.0])
    # Python agrees
    assert book.resolve("claude-haiku-4-5", before).price.input == 1.0
    assert book.resolve("claude-haiku-4-5", after).price.input == 2.0
    assert [book.resolve("house-model", d).price.input for d in ("2026-05-01", "2026-08-31", "2026-09-01")] == [1, 1, 3]


def test_overrides_replace_and_add_models(store, tmp_path):
    path = write_prices(tmp_path, [
        # same effective_from as the shipped price -> replaces it: input 2.5 instead of 3
        {"id": "claude-sonnet-4-5", "prices": [{"effective_from": "2025-09-29", **rates(2.5, 15, 0.3, 3.75, 6)}]},
        {"id": "my-local-llm", "aliases": ["local-coder"], "prices": [{**rates(0.5, 1, 0.05, 0, 0)}]},
        {"id": "claude-opus-5", "patterns": ["^claude-opus-5"], "prices": [{**rates(5, 25, 0.5, 6.25, 10)}]},
    ])  # fmt: skip
    book = load_book(path)
    insert(store, "sonnet", "claude-sonnet-4-5-20250929", input=100_000)
    insert(store, "local", "Local-Coder-20260101", input=1_000_000, output=1_000_000)
    insert(store, "opus5", "claude-opus-5-20260801", input=100_000)
    rows = priced(store, book)
    # 100_000 x 2.5 / 1e6 = 0.25 (overridden); 1M x 0.5 + 1M x 1 = 1.5; opus 5: 100_000 x 5 = 0.5
    assert (rows["sonnet"]["computed_cost_usd"], rows["sonnet"]["price_overridden"]) == (pytest.approx(0.25), 1)
    assert (rows["local"]["priced_model"], rows["local"]["computed_cost_usd"]) == ("my-local-llm", pytest.approx(1.5))
    assert (rows["opus5"]["priced_model"], rows["opus5"]["computed_cost_usd"]) == ("claude-opus-5", pytest.approx(0.5))


# raw model id as agents and gateways send it -> the book entry
ALIASES = [
    ("claude-sonnet-4-5", "claude-sonnet-4-5"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
    ("Claude-Sonnet-4-5-20250929[1M]", "claude-sonnet-4-5"),
    ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
    ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0",
     "claude-sonnet-4"),
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
    ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"),
    ("eu.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
    ("claude-4-sonnet-20250514", "claude-sonnet-4"),
    ("claude-sonnet-4", "claude-sonnet-4"),
    ("claude-opus-4-1-20250805", "claude-opus-4-1"),
    ("claude-opus-4-20250514", "claude-opus-4"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
    ("claude-3-haiku-20240307", "claude-3-haiku"),
    ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
    ("claude-fable-5[1m]", "claude-fable-5"),
    ("fable-5-preview", "claude-fable-5"),  # by pattern, as Claude Code matches by substring
    ("gpt-5-2025-08-07", "gpt-5"),
    ("openai/gpt-5-codex", "gpt-5-codex"),
    ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("gemini/gemini-2.5-pro", "gemini-2.5-pro"),
    # unknown: no family fallback, no substring guess
    ("claude-opus-5", ""),
    ("claude-3-sonnet-20240229", ""),
    ("claude-sonnet-4-7", ""),
    ("gpt-5-mini", ""),
    ("gemini-2.5-flash-preview-09-2025", ""),
    ("<synthetic>", ""),
    ("", ""),
]  # fmt: skip


def test_aliases_and_suffixes_match_the_same_entry_in_sql_and_python(store):
    book = load_book(user_file="")
    for i, (model, _) in enumerate(ALIASES):
        insert(store, f"m{i:02d}", model, input=1)
    rows = priced(store, book)
    for i, (model, expected) in enumerate(ALIASES):
        assert rows[f"m{i:02d}"]["priced_model"] == expected, model
        assert book.match(model) == expected, model


def test_an_unknown_model_costs_null_never_zero_and_is_listed(store):
    insert(store, "u1", "claude-opus-5", input=1000, reported=0.005)
    insert(store, "u2", "mystery-model", input=1000)
    insert(store, "k", "claude-haiku-4-5", input=1000)
    rows = priced(store)
    for key in ("u1", "u2"):
        assert rows[key]["priced_model"] == "" and rows[key]["price_tier"] == ""
        assert rows[key]["computed_cost_usd"] is None
        assert all(rows[key][p] is None for p in PARTS)
    # auto: the reported cost when there is one, else nothing (not $0)
    assert (rows["u1"]["cost_usd"], rows["u1"]["cost_source"]) == (0.005, "reported")
    assert (rows["u2"]["cost_usd"], rows["u2"]["cost_source"]) == (None, "")
    unknown = sorted({r["model"] for r in rows.values() if r["priced_model"] == ""})
    assert unknown == ["claude-opus-5", "mystery-model"]


def test_cost_modes(store):
    insert(store, "both", "claude-haiku-4-5", input=1_000_000, reported=0.9)  # computed 1.0
    insert(store, "computed_only", "claude-haiku-4-5", input=1_000_000)
    insert(store, "zero_reported", "claude-haiku-4-5", input=1_000_000, reported=0.0)
    insert(store, "free", "claude-haiku-4-5", reported=0.0)  # no tokens: a reported 0 is right
    auto = priced(store, cost_mode="auto")
    assert (auto["both"]["cost_usd"], auto["both"]["cost_source"]) == (0.9, "reported")
    assert (auto["computed_only"]["cost_usd"], auto["computed_only"]["cost_source"]) == (1.0, "computed")
    # a reported 0 for a request that costs something is treated as missing (ccusage #1348)
    assert (auto["zero_reported"]["cost_usd"], auto["zero_reported"]["cost_source"]) == (1.0, "computed")
    assert (auto["free"]["cost_usd"], auto["free"]["cost_source"]) == (0.0, "reported")
    calc = priced(store, cost_mode="calculate")
    assert [calc[k]["cost_usd"] for k in ("both", "computed_only", "zero_reported")] == [1.0, 1.0, 1.0]
    shown = priced(store, cost_mode="display")
    assert [shown[k]["cost_usd"] for k in ("both", "computed_only", "zero_reported")] == [0.9, None, 0.0]


def test_ccusage_figures_for_the_codex_and_gemini_fixtures(store):
    # Codex 0.169.0 fixture: input 2345 of which 1200 cached, output 432 (100 reasoning, inside output).
    # Stored disjoint: input 2345 - 1200 = 1145, cache read 1200.
    # 1145 x 1.25 + 1200 x 0.125 + 432 x 10 = 1431.25 + 150 + 4320 = 5901.25 / 1e6 = 0.00590125 (ccusage)
    insert(store, "codex", "gpt-5-codex", input=1145, read=1200, output=432, agent_product="codex")
    # Gemini CLI 0.61.0 fixture: prompt 3456 of which 1500 cached, candidates 210, thoughts 100.
    # Stored: input 3456 - 1500 = 1956, cache read 1500, output 210 + 100 = 310.
    # 1956 x 0.30 + 1500 x 0.03 + 310 x 2.50 = 586.8 + 45 + 775 = 1406.8 / 1e6 = 0.0014068 (ccusage)
    insert(store, "gemini", "gemini-2.5-flash", input=1956, read=1500, output=310, agent_product="gemini_cli")
    rows = priced(store)
    assert rows["codex"]["computed_cost_usd"] == pytest.approx(0.00590125, abs=1e-12)
    assert rows["gemini"]["computed_cost_usd"] == pytest.approx(0.0014068, abs=1e-12)


def test_same_result_when_joins_return_nulls(store):
    insert(store, "k", "claude-sonnet-4-5", input=1234, output=321, read=91011, write=5678)
    insert(store, "u", "mystery-model", input=1)
    rows = priced(store, settings={"join_use_nulls": 1})
    assert rows["k"]["computed_cost_usd"] == pytest.approx(0.0571128, abs=1e-12)
    assert (rows["u"]["priced_model"], rows["u"]["computed_cost_usd"]) == ("", None)
